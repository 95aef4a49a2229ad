#include "wabridge/whatsapp/graph_api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace wabridge::whatsapp {
namespace {

using nlohmann::json;

TEST(GraphApi, PreAcceptAndAcceptCarryTheAnswerAsSdpTypeAnswer) {
    const std::string sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n";
    for (auto action : {CallAction::pre_accept, CallAction::accept}) {
        json j = json::parse(call_action_body(action, "wacid.ABC=", sdp));
        EXPECT_EQ(j["messaging_product"], "whatsapp");
        EXPECT_EQ(j["call_id"], "wacid.ABC=");
        EXPECT_EQ(j["action"], std::string(to_string(action)));
        EXPECT_EQ(j["session"]["sdp_type"], "answer"); // §3: never "offer"
        EXPECT_EQ(j["session"]["sdp"], sdp);            // CRLF kept byte for byte
        EXPECT_EQ(j.size(), 4u);
    }
    json a = json::parse(call_action_body(CallAction::accept, "c", sdp, "ticket-9"));
    EXPECT_EQ(a["biz_opaque_callback_data"], "ticket-9");
}

TEST(GraphApi, RejectAndTerminateHaveNoSession) {
    for (auto action : {CallAction::reject, CallAction::terminate}) {
        json j = json::parse(call_action_body(action, "c1", "v=0\r\n", "x"));
        EXPECT_EQ(j, json({{"messaging_product", "whatsapp"},
                           {"call_id", "c1"},
                           {"action", std::string(to_string(action))}}));
    }
}

TEST(GraphApi, ReadsTheGraphErrorShape) {
    const char* body = R"({"error":{"message":"(#138008) SDP Validation error","type":"OAuthException",
        "code":138008,"error_data":{"messaging_product":"whatsapp","details":"Invalid fingerprint"},
        "fbtrace_id":"AbC"}})";
    GraphError e = parse_graph_error(400, body);
    EXPECT_EQ(e.http_status, 400);
    EXPECT_EQ(e.code, 138008);
    EXPECT_EQ(e.type, "OAuthException");
    EXPECT_EQ(e.details, "Invalid fingerprint");
    EXPECT_EQ(e.fbtrace_id, "AbC");
    EXPECT_EQ(graph_end_reason(e), "graph_error_138008");
}

TEST(GraphApi, OddBodiesStillGiveAReason) {
    EXPECT_EQ(graph_end_reason(parse_graph_error(502, "<html>bad gateway</html>")), "graph_http_502");
    EXPECT_EQ(graph_end_reason(parse_graph_error(500, R"({"error":{"code":"x"}})")),
              "graph_http_500");
    EXPECT_EQ(graph_end_reason(parse_graph_error(0, "")), "graph_unreachable");
    EXPECT_EQ(parse_graph_error(400, R"({"error":[1,2]})").code, 0);
}

TEST(GraphApi, ConnectCarriesTheOfferAndTheCallIdComesBack) {
    json j = json::parse(connect_body("15551234567", "v=0\r\n", "order-7"));
    EXPECT_EQ(j, json({{"messaging_product", "whatsapp"},
                       {"to", "15551234567"},
                       {"action", "connect"},
                       {"session", {{"sdp_type", "offer"}, {"sdp", "v=0\r\n"}}},
                       {"biz_opaque_callback_data", "order-7"}}));
    EXPECT_EQ(connect_call_id(R"({"messaging_product":"whatsapp","calls":[{"id":"wacid.X="}]})"),
              std::optional<std::string>("wacid.X="));
    EXPECT_FALSE(connect_call_id(R"({"calls":[]})"));
    EXPECT_FALSE(connect_call_id(R"({"calls":[{"id":7}]})"));
    EXPECT_FALSE(connect_call_id("nope"));
}

} // namespace
} // namespace wabridge::whatsapp

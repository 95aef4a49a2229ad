// Sans-IO tests of the control plane's routing: requests built in memory, no sockets.
#include "sdp/sdp_fixtures.hpp"
#include "support/test_data.hpp"
#include "wabridge/api/control_api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace wabridge::api {
namespace {

using nlohmann::json;

const std::string& offer() {
    static const std::string s = test::read_data("sdp/whatsapp/wa-offer-01.sdp");
    return s;
}

loop::Now at(int seconds) {
    return {loop::TimePoint() + std::chrono::hours(2) + std::chrono::seconds(seconds),
            std::chrono::system_clock::time_point() + std::chrono::hours(500000)};
}

struct Api {
    MetricsRegistry metrics;
    Logger log{LogLevel::error, LogFormat::json};
    bool throw_in_answer = false;
    call::SessionRegistry registry;
    ControlApi api;
    explicit Api(std::string token = "", size_t max_sessions = 10)
        : registry(
              {max_sessions, std::chrono::seconds(60), 100},
              [this](std::string_view o) -> Result<sdp::Answer, sdp::Error> {
                  if (throw_in_answer) throw std::runtime_error("boom");
                  return sdp::answer_offer(o, sdp::test_fixtures::local_transport());
              },
              metrics)
        , api(registry, settings(std::move(token)), metrics, log) {
        log.set_sink([](std::string_view) {});
    }
    static ApiSettings settings(std::string token) {
        ApiSettings s;
        s.bearer_token = std::move(token);
        s.version = "9.9.9";
        s.started = at(0).mono;
        s.default_model = "gpt-realtime";
        return s;
    }
    http::Response call(std::string method, std::string path, std::string body = "",
                        std::vector<http::Header> headers = {
                            {"Content-Type", "application/json"}}) {
        http::Request r;
        r.method = std::move(method);
        r.target = path;
        r.path = std::move(path);
        r.body = std::move(body);
        r.headers = std::move(headers);
        return api.handle(r, at(10));
    }
};

std::string code_of(const http::Response& r) {
    return json::parse(r.body)["error"]["code"];
}

std::string header_of(const http::Response& r, const std::string& name) {
    for (const auto& h : r.headers) {
        if (h.name == name) return h.value;
    }
    return "";
}

TEST(ControlApi, HealthShape) {
    Api a;
    auto r = a.call("GET", "/health");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"healthy","activeSessions":0,"uptime":10.0,"version":"9.9.9"})");
    a.registry.begin_drain();
    EXPECT_EQ(json::parse(a.call("GET", "/health").body)["status"], "draining");
}

TEST(ControlApi, CreateReturnsTheEnginesAnswerAndSessionId) {
    Api a;
    auto r = a.call("POST", "/sessions/wacid.X%3D/webrtc", json{{"sdpOffer", offer()}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    EXPECT_EQ(j["success"], true);
    EXPECT_EQ(j["sessionId"], "wacid.X=");
    EXPECT_EQ(j["sdpAnswer"],
              sdp::answer_offer(offer(), sdp::test_fixtures::local_transport())->sdp);
    EXPECT_NE(a.registry.find("wacid.X="), nullptr);
}

TEST(ControlApi, RoutesAndMethods) {
    Api a;
    EXPECT_EQ(a.call("GET", "/nope").status, 404);
    EXPECT_EQ(a.call("GET", "/sessions/a/b/c").status, 404);
    auto r = a.call("GET", "/sessions/x/webrtc");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(header_of(r, "Allow"), "POST");
    EXPECT_EQ(header_of(a.call("POST", "/sessions/x"), "Allow"), "GET, DELETE");
    EXPECT_EQ(a.call("POST", "/health").status, 405);
    EXPECT_EQ(a.call("GET", "/sessions/").status, 200); // trailing slash tolerated
    EXPECT_EQ(a.call("GET", "/sessions").status, 200);
}

TEST(ControlApi, BodyErrors) {
    Api a;
    EXPECT_EQ(code_of(a.call("POST", "/sessions/x/webrtc", "{}", {})), "unsupported_media_type");
    EXPECT_EQ(a.call("POST", "/sessions/x/webrtc", "{}", {{"Content-Type", "text/plain"}}).status,
              415);
    EXPECT_EQ(a.call("POST", "/sessions/x/webrtc", json{{"sdpOffer", offer()}}.dump(),
                     {{"content-type", "Application/JSON; charset=utf-8"}})
                  .status,
              200);
    EXPECT_EQ(code_of(a.call("POST", "/sessions/y/webrtc", "{oops")), "invalid_json");
    EXPECT_EQ(code_of(a.call("POST", "/sessions/y/webrtc", "\"str\"")), "invalid_json");
    EXPECT_EQ(code_of(a.call("POST", "/sessions/y/webrtc", "{}")), "invalid_request");
    EXPECT_EQ(code_of(a.call("POST", "/sessions/y/webrtc", R"({"sdpOffer":1})")),
              "invalid_request");
    EXPECT_EQ(code_of(a.call("POST", "/sessions/y/webrtc",
                             json{{"sdpOffer", offer()}, {"voice", 3}}.dump())),
              "invalid_request");
    EXPECT_EQ(
        code_of(a.call("POST", "/bridge/start",
                       json{{"callId", "z"}, {"sdpOffer", offer()}, {"sessionConfig", 1}}.dump())),
        "invalid_request");
}

TEST(ControlApi, CallIdIsDecodedAndValidated) {
    Api a;
    EXPECT_EQ(code_of(a.call("GET", "/sessions/%zz")), "invalid_call_id");
    EXPECT_EQ(code_of(a.call("GET", "/sessions/a%20b")), "invalid_call_id");
    EXPECT_EQ(code_of(a.call("GET", "/sessions/" + std::string(257, 'a'))), "invalid_call_id");
    EXPECT_EQ(a.call("GET", "/sessions/" + std::string(256, 'a')).status, 404);
    EXPECT_EQ(percent_decode("wacid.AB%3D%3d"), "wacid.AB==");
    EXPECT_EQ(percent_decode("%4"), std::nullopt);
}

TEST(ControlApi, InvalidSdpCarriesTheEnginesReasonCodeAndLine) {
    Api a;
    auto r =
        a.call("POST", "/sessions/p/webrtc",
               json{{"sdpOffer", test::read_data("sdp/whatsapp/wa-offer-04-partial.sdp")}}.dump());
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, R"({"success":false,"error":{"code":"invalid_sdp","message":"line 8: no )"
                      R"(a=fingerprint for DTLS","sdpError":"no_fingerprint","line":8}})");
}

TEST(ControlApi, AuthWithConstantTimeCompare) {
    Api a("tok-123");
    auto denied = a.call("GET", "/sessions");
    EXPECT_EQ(denied.status, 401);
    EXPECT_EQ(header_of(denied, "WWW-Authenticate"), "Bearer");
    for (const char* wrong : {"Bearer tok-12", "Bearer tok-1234", "Bearer TOK-123", "tok-123",
                              "Basic tok-123", "Bearer "}) {
        EXPECT_EQ(a.call("GET", "/sessions", "", {{"Authorization", wrong}}).status, 401) << wrong;
    }
    EXPECT_EQ(a.call("GET", "/sessions", "", {{"Authorization", "Bearer tok-123"}}).status, 200);
    EXPECT_EQ(a.call("GET", "/sessions", "", {{"authorization", "bearer tok-123"}}).status, 200);
    EXPECT_EQ(a.call("GET", "/health").status, 200);
    EXPECT_EQ(a.call("GET", "/metrics").status, 200);
    // Unknown paths stay 404 rather than revealing auth.
    EXPECT_EQ(a.call("GET", "/nope").status, 404);
}

TEST(ControlApi, UnexpectedExceptionBecomes500Json) {
    Api a;
    a.throw_in_answer = true;
    auto r = a.call("POST", "/sessions/t/webrtc", json{{"sdpOffer", offer()}}.dump());
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(code_of(r), "internal_error");
}

TEST(ControlApi, CapacityAndDrainAre503WithRetryAfter) {
    Api a("", 1);
    ASSERT_EQ(a.call("POST", "/sessions/a/webrtc", json{{"sdpOffer", offer()}}.dump()).status, 200);
    auto full = a.call("POST", "/sessions/b/webrtc", json{{"sdpOffer", offer()}}.dump());
    EXPECT_EQ(full.status, 503);
    EXPECT_EQ(code_of(full), "at_capacity");
    EXPECT_EQ(header_of(full, "Retry-After"), "5");
    a.registry.begin_drain();
    a.call("DELETE", "/sessions/a");
    auto drain = a.call("POST", "/sessions/c/webrtc", json{{"sdpOffer", offer()}}.dump());
    EXPECT_EQ(code_of(drain), "draining");
    EXPECT_EQ(header_of(drain, "Retry-After"), "30");
}

TEST(ControlApi, BridgeAliasesUseTheOldShapes) {
    Api a;
    auto r = a.call(
        "POST", "/bridge/start",
        json{{"callId", "c9"},
             {"sdpOffer", offer()},
             {"from", "1555"},
             {"sessionConfig", {{"voice", "marin"}, {"instructions", "x"}, {"temperature", 0.6}}}}
            .dump());
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    EXPECT_EQ(j["callId"], "c9");
    EXPECT_TRUE(j.contains("sdpAnswer"));
    EXPECT_FALSE(j.contains("sessionId"));
    EXPECT_EQ(a.registry.find("c9")->options.instructions, "x");
    EXPECT_EQ(a.call("POST", "/bridge/stop", json{{"callId", "c9"}}.dump()).body,
              R"({"success":true})");
    EXPECT_EQ(a.registry.find("c9")->end_reason, "deleted");
}

TEST(ControlApi, TemperatureIsAcceptedDroppedAndWarnedAboutOnce) {
    Api a;
    std::vector<std::string> lines;
    a.log.set_level(LogLevel::warn);
    a.log.set_sink([&](std::string_view l) { lines.emplace_back(l); });
    for (const char* id : {"t1", "t2"}) {
        auto r = a.call("POST", "/bridge/start",
                        json{{"callId", id},
                             {"sdpOffer", offer()},
                             {"sessionConfig", {{"temperature", 0.8}}}}
                            .dump());
        ASSERT_EQ(r.status, 200) << r.body;
    }
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("temperature is ignored"), std::string::npos) << lines[0];
    EXPECT_EQ(a.call("POST", "/bridge/start",
                     json{{"callId", "t3"},
                          {"sdpOffer", offer()},
                          {"sessionConfig", {{"temperature", "hot"}}}}
                         .dump())
                  .status,
              400);
}

TEST(ControlApi, TurnDetectionModelAndDtmfFromTheRequest) {
    Api a;
    auto r = a.call("POST", "/sessions/td1/webrtc",
                    json{{"sdpOffer", offer()},
                         {"turnDetection",
                          {{"type", "server_vad"},
                           {"threshold", 0.6},
                           {"prefixPaddingMs", 200},
                           {"silence_duration_ms", 700}}},
                         {"dtmfToModel", false}}
                        .dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const call::SessionOptions& o = a.registry.find("td1")->options;
    EXPECT_EQ(o.turn_detection.type, "server_vad");
    EXPECT_DOUBLE_EQ(*o.turn_detection.threshold, 0.6);
    EXPECT_EQ(o.turn_detection.prefix_padding_ms, 200);
    EXPECT_EQ(o.turn_detection.silence_duration_ms, 700);
    EXPECT_FALSE(o.turn_detection.eagerness.has_value());
    EXPECT_EQ(o.dtmf_to_model, false);

    r = a.call("POST", "/bridge/start",
               json{{"callId", "td2"},
                    {"sdpOffer", offer()},
                    {"sessionConfig",
                     {{"model", "gpt-realtime-mini"},
                      {"turnDetection", {{"type", "semantic_vad"}, {"eagerness", "high"}}}}}}
                   .dump());
    ASSERT_EQ(r.status, 200) << r.body;
    const call::SessionOptions& o2 = a.registry.find("td2")->options;
    EXPECT_EQ(o2.model, "gpt-realtime-mini");
    EXPECT_EQ(o2.turn_detection.type, "semantic_vad");
    EXPECT_EQ(o2.turn_detection.eagerness, "high");
    EXPECT_FALSE(o2.dtmf_to_model.has_value());
}

TEST(ControlApi, BadTurnDetectionIsA400NamingTheField) {
    Api a;
    const std::pair<json, std::string> cases[] = {
        {json{{"type", "none"}}, "turnDetection.type"},
        {json{{"threshold", 1.5}}, "turnDetection.threshold"},
        {json{{"threshold", "high"}}, "turnDetection.threshold"},
        {json{{"silenceDurationMs", 50}}, "turnDetection.silenceDurationMs"},
        {json{{"silenceDurationMs", 500.5}}, "turnDetection.silenceDurationMs"},
        {json{{"prefixPaddingMs", -1}}, "turnDetection.prefixPaddingMs"},
        {json{{"eagerness", "now"}}, "turnDetection.eagerness"},
        {json{{"silence", 500}}, "turnDetection.silence"},
        {json(7), "turnDetection must be an object"},
    };
    int n = 0;
    for (const auto& [td, field] : cases) {
        auto r = a.call("POST", "/sessions/bad" + std::to_string(n++) + "/webrtc",
                        json{{"sdpOffer", offer()}, {"turnDetection", td}}.dump());
        EXPECT_EQ(r.status, 400) << td.dump();
        EXPECT_EQ(code_of(r), "invalid_request");
        EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find(field),
                  std::string::npos)
            << r.body;
    }
    auto r = a.call("POST", "/sessions/bad-dtmf/webrtc",
                    json{{"sdpOffer", offer()}, {"dtmfToModel", "yes"}}.dump());
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(a.registry.active(), 0u);
}

TEST(ControlApi, CountsRequestsByRouteAndStatus) {
    Api a;
    a.call("GET", "/health");
    a.call("GET", "/nope");
    a.call("GET", "/sessions/x");
    std::string text = a.metrics.render();
    EXPECT_NE(text.find(R"(wabridge_http_requests_total{route="/health",status="200"} 1)"),
              std::string::npos);
    EXPECT_NE(text.find(R"(wabridge_http_requests_total{route="unmatched",status="404"} 1)"),
              std::string::npos);
    EXPECT_NE(
        text.find(R"(wabridge_http_requests_total{route="/sessions/{callId}",status="404"} 1)"),
        std::string::npos);
}

TEST(ControlApi, MetricsEndpointIsPrometheusText) {
    Api a;
    auto r = a.call("GET", "/metrics");
    EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body.find("# TYPE wabridge_sessions_active gauge"), std::string::npos);
}

} // namespace
} // namespace wabridge::api

// The calls webhook parser (whatsapp-calling.md §2.3–2.7) over payloads shaped like Meta's
// (tests/data/whatsapp/: envelopes as in §2.3, the live offer wa-offer-01.sdp and Meta's doc
// answer as session.sdp, ids and phone numbers made up), then malformed input of every kind:
// wrong JSON types at every level, truncation, deep nesting, huge arrays, amplification.
#include "support/test_data.hpp"
#include "wabridge/whatsapp/webhook.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace wabridge::whatsapp {
namespace {

using nlohmann::json;
using test::read_data;
using Code = WebhookError::Code;
using Kind = CallEvent::Kind;

constexpr std::string_view kUserCall =
    "wacid.HBgLMTU1NTAxMjM0NTYVAgARGCBBMzk0RDQ1QTZGMjRBNzE1NDlFMzFCNTBDRDI1RkU3HBgLMTU1NTA3ODM4ODEV"
    "AgAA";
constexpr std::string_view kBusinessCall =
    "wacid.HBgLMTU1NTAxMjM0NTYVAgARGCA4QjFGMzE3Mjc0QzQ1RDU1QkM5NjlFRTJDOEQ5RDQ5OBwYCzE1NTUwNzgzOD"
    "gxFQIAAA==";
constexpr std::string_view kSecondUserCall =
    "wacid.HBgLMTU1NTAxOTg3NjUVAgARGCAyRjlFQjc0QjlCMjM0NjRBOTU0RUE1QjY0QjU4QkNGMRwYCzE1NTUwNzgzOD"
    "gxFQIAAA==";

WebhookBatch parse_ok(const std::string& body) {
    auto r = parse_webhook(body);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r.value()) : WebhookBatch{};
}

WebhookBatch parse_ok(const json& body) {
    return parse_ok(body.dump());
}

Code parse_error(std::string_view body) {
    auto r = parse_webhook(body);
    EXPECT_FALSE(r.ok());
    return r.ok() ? Code::not_json : r.error().code;
}

json load(const std::string& name) {
    const std::string text = read_data("whatsapp/" + name);
    EXPECT_FALSE(text.empty()) << "missing tests/data/whatsapp/" << name;
    return json::parse(text);
}

// The first change's value of a payload, to edit in place.
json& value_of(json& body) {
    return body["entry"][0]["changes"][0]["value"];
}

// An envelope around one calls change with this value.
json envelope(json value) {
    return json{
        {"object", "whatsapp_business_account"},
        {"entry",
         json::array(
             {{{"id", "1"},
               {"changes", json::array({{{"field", "calls"}, {"value", std::move(value)}}})}}})}};
}

// --- the realistic payloads ------------------------------------------------------------------

TEST(Webhook, ConnectUserInitiated) {
    const WebhookBatch b = parse_ok(read_data("whatsapp/connect-user-initiated.json"));
    EXPECT_EQ(b.ignored_changes, 0u);
    EXPECT_EQ(b.invalid_items, 0u);
    EXPECT_TRUE(b.statuses.empty());
    ASSERT_EQ(b.calls.size(), 1u);
    const CallEvent& c = b.calls[0];
    EXPECT_EQ(c.kind, Kind::connect);
    EXPECT_EQ(c.event, "connect");
    EXPECT_EQ(c.call_id, kUserCall);
    EXPECT_EQ(c.phone_number_id, "106540352242922");
    EXPECT_EQ(c.display_phone_number, "15550783881");
    EXPECT_EQ(c.from, "15550123456");
    EXPECT_EQ(c.to, "15550783881");
    EXPECT_EQ(c.direction, "USER_INITIATED");
    EXPECT_EQ(c.timestamp, "1760681506");
    EXPECT_EQ(c.sdp_type, "offer");
    // The offer comes out byte for byte as captured, CRLFs included (§2.4, §5 item 2).
    EXPECT_EQ(c.sdp, read_data("sdp/whatsapp/wa-offer-01.sdp"));
    EXPECT_NE(c.sdp.find("a=ice-pwd:F6/jjqL0/8/Dzluc0IoZEQ==\r\n"), std::string::npos);
    EXPECT_EQ(c.contact_name, "Ana Souza");
    EXPECT_EQ(c.status, "");
    EXPECT_FALSE(c.duration_seconds.has_value());
    EXPECT_EQ(c.start_time, "");
    EXPECT_EQ(c.end_time, "");
    EXPECT_EQ(c.biz_opaque_callback_data, "");
    EXPECT_TRUE(c.errors.empty());
}

TEST(Webhook, ConnectBusinessInitiatedCarriesMetasAnswer) {
    const WebhookBatch b = parse_ok(read_data("whatsapp/connect-business-answer.json"));
    ASSERT_EQ(b.calls.size(), 1u);
    const CallEvent& c = b.calls[0];
    EXPECT_EQ(c.kind, Kind::connect);
    EXPECT_EQ(c.call_id, kBusinessCall);
    EXPECT_EQ(c.direction, "BUSINESS_INITIATED");
    EXPECT_EQ(c.sdp_type, "answer");
    EXPECT_EQ(c.sdp, read_data("sdp/whatsapp/wa-doc-answer-bic-from-meta.sdp"));
    EXPECT_EQ(c.from, "15550783881");
    EXPECT_EQ(c.to, "15550123456");
    EXPECT_EQ(c.contact_name, ""); // §2.5: contacts may be absent
    EXPECT_EQ(c.biz_opaque_callback_data, "campaign=renewals;ticket=8841");
    EXPECT_EQ(c.timestamp, "1762336250");
    EXPECT_EQ(b.invalid_items, 0u);
}

TEST(Webhook, TerminateFailedWithErrorsAtBothLevels) {
    const WebhookBatch b = parse_ok(read_data("whatsapp/terminate-failed-138021.json"));
    ASSERT_EQ(b.calls.size(), 1u);
    const CallEvent& c = b.calls[0];
    EXPECT_EQ(c.kind, Kind::terminate);
    EXPECT_EQ(c.event, "terminate");
    EXPECT_EQ(c.call_id, kUserCall);
    EXPECT_EQ(c.status, "FAILED");
    ASSERT_TRUE(c.duration_seconds.has_value());
    EXPECT_EQ(*c.duration_seconds, 20);
    EXPECT_EQ(c.start_time, "1760681509");
    EXPECT_EQ(c.end_time, "1760681529");
    EXPECT_EQ(c.timestamp, "1760681529");
    EXPECT_EQ(c.sdp, "");
    ASSERT_EQ(c.errors.size(), 2u);
    // The call object's own errors first, then value.errors[] (§2.7).
    EXPECT_EQ(c.errors[0].code, 138021);
    EXPECT_EQ(c.errors[0].title, "WhatsApp client terminated the call due to not receiving any "
                                 "media for a long time");
    EXPECT_EQ(c.errors[0].message, c.errors[0].title);
    EXPECT_EQ(c.errors[0].details, "Media receive timeout");
    EXPECT_EQ(c.errors[1].code, 138021);
    EXPECT_EQ(c.errors[1].title, "Call terminated");
    EXPECT_EQ(c.errors[1].details, "No media received by the WhatsApp client for 20 seconds");
}

TEST(Webhook, StatusesRingingAccepted) {
    const WebhookBatch b = parse_ok(read_data("whatsapp/statuses-ringing-accepted.json"));
    EXPECT_TRUE(b.calls.empty());
    ASSERT_EQ(b.statuses.size(), 2u);
    EXPECT_EQ(b.statuses[0].status, "RINGING");
    EXPECT_EQ(b.statuses[1].status, "ACCEPTED");
    for (const StatusEvent& s : b.statuses) {
        EXPECT_EQ(s.call_id, kBusinessCall);
        EXPECT_EQ(s.phone_number_id, "106540352242922");
        EXPECT_EQ(s.recipient_id, "15550123456");
        EXPECT_EQ(s.biz_opaque_callback_data, "campaign=renewals;ticket=8841");
        EXPECT_TRUE(s.errors.empty());
    }
    EXPECT_EQ(b.statuses[0].timestamp, "1762336244");
    EXPECT_EQ(b.statuses[1].timestamp, "1762336249");
}

TEST(Webhook, BatchedEntriesAndChanges) {
    const WebhookBatch b = parse_ok(read_data("whatsapp/batched-multi-entry.json"));
    // messages (a call_permission_reply, §2.8) and account_update are not routed.
    EXPECT_EQ(b.ignored_changes, 2u);
    EXPECT_EQ(b.invalid_items, 0u);
    ASSERT_EQ(b.calls.size(), 2u);
    ASSERT_EQ(b.statuses.size(), 1u);
    // In body order: the connect from the first entry, the terminate from the second.
    EXPECT_EQ(b.calls[0].kind, Kind::connect);
    EXPECT_EQ(b.calls[0].call_id, kSecondUserCall);
    EXPECT_EQ(b.calls[0].from, "15550198765");
    EXPECT_EQ(b.calls[0].contact_name, "Kofi Mensah"); // the contact whose wa_id is `from`
    EXPECT_EQ(b.calls[0].timestamp, "1762336300");
    EXPECT_EQ(b.calls[0].sdp, read_data("sdp/whatsapp/wa-offer-01.sdp"));
    EXPECT_EQ(b.calls[1].kind, Kind::terminate);
    EXPECT_EQ(b.calls[1].call_id, kUserCall);
    EXPECT_EQ(b.calls[1].status, "COMPLETED");
    EXPECT_EQ(b.calls[1].duration_seconds, std::optional<int64_t>(100));
    EXPECT_EQ(b.calls[1].contact_name, "");
    EXPECT_EQ(b.statuses[0].status, "REJECTED");
    EXPECT_EQ(b.statuses[0].call_id, kBusinessCall);
    EXPECT_EQ(b.statuses[0].biz_opaque_callback_data, "");
    for (const CallEvent& c : b.calls)
        EXPECT_EQ(c.phone_number_id, "106540352242922");
}

// --- envelope errors -------------------------------------------------------------------------

TEST(Webhook, NotJson) {
    const std::string full = read_data("whatsapp/connect-user-initiated.json");
    EXPECT_EQ(parse_error(""), Code::not_json);
    EXPECT_EQ(parse_error("   "), Code::not_json);
    EXPECT_EQ(parse_error("{"), Code::not_json);
    EXPECT_EQ(parse_error("{\"object\":\"whatsapp_business_account\",}"), Code::not_json);
    EXPECT_EQ(parse_error("{} {}"), Code::not_json);
    EXPECT_EQ(parse_error("// comment\n{}"), Code::not_json);
    EXPECT_EQ(parse_error("{\"a\":\"\xff\"}"), Code::not_json); // invalid UTF-8
    EXPECT_EQ(parse_error("{\"a\":1e99999}"), Code::not_json);  // number overflow
    // Every truncation of a real payload is refused as not JSON, never half-parsed.
    for (size_t n = 0; n < full.size(); n += 7)
        EXPECT_EQ(parse_error(std::string_view(full).substr(0, n)), Code::not_json) << n;
}

TEST(Webhook, EnvelopeShape) {
    EXPECT_EQ(parse_error("[]"), Code::not_object);
    EXPECT_EQ(parse_error("\"whatsapp_business_account\""), Code::not_object);
    EXPECT_EQ(parse_error("null"), Code::not_object);
    EXPECT_EQ(parse_error("17"), Code::not_object);
    EXPECT_EQ(parse_error("{}"), Code::wrong_object);
    EXPECT_EQ(parse_error(R"({"object":"page","entry":[{}]})"), Code::wrong_object);
    EXPECT_EQ(parse_error(R"({"object":5,"entry":[{}]})"), Code::wrong_object);
    EXPECT_EQ(parse_error(R"({"object":["whatsapp_business_account"],"entry":[{}]})"),
              Code::wrong_object);
    EXPECT_EQ(parse_error(R"({"object":"WHATSAPP_BUSINESS_ACCOUNT","entry":[{}]})"),
              Code::wrong_object);
    EXPECT_EQ(parse_error(R"({"object":"whatsapp_business_account"})"), Code::no_entries);
    EXPECT_EQ(parse_error(R"({"object":"whatsapp_business_account","entry":[]})"),
              Code::no_entries);
    EXPECT_EQ(parse_error(R"({"object":"whatsapp_business_account","entry":{}})"),
              Code::no_entries);
    EXPECT_EQ(parse_error(R"({"object":"whatsapp_business_account","entry":null})"),
              Code::no_entries);
    EXPECT_EQ(to_string(Code::not_json), "not_json");
    EXPECT_EQ(to_string(Code::not_object), "not_object");
    EXPECT_EQ(to_string(Code::wrong_object), "wrong_object");
    EXPECT_EQ(to_string(Code::no_entries), "no_entries");
    EXPECT_EQ(to_string(Code::too_large), "too_large");
}

TEST(Webhook, BodySizeCap) {
    // A valid payload padded with whitespace up to the cap parses; one byte more does not.
    std::string body = read_data("whatsapp/terminate-failed-138021.json");
    body.resize(kMaxWebhookBodyBytes, ' ');
    EXPECT_EQ(parse_ok(body).calls.size(), 1u);
    body.push_back(' ');
    auto r = parse_webhook(body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::too_large);
    EXPECT_NE(r.error().message.find("4194305"), std::string::npos);
}

TEST(Webhook, DeepNesting) {
    // Two million '[' would be gigabytes of nodes: refused before parsing.
    EXPECT_EQ(parse_error(std::string(2'000'000, '[')), Code::too_large);
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    EXPECT_EQ(parse_error(deep), Code::too_large);
    // Nesting inside an unknown field, within the limit, is fine and ignored.
    json body = load("connect-user-initiated.json");
    json nested = json::array();
    for (int i = 0; i < 50; ++i)
        nested = json::array({nested});
    value_of(body)["extra"] = nested;
    EXPECT_EQ(parse_ok(body).calls.size(), 1u);
    // ...past it, the body is refused.
    for (int i = 0; i < 20; ++i)
        nested = json::object({{"x", nested}});
    value_of(body)["extra"] = nested;
    EXPECT_EQ(parse_error(body.dump()), Code::too_large);
    // Brackets inside strings do not count as nesting.
    body = load("connect-user-initiated.json");
    value_of(body)["calls"][0]["biz_opaque_callback_data"] = std::string(10'000, '[');
    const WebhookBatch b = parse_ok(body);
    ASSERT_EQ(b.calls.size(), 1u);
    EXPECT_EQ(b.calls[0].biz_opaque_callback_data, std::string(10'000, '['));
    // Escaped quotes do not end a string for the depth scan either.
    value_of(body)["calls"][0]["biz_opaque_callback_data"] = "\\\"" + std::string(100, '{');
    EXPECT_EQ(parse_ok(body).calls.size(), 1u);
}

// --- wrong types everywhere ------------------------------------------------------------------

TEST(Webhook, WrongTypesAtEntryAndChangeLevel) {
    json body = load("connect-user-initiated.json");
    json good_entry = body["entry"][0];
    body["entry"] =
        json::array({5, "entry", nullptr, json::array(), json::object(), json{{"changes", 7}},
                     json{{"changes", json::object()}}, good_entry});
    WebhookBatch b = parse_ok(body);
    EXPECT_EQ(b.calls.size(), 1u);
    EXPECT_EQ(b.invalid_items, 7u);

    body = load("connect-user-initiated.json");
    json good_change = body["entry"][0]["changes"][0];
    body["entry"][0]["changes"] = json::array(
        {1, "x", nullptr, json::array(), json{{"field", "calls"}}, // no value: invalid
         json{{"field", "calls"}, {"value", "text"}},              // value not an object: invalid
         json{{"field", "calls"}, {"value", json::array()}},
         json{{"field", 5}, {"value", value_of(body)}},          // field not a string: ignored
         json{{"value", value_of(body)}},                        // no field: ignored
         json{{"field", "Calls"}, {"value", value_of(body)}},    // exact name only: ignored
         json{{"field", "messages"}, {"value", value_of(body)}}, // a calls-shaped messages change
         good_change});
    b = parse_ok(body);
    EXPECT_EQ(b.calls.size(), 1u);
    EXPECT_EQ(b.invalid_items, 7u);
    EXPECT_EQ(b.ignored_changes, 4u);
}

TEST(Webhook, WrongTypesAtItemLevel) {
    json body = load("connect-user-initiated.json");
    const json good = value_of(body)["calls"][0];
    json too_long = good;
    too_long["id"] = "wacid." + std::string(kMaxCallIdBytes, 'A');
    json longest = good;
    longest["id"] = std::string(kMaxCallIdBytes, 'A');
    value_of(body)["calls"] =
        json::array({7, "wacid.x", nullptr, true, json::array({good}), json::object(),
                     json{{"id", 12345}}, json{{"id", ""}}, json{{"id", json::array({"wacid.x"})}},
                     json{{"id", nullptr}}, too_long, longest, good});
    WebhookBatch b = parse_ok(body);
    EXPECT_EQ(b.invalid_items, 11u);
    ASSERT_EQ(b.calls.size(), 2u);
    EXPECT_EQ(b.calls[0].call_id, std::string(kMaxCallIdBytes, 'A'));
    EXPECT_EQ(b.calls[1].call_id, kUserCall);

    // calls / statuses that are not arrays are one invalid item each.
    for (json bad : {json(5), json("x"), json::object(), json(nullptr)}) {
        json v = value_of(body);
        v["calls"] = bad;
        v["statuses"] = bad;
        b = parse_ok(envelope(v));
        EXPECT_TRUE(b.calls.empty());
        EXPECT_EQ(b.invalid_items, 2u) << bad.dump();
        EXPECT_EQ(b.ignored_changes, 0u);
    }

    // Statuses follow the same rules.
    json statuses = load("statuses-ringing-accepted.json");
    value_of(statuses)["statuses"].push_back(json{{"status", "RINGING"}});
    value_of(statuses)["statuses"].push_back(json{{"id", 1}, {"status", "RINGING"}});
    value_of(statuses)["statuses"].push_back("RINGING");
    b = parse_ok(statuses);
    EXPECT_EQ(b.statuses.size(), 2u);
    EXPECT_EQ(b.invalid_items, 3u);
}

TEST(Webhook, WrongTypesAtFieldLevelCountAsAbsent) {
    json v = envelope(json::object());
    json call = {{"id", "wacid.1"},
                 {"event", 5},
                 {"from", json::array({"1555"})},
                 {"to", json::object()},
                 {"direction", true},
                 {"timestamp", nullptr},
                 {"session", "v=0"},
                 {"status", 3},
                 {"duration", "twenty"},
                 {"start_time", json::array()},
                 {"end_time", false},
                 {"biz_opaque_callback_data", 12},
                 {"errors", "138021"}};
    json value = {{"metadata", "106540352242922"},
                  {"contacts", 1},
                  {"calls", {call}},
                  {"errors", json::object({{"code", 1}})}};
    WebhookBatch b = parse_ok(envelope(value));
    ASSERT_EQ(b.calls.size(), 1u);
    const CallEvent& c = b.calls[0];
    EXPECT_EQ(c.call_id, "wacid.1");
    EXPECT_EQ(c.event, "");
    EXPECT_EQ(c.kind, Kind::other);
    EXPECT_EQ(c.from, "");
    EXPECT_EQ(c.to, "");
    EXPECT_EQ(c.direction, "");
    EXPECT_EQ(c.timestamp, "");
    EXPECT_EQ(c.sdp_type, "");
    EXPECT_EQ(c.sdp, "");
    EXPECT_EQ(c.status, "");
    EXPECT_FALSE(c.duration_seconds);
    EXPECT_EQ(c.start_time, "");
    EXPECT_EQ(c.end_time, "");
    EXPECT_EQ(c.biz_opaque_callback_data, "");
    EXPECT_EQ(c.phone_number_id, "");
    EXPECT_EQ(c.contact_name, "");
    EXPECT_TRUE(c.errors.empty());

    // Nested objects of the wrong shape.
    value = {
        {"metadata", {{"phone_number_id", json::array()}, {"display_phone_number", 15550783881}}},
        {"contacts", json::array({5, json{{"profile", "Ana"}, {"wa_id", "1"}},
                                  json{{"profile", {{"name", 7}}}, {"wa_id", "2"}}})},
        {"calls",
         {{{"id", "wacid.1"}, {"from", "1"}, {"session", {{"sdp_type", 1}, {"sdp", {1}}}}},
          {{"id", "wacid.2"}, {"from", "2"}, {"event", "connect"}}}}};
    b = parse_ok(envelope(value));
    ASSERT_EQ(b.calls.size(), 2u);
    EXPECT_EQ(b.calls[0].phone_number_id, "");
    EXPECT_EQ(b.calls[0].display_phone_number, "15550783881"); // a number is printed
    EXPECT_EQ(b.calls[0].sdp_type, "");
    EXPECT_EQ(b.calls[0].sdp, "");
    EXPECT_EQ(b.calls[0].contact_name, "");
    EXPECT_EQ(b.calls[1].contact_name, "");
    EXPECT_EQ(b.calls[1].kind, Kind::connect);
}

TEST(Webhook, TimestampsAsStringsOrNumbers) {
    const auto ts = [](json t) {
        WebhookBatch b =
            parse_ok(envelope({{"calls", {{{"id", "wacid.1"}, {"timestamp", t}}}},
                               {"statuses", {{{"id", "wacid.1"}, {"timestamp", t}}}}}));
        EXPECT_EQ(b.calls.size(), 1u);
        EXPECT_EQ(b.statuses.size(), 1u);
        if (b.calls.empty() || b.statuses.empty()) return std::string("?");
        EXPECT_EQ(b.calls[0].timestamp, b.statuses[0].timestamp);
        return b.calls[0].timestamp;
    };
    EXPECT_EQ(ts("1760681506"), "1760681506");
    EXPECT_EQ(ts(1760681506), "1760681506");
    EXPECT_EQ(ts(json::parse("1.760681506e9")), "1760681506");
    EXPECT_EQ(ts(json::parse("1760681506.0")), "1760681506");
    EXPECT_EQ(ts(json::parse("18446744073709551615")), "18446744073709551615");
    EXPECT_EQ(ts(-1), "-1");
    EXPECT_EQ(ts(json::parse("1760681506.25")), "1760681506.25");
    EXPECT_EQ(ts(json::parse("1e300")), "1e+300");
    EXPECT_EQ(ts(true), "");
    EXPECT_EQ(ts(nullptr), "");
    EXPECT_EQ(ts(json::object()), "");
    // start_time/end_time/from/to/recipient_id the same way.
    WebhookBatch b =
        parse_ok(envelope({{"calls",
                            {{{"id", "wacid.1"},
                              {"start_time", 1760681509},
                              {"end_time", "1760681529"},
                              {"from", 15550123456},
                              {"to", "15550783881"}}}},
                           {"statuses", {{{"id", "wacid.1"}, {"recipient_id", 15550123456}}}}}));
    ASSERT_EQ(b.calls.size(), 1u);
    EXPECT_EQ(b.calls[0].start_time, "1760681509");
    EXPECT_EQ(b.calls[0].end_time, "1760681529");
    EXPECT_EQ(b.calls[0].from, "15550123456");
    EXPECT_EQ(b.statuses[0].recipient_id, "15550123456");
}

TEST(Webhook, Durations) {
    const auto duration = [](json d) {
        WebhookBatch b = parse_ok(
            envelope({{"calls", {{{"id", "wacid.1"}, {"event", "terminate"}, {"duration", d}}}}}));
        EXPECT_EQ(b.calls.size(), 1u);
        return b.calls.empty() ? std::nullopt : b.calls[0].duration_seconds;
    };
    EXPECT_EQ(duration(20), 20);
    EXPECT_EQ(duration(0), 0);
    EXPECT_EQ(duration("20"), 20);
    EXPECT_EQ(duration(json::parse("20.0")), 20);
    EXPECT_EQ(duration(json::parse("9223372036854775807")), INT64_MAX);
    EXPECT_EQ(duration(json::parse("9223372036854775808")), std::nullopt);
    EXPECT_EQ(duration("9223372036854775808"), std::nullopt);
    EXPECT_EQ(duration(-5), std::nullopt);
    EXPECT_EQ(duration("-5"), std::nullopt);
    EXPECT_EQ(duration(json::parse("20.5")), std::nullopt);
    EXPECT_EQ(duration(json::parse("1e300")), std::nullopt);
    EXPECT_EQ(duration(""), std::nullopt);
    EXPECT_EQ(duration(" 20"), std::nullopt);
    EXPECT_EQ(duration("20s"), std::nullopt);
    EXPECT_EQ(duration(nullptr), std::nullopt);
    EXPECT_EQ(duration(json::array({20})), std::nullopt);
}

TEST(Webhook, StatusesAreUpperCased) {
    json body = load("terminate-failed-138021.json");
    for (auto [given, want] : std::vector<std::pair<json, std::string>>{
             {"Failed", "FAILED"},
             {"completed", "COMPLETED"},
             {json::array({"Completed"}), "COMPLETED"}, // the doc's ["Failed","Completed"] form
             {json::array({"Failed", "Completed"}), ""},
             {json::array({1}), ""},
             {"ümlaut", "üMLAUT"}, // ASCII only
         }) {
        value_of(body)["calls"][0]["status"] = given;
        const WebhookBatch b = parse_ok(body);
        ASSERT_EQ(b.calls.size(), 1u);
        EXPECT_EQ(b.calls[0].status, want) << given.dump();
    }
    json statuses = load("statuses-ringing-accepted.json");
    value_of(statuses)["statuses"][0]["status"] = "ringing";
    value_of(statuses)["statuses"][1]["status"] = "Rejected";
    const WebhookBatch b = parse_ok(statuses);
    ASSERT_EQ(b.statuses.size(), 2u);
    EXPECT_EQ(b.statuses[0].status, "RINGING");
    EXPECT_EQ(b.statuses[1].status, "REJECTED");
}

TEST(Webhook, EventKindsAndDirections) {
    EXPECT_EQ(call_event_kind("connect"), Kind::connect);
    EXPECT_EQ(call_event_kind("terminate"), Kind::terminate);
    EXPECT_EQ(call_event_kind("Connect"), Kind::other);
    EXPECT_EQ(call_event_kind("connect "), Kind::other);
    EXPECT_EQ(call_event_kind(""), Kind::other);
    json value = {{"calls",
                   {{{"id", "1"}, {"event", "reject"}, {"direction", "user_initiated"}},
                    {{"id", "2"}, {"event", "TERMINATE"}, {"direction", "Business_Initiated"}},
                    {{"id", "3"}, {"event", "terminate"}, {"direction", "SIDEWAYS"}}}}};
    const WebhookBatch b = parse_ok(envelope(value));
    ASSERT_EQ(b.calls.size(), 3u);
    EXPECT_EQ(b.calls[0].kind, Kind::other);
    EXPECT_EQ(b.calls[0].event, "reject");
    EXPECT_EQ(b.calls[0].direction, "USER_INITIATED");
    EXPECT_EQ(b.calls[1].kind, Kind::other);
    EXPECT_EQ(b.calls[1].event, "TERMINATE");
    EXPECT_EQ(b.calls[1].direction, "BUSINESS_INITIATED");
    EXPECT_EQ(b.calls[2].kind, Kind::terminate);
    EXPECT_EQ(b.calls[2].direction, "");
}

TEST(Webhook, LegacyConnectionSdpIsIgnored) {
    json body = load("connect-user-initiated.json");
    json& call = value_of(body)["calls"][0];
    // The legacy field held JSON in a string (§2.4).
    call["connection"] = {{"webrtc", {{"sdp", R"({"type":"offer","sdp":"v=0\r\nlegacy"})"}}}};
    WebhookBatch b = parse_ok(body);
    ASSERT_EQ(b.calls.size(), 1u);
    EXPECT_EQ(b.calls[0].sdp, read_data("sdp/whatsapp/wa-offer-01.sdp"));
    call.erase("session");
    b = parse_ok(body);
    ASSERT_EQ(b.calls.size(), 1u);
    EXPECT_EQ(b.calls[0].sdp, "");
    EXPECT_EQ(b.calls[0].sdp_type, "");
}

TEST(Webhook, ContactNames) {
    const auto name_for = [](json from, json contacts) {
        json call = {{"id", "wacid.1"}, {"event", "connect"}};
        if (!from.is_null()) call["from"] = from;
        WebhookBatch b = parse_ok(envelope({{"contacts", contacts}, {"calls", {call}}}));
        EXPECT_EQ(b.calls.size(), 1u);
        return b.calls.empty() ? std::string("?") : b.calls[0].contact_name;
    };
    const json ana = {{"profile", {{"name", "Ana"}}}, {"wa_id", "111"}};
    const json kofi = {{"profile", {{"name", "Kofi"}}}, {"wa_id", "222"}};
    EXPECT_EQ(name_for("222", {ana, kofi}), "Kofi");
    EXPECT_EQ(name_for("111", {ana, kofi}), "Ana");
    EXPECT_EQ(name_for("333", {ana, kofi}), "");  // several, none matches
    EXPECT_EQ(name_for("333", {kofi}), "Kofi");   // the only contact
    EXPECT_EQ(name_for(nullptr, {kofi}), "Kofi"); // username user: no `from` (§2.3)
    EXPECT_EQ(name_for(nullptr, {ana, kofi}), "");
    EXPECT_EQ(name_for(222, {ana, kofi}), "Kofi"); // numbers compare as their text
    // A contact without wa_id (username) and no from.
    EXPECT_EQ(name_for(nullptr, {{{"profile", {{"name", "user.name"}}}, {"user_id", "US.1"}}}),
              "user.name");
    // The first contact with a wa_id wins.
    json ana2 = ana;
    ana2["profile"]["name"] = "Ana Two";
    EXPECT_EQ(name_for("111", {ana, ana2}), "Ana");
    // Names are capped at 256 bytes, never splitting a UTF-8 sequence.
    json longname = ana;
    std::string euros;
    for (int i = 0; i < 100; ++i)
        euros += "\xe2\x82\xac"; // 3 bytes each
    longname["profile"]["name"] = euros;
    EXPECT_EQ(name_for("111", {longname}), euros.substr(0, 255));
}

TEST(Webhook, ErrorItems) {
    json errors = json::array(
        {{{"code", "138021"}, {"title", "t"}, {"message", "m"}, {"error_data", {{"details", "d"}}}},
         {{"code", json::parse("4294967296")}, {"title", 5}},
         {{"code", -1}, {"error_data", "details"}},
         {{"code", 138021.0}},
         {{"code", json::parse("2147483647")}},
         {{"code", json::parse("2147483648")}},
         5,
         "error",
         nullptr,
         json::object()});
    WebhookBatch b = parse_ok(envelope({{"calls", {{{"id", "wacid.1"}, {"errors", errors}}}}}));
    ASSERT_EQ(b.calls.size(), 1u);
    const auto& e = b.calls[0].errors;
    ASSERT_EQ(e.size(), 7u); // the non-objects are skipped
    EXPECT_EQ(e[0].code, 138021);
    EXPECT_EQ(e[0].title, "t");
    EXPECT_EQ(e[0].message, "m");
    EXPECT_EQ(e[0].details, "d");
    EXPECT_EQ(e[1].code, 0);
    EXPECT_EQ(e[1].title, "");
    EXPECT_EQ(e[2].code, 0);
    EXPECT_EQ(e[2].details, "");
    EXPECT_EQ(e[3].code, 138021);
    EXPECT_EQ(e[4].code, 2147483647);
    EXPECT_EQ(e[5].code, 0);
    EXPECT_EQ(e[6].code, 0);
}

TEST(Webhook, ErrorsAreCappedPerEvent) {
    json own = json::array();
    json shared = json::array();
    for (int i = 0; i < 10; ++i) {
        own.push_back({{"code", 1000 + i}});
        shared.push_back({{"code", 2000 + i}});
    }
    WebhookBatch b = parse_ok(envelope({{"errors", shared},
                                        {"calls", {{{"id", "wacid.1"}, {"errors", own}}}},
                                        {"statuses", {{{"id", "wacid.1"}}}}}));
    ASSERT_EQ(b.calls.size(), 1u);
    ASSERT_EQ(b.calls[0].errors.size(), kMaxErrorsPerEvent);
    EXPECT_EQ(b.calls[0].errors[9].code, 1009);
    EXPECT_EQ(b.calls[0].errors[10].code, 2000);
    EXPECT_EQ(b.calls[0].errors[15].code, 2005);
    // value.errors[] also reach statuses.
    ASSERT_EQ(b.statuses.size(), 1u);
    ASSERT_EQ(b.statuses[0].errors.size(), 10u);
    EXPECT_EQ(b.statuses[0].errors[0].code, 2000);

    for (int i = 0; i < 30; ++i)
        own.push_back({{"code", 3000 + i}});
    b = parse_ok(envelope({{"calls", {{{"id", "wacid.1"}, {"errors", own}}}}}));
    EXPECT_EQ(b.calls[0].errors.size(), kMaxErrorsPerEvent);
}

TEST(Webhook, ErrorTextIsCut) {
    std::string accented = "a";
    for (int i = 0; i < 2000; ++i)
        accented += "\xc3\xa9"; // é
    WebhookBatch b = parse_ok(envelope({{"calls",
                                         {{{"id", "wacid.1"},
                                           {"errors",
                                            {{{"code", 1},
                                              {"title", accented},
                                              {"message", accented},
                                              {"error_data", {{"details", accented}}}}}}}}}}));
    ASSERT_EQ(b.calls.size(), 1u);
    ASSERT_EQ(b.calls[0].errors.size(), 1u);
    const CallError& e = b.calls[0].errors[0];
    // "a" + é...: every even length cuts through an é, so one byte less is kept.
    EXPECT_EQ(e.title, accented.substr(0, 255));
    EXPECT_EQ(e.message, accented.substr(0, 1023));
    EXPECT_EQ(e.details, accented.substr(0, 2047));
}

TEST(Webhook, SharedValuesDoNotAmplify) {
    // 16 value-level errors of ~3 KiB each would be copied into every one of 10000 calls
    // (~500 MiB); the batch's error budget stops that.
    json errors = json::array();
    for (int i = 0; i < 16; ++i) {
        errors.push_back({{"code", i},
                          {"title", std::string(300, 't')},
                          {"message", std::string(2000, 'm')},
                          {"error_data", {{"details", std::string(3000, 'd')}}}});
    }
    json calls = json::array();
    for (int i = 0; i < 10000; ++i)
        calls.push_back({{"id", "wacid." + std::to_string(i)}});
    const std::string long_id(300, '1');
    const std::string body =
        envelope({{"metadata", {{"phone_number_id", long_id}, {"display_phone_number", "1555"}}},
                  {"errors", errors},
                  {"calls", calls}})
            .dump();
    ASSERT_LT(body.size(), kMaxWebhookBodyBytes);
    const WebhookBatch b = parse_ok(body);
    ASSERT_EQ(b.calls.size(), 10000u);
    size_t text = 0;
    for (const CallEvent& c : b.calls) {
        for (const CallError& e : c.errors)
            text += sizeof(CallError) + e.title.size() + e.message.size() + e.details.size();
        EXPECT_EQ(c.phone_number_id, ""); // over 256 bytes: dropped, not copied 10000 times
        EXPECT_EQ(c.display_phone_number, "1555");
    }
    EXPECT_LE(text, kMaxErrorTextBytes);
    EXPECT_EQ(b.calls.front().errors.size(), 16u);
    EXPECT_EQ(b.calls.front().errors[0].message.size(), 1024u);
    EXPECT_TRUE(b.calls.back().errors.empty());
}

TEST(Webhook, HugeArraysAreCapped) {
    json calls = json::array();
    for (size_t i = 0; i < kMaxWebhookEvents + 1500; ++i)
        calls.push_back({{"id", "wacid." + std::to_string(i)}, {"event", "terminate"}});
    calls.push_back(5); // past the cap, even garbage counts once
    WebhookBatch b = parse_ok(envelope({{"calls", calls}}));
    EXPECT_EQ(b.calls.size(), kMaxWebhookEvents);
    EXPECT_EQ(b.invalid_items, 1501u);
    EXPECT_EQ(b.calls.back().call_id, "wacid." + std::to_string(kMaxWebhookEvents - 1));

    // The cap is shared by calls and statuses across every change of the body.
    json statuses = json::array();
    for (size_t i = 0; i < 6000; ++i)
        statuses.push_back({{"id", "wacid." + std::to_string(i)}, {"status", "RINGING"}});
    json half_calls = json::array();
    for (size_t i = 0; i < 6000; ++i)
        half_calls.push_back({{"id", "wacid." + std::to_string(i)}});
    json body = envelope({{"calls", half_calls}});
    body["entry"].push_back(envelope({{"statuses", statuses}})["entry"][0]);
    b = parse_ok(body);
    EXPECT_EQ(b.calls.size(), 6000u);
    EXPECT_EQ(b.statuses.size(), 4000u);
    EXPECT_EQ(b.invalid_items, 2000u);

    // Many entries and changes, none routed: counted, cheap.
    json many = envelope(json::object());
    many["entry"] = json::array();
    for (int i = 0; i < 50000; ++i)
        many["entry"].push_back({{"changes", {{{"field", "messages"}}}}});
    b = parse_ok(many);
    EXPECT_EQ(b.ignored_changes, 50000u);
    // Huge contacts[] arrays are indexed, not scanned per call.
    json contacts = json::array();
    for (int i = 0; i < 50000; ++i)
        contacts.push_back(
            {{"profile", {{"name", "n" + std::to_string(i)}}}, {"wa_id", std::to_string(i)}});
    json many_calls = json::array();
    for (int i = 0; i < 5000; ++i)
        many_calls.push_back(
            {{"id", "wacid." + std::to_string(i)}, {"from", std::to_string(i * 7)}});
    b = parse_ok(envelope({{"contacts", contacts}, {"calls", many_calls}}));
    ASSERT_EQ(b.calls.size(), 5000u);
    EXPECT_EQ(b.calls[4999].contact_name, "n34993");
}

TEST(Webhook, CallsChangeWithoutCallsOrStatusesIsIgnored) {
    // e.g. 131044 (no payment method) sent as an error webhook (§6.1).
    const WebhookBatch b = parse_ok(envelope(
        {{"metadata", {{"phone_number_id", "1"}}},
         {"errors", {{{"code", 131044}, {"title", "Business eligibility payment issue"}}}}}));
    EXPECT_TRUE(b.calls.empty());
    EXPECT_TRUE(b.statuses.empty());
    EXPECT_EQ(b.ignored_changes, 1u);
    EXPECT_EQ(b.invalid_items, 0u);
}

TEST(Webhook, CallsAndStatusesInOneValue) {
    json body = load("statuses-ringing-accepted.json");
    json connect = load("connect-business-answer.json");
    value_of(body)["calls"] = value_of(connect)["calls"];
    const WebhookBatch b = parse_ok(body);
    EXPECT_EQ(b.calls.size(), 1u);
    EXPECT_EQ(b.statuses.size(), 2u);
    EXPECT_EQ(b.ignored_changes, 0u);
}

TEST(Webhook, UnknownFieldsAreIgnored) {
    json body = load("connect-user-initiated.json");
    body["unknown"] = {1, 2, 3};
    body["entry"][0]["time"] = 1760681506;
    value_of(body)["future"] = {{"x", nullptr}};
    json& call = value_of(body)["calls"][0];
    call["deeplink_payload"] = "promo-42";
    call["from_user_id"] = "US.13491208655302741918";
    call["session"]["extra"] = json::array();
    const WebhookBatch b = parse_ok(body);
    ASSERT_EQ(b.calls.size(), 1u);
    EXPECT_EQ(b.calls[0].sdp, read_data("sdp/whatsapp/wa-offer-01.sdp"));
    EXPECT_EQ(b.ignored_changes + b.invalid_items, 0u);
}

// Random byte edits of every payload: never an exception or a crash, and what comes out
// keeps the parser's promises.
TEST(Webhook, MutatedPayloadsKeepTheInvariants) {
    const char* files[] = {"connect-user-initiated.json", "connect-business-answer.json",
                           "terminate-failed-138021.json", "statuses-ringing-accepted.json",
                           "batched-multi-entry.json"};
    std::mt19937 rng(7);
    const char alphabet[] = "{}[]\",:0123456789aeE.-+ \\ntfu";
    size_t parsed = 0;
    for (const char* file : files) {
        const std::string original = read_data(std::string("whatsapp/") + file);
        ASSERT_FALSE(original.empty());
        for (int round = 0; round < 400; ++round) {
            std::string body = original;
            const int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits; ++e) {
                const size_t at = rng() % body.size();
                switch (rng() % 3) {
                case 0:
                    body[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
                    break;
                case 1:
                    body.erase(at, 1 + rng() % 8);
                    break;
                default:
                    body.insert(at, 1, alphabet[rng() % (sizeof(alphabet) - 1)]);
                    break;
                }
                if (body.empty()) body = "{";
            }
            Result<WebhookBatch, WebhookError> r = parse_webhook("");
            ASSERT_NO_THROW(r = parse_webhook(body));
            if (!r.ok()) continue;
            ++parsed;
            for (const CallEvent& c : r->calls) {
                EXPECT_FALSE(c.call_id.empty());
                EXPECT_LE(c.call_id.size(), kMaxCallIdBytes);
                EXPECT_EQ(c.kind, call_event_kind(c.event));
                EXPECT_LE(c.errors.size(), kMaxErrorsPerEvent);
                for (char ch : c.status)
                    EXPECT_FALSE(ch >= 'a' && ch <= 'z') << c.status;
            }
            for (const StatusEvent& s : r->statuses) {
                EXPECT_FALSE(s.call_id.empty());
                for (char ch : s.status)
                    EXPECT_FALSE(ch >= 'a' && ch <= 'z') << s.status;
            }
        }
    }
    EXPECT_GT(parsed, 100u); // the edits often land in strings: many bodies stay valid
}

} // namespace
} // namespace wabridge::whatsapp

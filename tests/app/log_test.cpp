#include "wabridge/app/log.hpp"

#include <gtest/gtest.h>
#include <stdexcept>

namespace wabridge {
namespace {

using namespace std::chrono;
using ojson = nlohmann::ordered_json;

// 2026-11-22T10:00:00.123Z
system_clock::time_point fixed_time() {
    return sys_days{year{2026} / November / 22} + hours{10} + milliseconds{123};
}

struct Captured {
    Logger log;
    std::vector<std::string> lines;

    explicit Captured(LogLevel level = LogLevel::info, LogFormat format = LogFormat::json)
        : log(level, format) {
        log.set_sink([this](std::string_view line) { lines.emplace_back(line); });
        log.set_clock([] { return fixed_time(); });
    }
};

TEST(LogTimestamp, FormatsUtcWithMilliseconds) {
    EXPECT_EQ(format_log_timestamp(fixed_time()), "2026-11-22T10:00:00.123Z");
    EXPECT_EQ(format_log_timestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
    // Sub-millisecond parts are truncated, not rounded, so a line never shows a future time.
    auto t = sys_days{year{1999} / December / 31} + hours{23} + minutes{59} + seconds{59} +
             microseconds{999999};
    EXPECT_EQ(format_log_timestamp(time_point_cast<system_clock::duration>(t)),
              "1999-12-31T23:59:59.999Z");
}

TEST(LogLevelNames, ParseAndPrint) {
    EXPECT_EQ(to_string(LogLevel::warn), "warn");
    EXPECT_EQ(to_string(LogFormat::text), "text");
    EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
    EXPECT_EQ(parse_log_level("ERROR"), LogLevel::error);
    EXPECT_EQ(parse_log_level("warning"), std::nullopt);
    EXPECT_EQ(parse_log_level(""), std::nullopt);
    EXPECT_EQ(parse_log_format("Json"), LogFormat::json);
    EXPECT_EQ(parse_log_format("xml"), std::nullopt);
}

TEST(LoggerJson, ExactLineForFixedClock) {
    Captured c;
    c.log.info("call started", {{"from", "+15551234567"}, {"codec", "opus"}, {"n", 3}}, "c-42");
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], R"({"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"call started",)"
                          R"("callId":"c-42","from":"+15551234567","codec":"opus","n":3})");
}

TEST(LoggerJson, CallerFieldOrderIsKeptAfterFixedKeys) {
    Captured c;
    c.log.warn("x", {{"zeta", 1}, {"alpha", 2}, {"mid", true}});
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], R"({"ts":"2026-11-22T10:00:00.123Z","level":"warn","msg":"x",)"
                          R"("zeta":1,"alpha":2,"mid":true})");
}

TEST(LoggerJson, CallIdOnlyWhenGiven) {
    Captured c;
    c.log.error("boom");
    c.log.error("boom", {}, "abc");
    ASSERT_EQ(c.lines.size(), 2u);
    EXPECT_EQ(c.lines[0], R"({"ts":"2026-11-22T10:00:00.123Z","level":"error","msg":"boom"})");
    EXPECT_EQ(c.lines[1],
              R"({"ts":"2026-11-22T10:00:00.123Z","level":"error","msg":"boom","callId":"abc"})");
}

TEST(LoggerJson, ClashingFieldNamesAreRenamed) {
    Captured c;
    c.log.info("m", {{"msg", "other"}, {"ts", 5}, {"level", "x"}, {"callId", "f"}}, "c1");
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], R"({"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"m",)"
                          R"("callId":"c1","_msg":"other","_ts":5,"_level":"x","_callId":"f"})");
}

TEST(LoggerJson, CallIdFieldWithoutCallIdArgumentIsKept) {
    Captured c;
    c.log.info("m", {{"callId", "f"}});
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0],
              R"({"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"m","callId":"f"})");
}

TEST(LoggerJson, NonObjectFieldsGoUnderFieldsKey) {
    Captured c;
    c.log.info("m", ojson::array({1, 2}));
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0],
              R"({"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"m","fields":[1,2]})");
}

TEST(LoggerJson, EscapesQuotesNewlinesAndControlCharacters) {
    Captured c;
    c.log.info("say \"hi\"\nnext\tcol\x01 back\\slash", {{"v", "a\rb\x1f"}});
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], R"({"ts":"2026-11-22T10:00:00.123Z","level":"info",)"
                          R"("msg":"say \"hi\"\nnext\tcol\u0001 back\\slash","v":"a\rb\u001f"})");
    EXPECT_EQ(c.lines[0].find('\n'), std::string::npos);
}

TEST(LoggerJson, InvalidUtf8IsReplacedNotThrown) {
    Captured c;
    c.log.info("bad \xff byte");
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0],
              "{\"ts\":\"2026-11-22T10:00:00.123Z\",\"level\":\"info\",\"msg\":\"bad \xEF\xBF\xBD "
              "byte\"}");
}

TEST(LoggerFilter, DropsMessagesBelowLevel) {
    Captured c(LogLevel::warn);
    EXPECT_FALSE(c.log.enabled(LogLevel::debug));
    EXPECT_FALSE(c.log.enabled(LogLevel::info));
    EXPECT_TRUE(c.log.enabled(LogLevel::warn));
    EXPECT_TRUE(c.log.enabled(LogLevel::error));
    c.log.debug("d");
    c.log.info("i");
    c.log.warn("w");
    c.log.error("e");
    ASSERT_EQ(c.lines.size(), 2u);
    EXPECT_EQ(c.lines[0], R"({"ts":"2026-11-22T10:00:00.123Z","level":"warn","msg":"w"})");
    EXPECT_EQ(c.lines[1], R"({"ts":"2026-11-22T10:00:00.123Z","level":"error","msg":"e"})");
}

TEST(LoggerFilter, FilteredMessagesDoNotReadTheClock) {
    Logger log(LogLevel::error, LogFormat::json);
    int clock_reads = 0;
    int sink_calls = 0;
    log.set_clock([&] {
        ++clock_reads;
        return fixed_time();
    });
    log.set_sink([&](std::string_view) { ++sink_calls; });
    log.info("dropped", {{"k", 1}});
    EXPECT_EQ(clock_reads, 0);
    EXPECT_EQ(sink_calls, 0);
    log.set_level(LogLevel::debug);
    log.debug("kept");
    EXPECT_EQ(clock_reads, 1);
    EXPECT_EQ(sink_calls, 1);
}

TEST(LoggerText, ExactLine) {
    Captured c(LogLevel::debug, LogFormat::text);
    c.log.info("call started", {{"from", "+1555"}, {"reason", "user hung up"}, {"n", 3}}, "c-42");
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], "2026-11-22T10:00:00.123Z INFO  call started callId=c-42 from=+1555 "
                          "reason=\"user hung up\" n=3");
}

TEST(LoggerText, LevelColumnIsPadded) {
    Captured c(LogLevel::debug, LogFormat::text);
    c.log.debug("a");
    c.log.info("b");
    c.log.warn("c");
    c.log.error("d");
    ASSERT_EQ(c.lines.size(), 4u);
    EXPECT_EQ(c.lines[0], "2026-11-22T10:00:00.123Z DEBUG a");
    EXPECT_EQ(c.lines[1], "2026-11-22T10:00:00.123Z INFO  b");
    EXPECT_EQ(c.lines[2], "2026-11-22T10:00:00.123Z WARN  c");
    EXPECT_EQ(c.lines[3], "2026-11-22T10:00:00.123Z ERROR d");
}

TEST(LoggerText, StaysOnOneLineAndQuotesAwkwardValues) {
    Captured c(LogLevel::info, LogFormat::text);
    c.log.warn("two\nlines", {{"q", "say \"x\""}, {"empty", ""}, {"eq", "a=b"}, {"ok", false}});
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], "2026-11-22T10:00:00.123Z WARN  two\\nlines q=\"say \\\"x\\\"\" "
                          "empty=\"\" eq=\"a=b\" ok=false");
}

TEST(LoggerRedaction, SecretInMessageFieldsAndCallId) {
    Captured c;
    c.log.set_secrets({"sk-live-123", ""});
    c.log.info("auth with sk-live-123 failed",
               {{"detail", "Bearer sk-live-123"},
                {"nested", {{"list", ojson::array({"x sk-live-123 y", 7})}}}},
               "call-sk-live-123");
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0],
              R"({"ts":"2026-11-22T10:00:00.123Z","level":"info",)"
              R"("msg":"auth with [redacted] failed","callId":"call-[redacted]",)"
              R"("detail":"Bearer [redacted]","nested":{"list":["x [redacted] y",7]}})");
}

TEST(LoggerRedaction, SecretInTextFormat) {
    Captured c(LogLevel::info, LogFormat::text);
    c.log.set_secrets({"hunter2"});
    c.log.info("pw hunter2", {{"v", "hunter2"}});
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], "2026-11-22T10:00:00.123Z INFO  pw [redacted] v=[redacted]");
}

TEST(LoggerRedaction, OverlappingSecretsLeaveNoFragment) {
    Captured c;
    c.log.set_secrets({"abc", "cdef"});
    c.log.info("xabcdefy abc");
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(
        c.lines[0],
        R"({"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"x[redacted]y [redacted]"})");
}

TEST(LoggerRedaction, SensitiveKeyNames) {
    Captured c;
    c.log.info("req", {{"apiKey", "abc"},
                       {"Authorization", "Bearer xyz"},
                       {"refresh_token", 42},
                       {"clientSecret", {{"a", 1}}},
                       {"PASSWORD", "p"},
                       {"user", "bob"},
                       {"headers", {{"x-auth-token", "t"}, {"accept", "*/*"}}}});
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], R"({"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"req",)"
                          R"("apiKey":"[redacted]","Authorization":"[redacted]",)"
                          R"("refresh_token":"[redacted]","clientSecret":"[redacted]",)"
                          R"("PASSWORD":"[redacted]","user":"bob",)"
                          R"("headers":{"x-auth-token":"[redacted]","accept":"*/*"}})");
}

TEST(LoggerRedaction, PresenceMarkersPassUnderSensitiveKeys) {
    Captured c;
    c.log.info("config", {{"OPENAI_API_KEY", "set"}, {"BRIDGE_API_TOKEN", "unset"}});
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0], R"({"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"config",)"
                          R"("OPENAI_API_KEY":"set","BRIDGE_API_TOKEN":"unset"})");
}

TEST(Logger, ThrowingSinkDoesNotEscape) {
    Logger log;
    log.set_sink([](std::string_view) { throw std::runtime_error("sink down"); });
    EXPECT_NO_THROW(log.error("x"));
}

TEST(Logger, ProcessWideInstanceDefaultsToInfoJson) {
    Logger& a = logger();
    Logger& b = logger();
    EXPECT_EQ(&a, &b);
    EXPECT_EQ(a.level(), LogLevel::info);
    EXPECT_EQ(a.format(), LogFormat::json);
}

} // namespace
} // namespace wabridge

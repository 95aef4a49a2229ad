#include "wabridge/ai/realtime_url.hpp"

#include <gtest/gtest.h>

namespace wabridge::ai {
namespace {

TEST(RealtimeUrl, OpenAiDefault) {
    auto u = parse_realtime_url("wss://api.openai.com/v1/realtime");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->host, "api.openai.com");
    EXPECT_EQ(u->port, 443);
    EXPECT_EQ(u->host_header, "api.openai.com");
    EXPECT_EQ(u->target("gpt-realtime"), "/v1/realtime?model=gpt-realtime");
}

TEST(RealtimeUrl, PlainWsWithPortQueryAndIpv6) {
    auto u = parse_realtime_url("ws://127.0.0.1:8765/v1/realtime?x=1");
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->tls);
    EXPECT_EQ(u->port, 8765);
    EXPECT_EQ(u->host_header, "127.0.0.1:8765");
    EXPECT_EQ(u->target("a b/c"), "/v1/realtime?x=1&model=a%20b%2Fc");
    auto v6 = parse_realtime_url("wss://[::1]:9443/rt");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->host_header, "[::1]:9443");
    auto bare = parse_realtime_url("ws://localhost");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->port, 80);
    EXPECT_EQ(bare->path, "/");
}

TEST(RealtimeUrl, BadUrlsAreRefusedWithAReason) {
    for (const char* bad :
         {"https://api.openai.com/v1/realtime", "wss://", "wss://:443/x", "wss://host:0/",
          "wss://host:70000/", "wss://host:12a/", "wss://user@host/", "wss://[::1/x"}) {
        auto u = parse_realtime_url(bad);
        EXPECT_FALSE(u) << bad;
    }
}

} // namespace
} // namespace wabridge::ai

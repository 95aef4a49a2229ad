#include "wabridge/net/interfaces.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <string>
#include <vector>

namespace wabridge::net {
namespace {

TEST(IsIpLiteral, AcceptsAddresses) {
    EXPECT_TRUE(is_ip_literal("127.0.0.1"));
    EXPECT_TRUE(is_ip_literal("0.0.0.0"));
    EXPECT_TRUE(is_ip_literal("255.255.255.255"));
    EXPECT_TRUE(is_ip_literal("::1"));
    EXPECT_TRUE(is_ip_literal("::"));
    EXPECT_TRUE(is_ip_literal("2a03:2880:f36b:131:face:b00c:0:699c"));
    EXPECT_TRUE(is_ip_literal("::ffff:192.0.2.1"));
}

TEST(IsIpLiteral, RejectsNonAddresses) {
    EXPECT_FALSE(is_ip_literal(""));
    EXPECT_FALSE(is_ip_literal("localhost"));
    EXPECT_FALSE(is_ip_literal("1.2.3"));
    EXPECT_FALSE(is_ip_literal("300.1.1.1"));
    EXPECT_FALSE(is_ip_literal("1.2.3.4 "));
    EXPECT_FALSE(is_ip_literal(" 1.2.3.4"));
    EXPECT_FALSE(is_ip_literal("1.2.3.4.5"));
    EXPECT_FALSE(is_ip_literal("[::1]"));
    EXPECT_FALSE(is_ip_literal("1.2.3.4/24"));
    EXPECT_FALSE(is_ip_literal("fe80::1%eth0"));
}

// Known bug: is_ip_literal() passes text.c_str() to inet_pton, so everything after an embedded
// NUL is ignored and "1.2.3.4\0junk" counts as a literal. Enable once it checks for '\0'.
TEST(IsIpLiteral, RejectsEmbeddedNul) {
    EXPECT_FALSE(is_ip_literal(std::string("1.2.3.4\0", 8)));
    EXPECT_FALSE(is_ip_literal(std::string("::1\0junk", 8)));
}

bool is_ipv6(const std::string& a) {
    return a.find(':') != std::string::npos;
}

TEST(NonLoopbackAddresses, NoLoopbackOrLinkLocal) {
    std::vector<std::string> addresses = non_loopback_addresses();
    bool seen_v6 = false;
    for (const auto& a : addresses) {
        SCOPED_TRACE(a);
        EXPECT_TRUE(is_ip_literal(a));
        EXPECT_NE(a.rfind("127.", 0), 0u);
        EXPECT_NE(a, "::1");
        EXPECT_NE(a.rfind("fe80:", 0), 0u);
        if (is_ipv6(a)) {
            in6_addr v6{};
            ASSERT_EQ(inet_pton(AF_INET6, a.c_str(), &v6), 1);
            EXPECT_FALSE(IN6_IS_ADDR_LOOPBACK(&v6));
            EXPECT_FALSE(IN6_IS_ADDR_LINKLOCAL(&v6)) << "fe80::/10 address";
        } else {
            in_addr v4{};
            ASSERT_EQ(inet_pton(AF_INET, a.c_str(), &v4), 1);
            EXPECT_NE(ntohl(v4.s_addr) >> 24, 127u) << "127.0.0.0/8 address";
        }
        if (is_ipv6(a)) {
            seen_v6 = true;
        } else {
            EXPECT_FALSE(seen_v6) << "IPv4 address after an IPv6 one";
        }
    }
}

TEST(NonLoopbackAddresses, Stable) {
    // Two calls in a row see the same interfaces.
    EXPECT_EQ(non_loopback_addresses(), non_loopback_addresses());
}

} // namespace
} // namespace wabridge::net

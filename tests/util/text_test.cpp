#include "wabridge/util/text.hpp"

#include <gtest/gtest.h>

namespace wabridge::text {

TEST(Text, IequalsIgnoresAsciiCaseOnly) {
    EXPECT_TRUE(iequals("UDP/TLS/RTP/SAVPF", "udp/tls/rtp/savpf"));
    EXPECT_TRUE(iequals("OPUS", "opus"));
    EXPECT_FALSE(iequals("opus", "opus2"));
    EXPECT_FALSE(iequals("a", "b"));
}

TEST(Text, SplitKeepsEmptyFields) {
    auto f = split("a;;b;", ';');
    ASSERT_EQ(f.size(), 4u);
    EXPECT_EQ(f[0], "a");
    EXPECT_EQ(f[1], "");
    EXPECT_EQ(f[2], "b");
    EXPECT_EQ(f[3], "");
}

TEST(Text, SplitSpStrictRefusesLooseSpacing) {
    ASSERT_TRUE(split_sp_strict("IN IP4 1.2.3.4"));
    EXPECT_EQ(split_sp_strict("IN IP4 1.2.3.4")->size(), 3u);
    EXPECT_FALSE(split_sp_strict("IN  IP4 1.2.3.4"));
    EXPECT_FALSE(split_sp_strict(" IN IP4"));
    EXPECT_FALSE(split_sp_strict("IN IP4 "));
}

TEST(Text, ParseUintBoundsAndJunk) {
    EXPECT_EQ(parse_uint("65535", 65535), 65535u);
    EXPECT_FALSE(parse_uint("65536", 65535));
    EXPECT_FALSE(parse_uint("99999", 65535));
    EXPECT_FALSE(parse_uint("", 10));
    EXPECT_FALSE(parse_uint("-1", 10));
    EXPECT_FALSE(parse_uint("1a", 10));
    EXPECT_FALSE(parse_uint("+1", 10));
    EXPECT_EQ(parse_uint("18446744073709551615", UINT64_MAX), UINT64_MAX);
    EXPECT_FALSE(parse_uint("18446744073709551616", UINT64_MAX));
    EXPECT_FALSE(parse_uint("000000000000000000001", UINT64_MAX)); // longer than 20 digits
}

} // namespace wabridge::text

#include "wabridge/sdp/candidate.hpp"

#include <gtest/gtest.h>

namespace wabridge::sdp {
namespace {

TEST(Candidate, ParsesWhatsAppHostCandidateWithExtensions) {
    auto c = parse_candidate(
        "3935165743 1 udp 2122260223 57.144.215.49 3484 typ host generation 0 network-cost 50");
    ASSERT_TRUE(c.ok()) << c.error().describe();
    EXPECT_EQ(c->foundation, "3935165743");
    EXPECT_EQ(c->component, 1u);
    EXPECT_EQ(c->transport, "udp");
    EXPECT_EQ(c->priority, 2122260223u);
    EXPECT_EQ(c->address, "57.144.215.49");
    EXPECT_EQ(c->port, 3484);
    EXPECT_EQ(c->type, "host");
    ASSERT_EQ(c->extensions.size(), 2u);
    EXPECT_EQ(c->extensions[1].first, "network-cost");
    EXPECT_EQ(c->extensions[1].second, "50");
}

TEST(Candidate, ParsesSrflxWithRelatedAddressAndUpperCaseTransport) {
    auto c = parse_candidate(
        "ba07806f1ab850f35970a5643d51e347 1 UDP 1694498815 49.204.143.120 7371 typ srflx raddr "
        "192.168.0.105 rport 51420");
    ASSERT_TRUE(c.ok()) << c.error().describe();
    EXPECT_EQ(c->transport, "udp");
    EXPECT_TRUE(c->has_related);
    EXPECT_EQ(c->related_address, "192.168.0.105");
    EXPECT_EQ(c->related_port, 51420);
    EXPECT_TRUE(c->is_udp());
}

TEST(Candidate, FormatRoundTrips) {
    std::string text = "1 1 udp 2130706431 203.0.113.7 10000 typ host generation 0";
    auto c = parse_candidate(text);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(format_candidate(c.value()), text);
}

TEST(Candidate, RejectsMalformed) {
    const char* bad[] = {
        "",
        "1 1 udp 1 1.2.3.4 10000",                   // no typ
        "1 1 udp 1 1.2.3.4 10000 type host",         // wrong keyword
        "1 0 udp 1 1.2.3.4 10000 typ host",          // component 0
        "1 1 udp 4294967296 1.2.3.4 10000 typ host", // priority > 32 bits
        "1 1 udp 1 1.2.3.4 70000 typ host",          // port
        "1 1 udp 1 1.2.3.4 1 typ srflx raddr",       // raddr without a value
        "1 1 udp 1 1.2.3.4 1 typ srflx raddr 1.2.3.4 rport x",
        "f=o 1 udp 1 1.2.3.4 1 typ host",                               // foundation char
        "123456789012345678901234567890123 1 udp 1 1.2.3.4 1 typ host", // 33-char foundation
        "1  1 udp 1 1.2.3.4 1 typ host",                                // double space
    };
    for (const char* b : bad) {
        auto c = parse_candidate(b, 9);
        ASSERT_FALSE(c.ok()) << b;
        EXPECT_EQ(c.error().code, ErrorCode::bad_candidate);
        EXPECT_EQ(c.error().line, 9u);
    }
}

TEST(Candidate, PriorityFormula) {
    // RFC 8445 §5.1.2.1 with host type preference 126, local preference 65535, component 1.
    EXPECT_EQ(candidate_priority(126, 65535, 1), 2130706431u);
    EXPECT_EQ(candidate_priority(100, 0, 1), (100u << 24) + 255u);
}

} // namespace
} // namespace wabridge::sdp

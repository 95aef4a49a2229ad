#include "wabridge/sdp/local_transport.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace wabridge::sdp {
namespace {

using Strings = std::vector<std::string>;

bool is_ice_chars(const std::string& s) {
    for (char c : s) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (!ok) return false;
    }
    return true;
}

TEST(HostCandidates, TwoAddresses) {
    auto cands = host_candidates({"192.0.2.1", "2001:db8::1"}, 10000);
    ASSERT_EQ(cands.size(), 2u);
    EXPECT_EQ(cands[0].address, "192.0.2.1");
    EXPECT_EQ(cands[1].address, "2001:db8::1");
    for (const auto& c : cands) {
        SCOPED_TRACE(c.address);
        EXPECT_EQ(c.transport, "udp");
        EXPECT_TRUE(c.is_udp());
        EXPECT_EQ(c.type, "host");
        EXPECT_EQ(c.port, 10000);
        EXPECT_EQ(c.component, 1u);
        EXPECT_FALSE(c.has_related);
        EXPECT_TRUE(c.extensions.empty());
        EXPECT_FALSE(c.foundation.empty());
        EXPECT_LE(c.foundation.size(), 32u); // RFC 8839: foundation = 1*32 ice-char
        EXPECT_TRUE(is_ice_chars(c.foundation)) << c.foundation;
    }
    // RFC 8445 §5.1.2.1: 2^24 * 126 + 2^8 * local-pref + (256 - 1).
    EXPECT_EQ(cands[0].priority, 2130706431u);
    EXPECT_EQ(cands[1].priority, 2130706175u);
    EXPECT_EQ(cands[0].priority, (126u << 24) + (65535u << 8) + 255u);
    EXPECT_EQ(cands[1].priority, (126u << 24) + (65534u << 8) + 255u);
    EXPECT_NE(cands[0].foundation, cands[1].foundation);
}

TEST(HostCandidates, FormatsAsSdpCandidate) {
    auto cands = host_candidates({"192.0.2.1"}, 10000);
    ASSERT_EQ(cands.size(), 1u);
    EXPECT_EQ(format_candidate(cands[0]),
              cands[0].foundation + " 1 udp 2130706431 192.0.2.1 10000 typ host");
}

TEST(HostCandidates, FoundationsStableAcrossCallsAndPorts) {
    auto a = host_candidates({"192.0.2.1", "2001:db8::1"}, 10000);
    auto b = host_candidates({"192.0.2.1", "2001:db8::1"}, 10000);
    auto c = host_candidates({"2001:db8::1", "192.0.2.1"}, 20000);
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(b.size(), 2u);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(a[0].foundation, b[0].foundation);
    EXPECT_EQ(a[1].foundation, b[1].foundation);
    // The foundation depends on the address, not on its position or the port.
    EXPECT_EQ(a[0].foundation, c[1].foundation);
    EXPECT_EQ(a[1].foundation, c[0].foundation);
    EXPECT_EQ(c[0].port, 20000);
    EXPECT_EQ(c[0].priority, 2130706431u);
    EXPECT_EQ(c[1].priority, 2130706175u);
}

TEST(HostCandidates, LocalPreferenceFallsByOne) {
    Strings addresses;
    for (int i = 1; i <= 5; ++i)
        addresses.push_back("198.51.100." + std::to_string(i));
    auto cands = host_candidates(addresses, 40000);
    ASSERT_EQ(cands.size(), 5u);
    for (size_t i = 0; i < cands.size(); ++i) {
        EXPECT_EQ(cands[i].priority, (126u << 24) + ((65535u - i) << 8) + 255u) << i;
        EXPECT_EQ(cands[i].address, addresses[i]);
        EXPECT_EQ(cands[i].port, 40000);
        for (size_t j = 0; j < i; ++j)
            EXPECT_NE(cands[i].foundation, cands[j].foundation);
    }
}

TEST(HostCandidates, Empty) {
    EXPECT_TRUE(host_candidates({}, 10000).empty());
}

TEST(CandidatePriority, Rfc8445Formula) {
    EXPECT_EQ(candidate_priority(126, 65535, 1), 2130706431u);
    EXPECT_EQ(candidate_priority(126, 65534, 1), 2130706175u);
    EXPECT_EQ(candidate_priority(126, 65535, 2), 2130706430u);
    EXPECT_EQ(candidate_priority(0, 0, 256), 0u);
    EXPECT_EQ(candidate_priority(100, 65535, 1), (100u << 24) + (65535u << 8) + 255u);
}

TEST(AdvertisedAddresses, WithoutPublicIpReturnsInput) {
    Strings hosts{"10.0.0.5", "192.168.1.2", "2001:db8::1"};
    EXPECT_EQ(advertised_addresses(hosts, ""), hosts);
    EXPECT_EQ(advertised_addresses({}, ""), Strings{});
}

TEST(AdvertisedAddresses, PublicIpv4ReplacesIpv4Hosts) {
    EXPECT_EQ(advertised_addresses({"10.0.0.5", "192.168.1.2", "2001:db8::1"}, "203.0.113.7"),
              (Strings{"203.0.113.7", "2001:db8::1"}));
}

TEST(AdvertisedAddresses, PublicIpv6KeepsIpv4Hosts) {
    EXPECT_EQ(advertised_addresses({"10.0.0.5", "192.168.1.2", "2001:db8::1"}, "2001:db8::99"),
              (Strings{"2001:db8::99", "10.0.0.5", "192.168.1.2"}));
}

TEST(AdvertisedAddresses, PublicIpFirstAndDeduplicated) {
    EXPECT_EQ(advertised_addresses({"2001:db8::1", "10.0.0.5", "2001:db8::1"}, "203.0.113.7"),
              (Strings{"203.0.113.7", "2001:db8::1"}));
    EXPECT_EQ(advertised_addresses({"203.0.113.7"}, "203.0.113.7"), (Strings{"203.0.113.7"}));
    EXPECT_EQ(advertised_addresses({}, "203.0.113.7"), (Strings{"203.0.113.7"}));
}

TEST(AdvertisedAddresses, FeedsHostCandidates) {
    auto cands = host_candidates(
        advertised_addresses({"10.0.0.5", "192.168.1.2", "2001:db8::1"}, "203.0.113.7"), 10002);
    ASSERT_EQ(cands.size(), 2u);
    EXPECT_EQ(cands[0].address, "203.0.113.7");
    EXPECT_EQ(cands[0].priority, 2130706431u);
    EXPECT_EQ(cands[1].address, "2001:db8::1");
    EXPECT_EQ(cands[1].priority, 2130706175u);
    EXPECT_EQ(cands[1].port, 10002);
}

TEST(AdvertisedCandidates, MapsSameFamilyKeepsPortsAndDeduplicates) {
    auto hosts = host_candidates({"10.0.0.5", "2001:db8::1"}, 10004);
    hosts.push_back(hosts[0]);
    hosts.back().address = "192.168.1.2"; // a second IPv4 host on the same port
    auto out = advertised_candidates(hosts, "203.0.113.7");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].address, "203.0.113.7");
    EXPECT_EQ(out[0].port, 10004);
    EXPECT_EQ(out[0].priority, hosts[0].priority);
    EXPECT_EQ(out[1].address, "2001:db8::1");
    EXPECT_EQ(advertised_candidates(hosts, "").size(), 3u);
    EXPECT_EQ(advertised_address("10.0.0.5", "2001:db8::99"), "10.0.0.5");
}

} // namespace
} // namespace wabridge::sdp

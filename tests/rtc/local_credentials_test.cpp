#include "wabridge/rtc/local_credentials.hpp"

#include <array>
#include <cstdint>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <vector>

namespace wabridge::rtc {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool is_alnum_ascii(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool all_alnum(const std::string& s) {
    for (char c : s) {
        if (!is_alnum_ascii(c)) return false;
    }
    return true;
}

Certificate make_certificate() {
    auto cert = Certificate::generate();
    if (!cert) ADD_FAILURE() << cert.error();
    return std::move(cert.value());
}

TEST(RandomIceString, LengthAndAlphabet) {
    for (size_t n : {0u, 1u, 16u, 22u, 32u, 63u, 64u, 65u, 200u}) {
        std::string s = random_ice_string(n);
        EXPECT_EQ(s.size(), n);
        EXPECT_TRUE(all_alnum(s)) << s;
    }
}

TEST(RandomIceString, UniformOverAllSymbols) {
    constexpr size_t kDraws = 20000;
    std::string s = random_ice_string(kDraws);
    ASSERT_EQ(s.size(), kDraws);
    std::array<size_t, 256> counts{};
    for (char c : s)
        ++counts[static_cast<unsigned char>(c)];

    const double expected = static_cast<double>(kDraws) / 62.0; // ~322.6
    double chi2 = 0;
    size_t total = 0;
    for (char c : kAlphabet) {
        size_t n = counts[static_cast<unsigned char>(c)];
        total += n;
        EXPECT_GT(n, 0u) << "symbol '" << c << "' never drawn";
        EXPECT_GT(static_cast<double>(n), expected * 0.6) << "symbol '" << c << "'";
        EXPECT_LT(static_cast<double>(n), expected * 1.4) << "symbol '" << c << "'";
        double d = static_cast<double>(n) - expected;
        chi2 += d * d / expected;
    }
    EXPECT_EQ(total, kDraws) << "characters outside [A-Za-z0-9]";
    // 61 degrees of freedom: mean 61, sd ~11. P(chi2 > 170) is below 1e-10 for a uniform source.
    EXPECT_LT(chi2, 170.0);
}

TEST(RandomIceString, SuccessiveCallsDiffer) {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i)
        seen.insert(random_ice_string(16));
    EXPECT_EQ(seen.size(), 50u);
}

TEST(NewLocalTransport, Fields) {
    Certificate cert = make_certificate();
    sdp::Candidate c1;
    c1.foundation = "1";
    c1.priority = 2130706431;
    c1.address = "192.0.2.1";
    c1.port = 10000;
    sdp::Candidate c2 = c1;
    c2.foundation = "2";
    c2.address = "2001:db8::1";
    c2.priority = 2130706175;

    sdp::LocalTransport t = new_local_transport(cert, {c1, c2});
    EXPECT_EQ(t.ice_ufrag.size(), 16u);
    EXPECT_TRUE(all_alnum(t.ice_ufrag)) << t.ice_ufrag;
    EXPECT_EQ(t.ice_pwd.size(), 32u);
    EXPECT_TRUE(all_alnum(t.ice_pwd)) << t.ice_pwd;
    EXPECT_EQ(t.fingerprint_sha256, cert.sha256_fingerprint());
    ASSERT_EQ(t.candidates.size(), 2u);
    EXPECT_EQ(t.candidates[0].foundation, "1");
    EXPECT_EQ(t.candidates[0].address, "192.0.2.1");
    EXPECT_EQ(t.candidates[0].priority, 2130706431u);
    EXPECT_EQ(t.candidates[0].port, 10000);
    EXPECT_EQ(t.candidates[1].foundation, "2");
    EXPECT_EQ(t.candidates[1].address, "2001:db8::1");
    EXPECT_EQ(t.candidates[1].priority, 2130706175u);
    EXPECT_NE(t.ssrc, 0u);
    EXPECT_EQ(t.cname.size(), 16u);
    EXPECT_TRUE(all_alnum(t.cname)) << t.cname;
    EXPECT_LT(t.session_id, uint64_t{1} << 63);
}

TEST(NewLocalTransport, NoCandidates) {
    Certificate cert = make_certificate();
    sdp::LocalTransport t = new_local_transport(cert, {});
    EXPECT_TRUE(t.candidates.empty());
    EXPECT_EQ(t.fingerprint_sha256, cert.sha256_fingerprint());
}

TEST(NewLocalTransport, FreshPerCall) {
    Certificate cert = make_certificate();
    sdp::LocalTransport a = new_local_transport(cert, {});
    sdp::LocalTransport b = new_local_transport(cert, {});
    EXPECT_NE(a.ice_ufrag, b.ice_ufrag);
    EXPECT_NE(a.ice_pwd, b.ice_pwd);
    EXPECT_NE(a.ssrc, b.ssrc);
    EXPECT_NE(a.cname, b.cname);
    EXPECT_NE(a.session_id, b.session_id);
    EXPECT_NE(a.ice_ufrag, a.ice_pwd.substr(0, 16));
    // Same process certificate, same fingerprint.
    EXPECT_EQ(a.fingerprint_sha256, b.fingerprint_sha256);
}

TEST(NewLocalTransport, SessionIdsUseTheUpperRange) {
    // 64 ids below 2^63; a generator stuck in 32 bits would keep all of them below 2^32.
    Certificate cert = make_certificate();
    bool above_32_bits = false;
    for (int i = 0; i < 64; ++i) {
        sdp::LocalTransport t = new_local_transport(cert, {});
        EXPECT_LT(t.session_id, uint64_t{1} << 63);
        EXPECT_NE(t.ssrc, 0u);
        above_32_bits |= t.session_id > UINT32_MAX;
    }
    EXPECT_TRUE(above_32_bits);
}

} // namespace
} // namespace wabridge::rtc

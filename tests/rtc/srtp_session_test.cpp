#include "wabridge/rtc/srtp_session.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <gtest/gtest.h>
#include <memory>
#include <openssl/evp.h>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::rtc {
namespace {

using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------------------------
// Independent reference primitives, built on OpenSSL's raw AES/HMAC and nothing from libsrtp.
// Each is itself checked against the published RFC vectors below before it judges the adapter.
// ---------------------------------------------------------------------------------------------

Bytes hex(std::string_view text) {
    Bytes out;
    int hi = -1;
    for (char c : text) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            continue; // spaces and line breaks as in the RFC layout
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    EXPECT_EQ(hi, -1) << "odd number of hex digits in " << text;
    return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes xor_bytes(const Bytes& a, const Bytes& b) {
    EXPECT_EQ(a.size(), b.size());
    Bytes out(a.size());
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        out[i] = a[i] ^ b[i];
    return out;
}

Bytes be32(uint32_t v) {
    return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// AES-128 encryption of one block (the AES-CM building block).
Bytes aes_block(const Bytes& key, const Bytes& block) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    Bytes out(32);
    int n = 0, m = 0;
    EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ecb(), nullptr, key.data(), nullptr), 1);
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), out.data(), &n, block.data(), 16), 1);
    EXPECT_EQ(EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &m), 1);
    out.resize(16);
    return out;
}

// RFC 3711 §4.1.1: keystream = E(k, IV) || E(k, IV + 1) || ... (128-bit big-endian counter).
Bytes aes_cm_keystream(const Bytes& key, Bytes iv, size_t length) {
    EXPECT_EQ(iv.size(), 16u);
    Bytes out;
    while (out.size() < length) {
        Bytes block = aes_block(key, iv);
        out.insert(out.end(), block.begin(), block.end());
        for (int i = 15; i >= 0 && ++iv[i] == 0; --i) {
        }
    }
    out.resize(length);
    return out;
}

// RFC 3711 §4.3.1 with key_derivation_rate 0: x = (label || 0^48) XOR master_salt (112 bits),
// session key = AES-CM keystream from IV x * 2^16. RFC 7714 §11 (errata 4938): a 96-bit AEAD
// master salt is first multiplied by 2^16 to make the 112-bit salt.
Bytes kdf(const Bytes& master_key, Bytes master_salt, uint8_t label, size_t length) {
    if (master_salt.size() == 12) master_salt.resize(14, 0);
    EXPECT_EQ(master_salt.size(), 14u);
    Bytes iv = master_salt;
    iv[7] ^= label;
    iv.resize(16, 0);
    return aes_cm_keystream(master_key, iv, length);
}

// RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
Bytes srtp_cm_iv(const Bytes& session_salt, uint32_t ssrc, uint64_t index) {
    Bytes iv(16, 0);
    for (size_t i = 0; i < 14; ++i)
        iv[i] = session_salt[i];
    for (int i = 0; i < 4; ++i)
        iv[4 + i] ^= uint8_t(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; ++i)
        iv[8 + i] ^= uint8_t(index >> (40 - 8 * i));
    return iv;
}

Bytes hmac_sha1(const Bytes& key, const Bytes& data) {
    Bytes out(20);
    size_t len = 0;
    EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA1", nullptr, key.data(), key.size(),
                        data.data(), data.size(), out.data(), out.size(), &len),
              nullptr);
    EXPECT_EQ(len, 20u);
    return out;
}

// AES-128-GCM (RFC 5116 AEAD_AES_128_GCM): returns ciphertext || 16-byte tag.
Bytes aes_gcm(const Bytes& key, const Bytes& iv, const Bytes& aad, const Bytes& plaintext) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr), 1);
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(iv.size()), nullptr), 1);
    EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data()), 1);
    int n = 0;
    if (!aad.empty()) {
        EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), int(aad.size())), 1);
    }
    Bytes out(plaintext.size() + 16);
    int total = 0;
    if (!plaintext.empty()) {
        EXPECT_EQ(
            EVP_EncryptUpdate(ctx.get(), out.data(), &n, plaintext.data(), int(plaintext.size())),
            1);
        total = n;
    }
    EXPECT_EQ(EVP_EncryptFinal_ex(ctx.get(), out.data() + total, &n), 1);
    total += n;
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.data() + total), 1);
    out.resize(size_t(total) + 16);
    return out;
}

// RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt (96 bits).
Bytes srtp_gcm_iv(const Bytes& salt, uint32_t ssrc, uint32_t roc, uint16_t seq) {
    Bytes iv = concat({{0, 0}, be32(ssrc), be32(roc), {uint8_t(seq >> 8), uint8_t(seq)}});
    return xor_bytes(iv, salt);
}

// RFC 7714 §9.1: IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index (31 bits)) XOR salt.
Bytes srtcp_gcm_iv(const Bytes& salt, uint32_t ssrc, uint32_t index) {
    Bytes iv = concat({{0, 0}, be32(ssrc), {0, 0}, be32(index & 0x7FFFFFFF)});
    return xor_bytes(iv, salt);
}

// ---------------------------------------------------------------------------------------------
// Packet helpers
// ---------------------------------------------------------------------------------------------

Bytes rtp_packet(uint16_t seq, uint32_t ssrc, const Bytes& payload, uint8_t pt = 111,
                 uint32_t timestamp = 0x11223344) {
    Bytes p = {0x80, pt, uint8_t(seq >> 8), uint8_t(seq)};
    auto ts = be32(timestamp), s = be32(ssrc);
    p.insert(p.end(), ts.begin(), ts.end());
    p.insert(p.end(), s.begin(), s.end());
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

// A receiver report with one report block (RFC 3550 §6.4.2), 32 bytes.
Bytes rtcp_rr(uint32_t ssrc) {
    Bytes p = {0x81, 201, 0x00, 0x07};
    auto s = be32(ssrc);
    p.insert(p.end(), s.begin(), s.end());
    for (int i = 0; i < 24; ++i)
        p.push_back(uint8_t(0x30 + i));
    return p;
}

Bytes payload_of(size_t n, uint8_t seed = 0) {
    Bytes p(n);
    for (size_t i = 0; i < n; ++i)
        p[i] = uint8_t(seed + i * 7);
    return p;
}

SrtpSession make(SrtpProfile profile, const Bytes& key_salt, bool outbound) {
    auto s = SrtpSession::create(profile, key_salt, outbound);
    if (!s) ADD_FAILURE() << s.error();
    return std::move(s.value());
}

Bytes key_for(SrtpProfile profile, uint8_t seed) {
    return payload_of(srtp_key_length(profile) + srtp_salt_length(profile), seed);
}

// Protects `packet` with room for the trailer and returns the SRTP bytes.
Bytes protect(SrtpSession& s, const Bytes& packet, bool rtcp = false) {
    Bytes buf = packet;
    buf.resize(packet.size() + 64, 0xEE);
    auto r = rtcp ? s.protect_rtcp(buf, packet.size()) : s.protect_rtp(buf, packet.size());
    if (!r) {
        ADD_FAILURE() << "protect failed: " << to_string(r.error());
        return {};
    }
    buf.resize(*r);
    return buf;
}

Result<Bytes, SrtpError> unprotect(SrtpSession& s, Bytes packet, bool rtcp = false) {
    auto r =
        rtcp ? s.unprotect_rtcp(packet, packet.size()) : s.unprotect_rtp(packet, packet.size());
    if (!r) return err(r.error());
    packet.resize(*r);
    return packet;
}

// ---------------------------------------------------------------------------------------------
// Profile facts and RFC 5764 §4.2 key splitting
// ---------------------------------------------------------------------------------------------

TEST(SrtpProfile, FactsPerProfile) {
    EXPECT_EQ(srtp_key_length(SrtpProfile::aes128_cm_sha1_80), 16u);
    EXPECT_EQ(srtp_salt_length(SrtpProfile::aes128_cm_sha1_80), 14u);
    EXPECT_EQ(srtp_key_length(SrtpProfile::aead_aes_128_gcm), 16u);
    EXPECT_EQ(srtp_salt_length(SrtpProfile::aead_aes_128_gcm), 12u);
    EXPECT_EQ(srtp_rtp_overhead(SrtpProfile::aes128_cm_sha1_80), 10u);
    EXPECT_EQ(srtp_rtp_overhead(SrtpProfile::aead_aes_128_gcm), 16u);
    EXPECT_EQ(srtcp_overhead(SrtpProfile::aes128_cm_sha1_80), 14u);
    EXPECT_EQ(srtcp_overhead(SrtpProfile::aead_aes_128_gcm), 20u);
    EXPECT_EQ(srtp_profile_name(SrtpProfile::aes128_cm_sha1_80), "SRTP_AES128_CM_SHA1_80");
    EXPECT_EQ(srtp_profile_name(SrtpProfile::aead_aes_128_gcm), "SRTP_AEAD_AES_128_GCM");
    EXPECT_EQ(srtp_profile_id(SrtpProfile::aes128_cm_sha1_80), 0x0001);
    EXPECT_EQ(srtp_profile_id(SrtpProfile::aead_aes_128_gcm), 0x0007);
    EXPECT_EQ(srtp_profile_from_id(0x0001), SrtpProfile::aes128_cm_sha1_80);
    EXPECT_EQ(srtp_profile_from_id(0x0007), SrtpProfile::aead_aes_128_gcm);
    EXPECT_FALSE(srtp_profile_from_id(0x0002).has_value()); // SRTP_AES128_CM_SHA1_32
    EXPECT_FALSE(srtp_profile_from_id(0x0008).has_value()); // SRTP_AEAD_AES_256_GCM
    EXPECT_FALSE(srtp_profile_from_id(0x0000).has_value());
}

TEST(SplitKeyingMaterial, Rfc5764LayoutForBothRolesAndProfiles) {
    for (auto profile : {SrtpProfile::aes128_cm_sha1_80, SrtpProfile::aead_aes_128_gcm}) {
        const size_t k = srtp_key_length(profile), s = srtp_salt_length(profile);
        Bytes exported(2 * (k + s));
        for (size_t i = 0; i < exported.size(); ++i)
            exported[i] = uint8_t(i);
        const Bytes client_key(exported.begin(), exported.begin() + k);
        const Bytes server_key(exported.begin() + k, exported.begin() + 2 * k);
        const Bytes client_salt(exported.begin() + 2 * k, exported.begin() + 2 * k + s);
        const Bytes server_salt(exported.begin() + 2 * k + s, exported.end());

        auto client = split_keying_material(profile, exported, true);
        auto server = split_keying_material(profile, exported, false);
        EXPECT_EQ(client.local_key_salt, concat({client_key, client_salt}));
        EXPECT_EQ(client.remote_key_salt, concat({server_key, server_salt}));
        EXPECT_EQ(server.local_key_salt, client.remote_key_salt);
        EXPECT_EQ(server.remote_key_salt, client.local_key_salt);
        EXPECT_EQ(client.local_key_salt.size(), k + s);
    }
}

TEST(SplitKeyingMaterial, WrongSizeGivesNothing) {
    Bytes exported(59); // one short of 2 * (16 + 14)
    auto m = split_keying_material(SrtpProfile::aes128_cm_sha1_80, exported, true);
    EXPECT_TRUE(m.local_key_salt.empty());
    EXPECT_TRUE(m.remote_key_salt.empty());
    exported.resize(60); // right for AES-CM, wrong for GCM (56)
    EXPECT_TRUE(split_keying_material(SrtpProfile::aead_aes_128_gcm, exported, true)
                    .local_key_salt.empty());
    EXPECT_EQ(
        split_keying_material(SrtpProfile::aes128_cm_sha1_80, exported, true).local_key_salt.size(),
        30u);
}

TEST(SrtpSession, CreateChecksKeySize) {
    auto bad = SrtpSession::create(SrtpProfile::aead_aes_128_gcm, Bytes(30), true);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("28"), std::string::npos) << bad.error();
    EXPECT_FALSE(SrtpSession::create(SrtpProfile::aes128_cm_sha1_80, Bytes(28), true));
    EXPECT_FALSE(SrtpSession::create(SrtpProfile::aes128_cm_sha1_80, Bytes{}, false));
    auto good = SrtpSession::create(SrtpProfile::aes128_cm_sha1_80, Bytes(30, 1), true);
    ASSERT_TRUE(good) << good.error();
    EXPECT_TRUE(good->outbound());
    EXPECT_EQ(good->profile(), SrtpProfile::aes128_cm_sha1_80);
}

// ---------------------------------------------------------------------------------------------
// Behaviour, for both profiles
// ---------------------------------------------------------------------------------------------

class SrtpBothProfiles : public ::testing::TestWithParam<SrtpProfile> {};

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpBothProfiles,
                         ::testing::Values(SrtpProfile::aes128_cm_sha1_80,
                                           SrtpProfile::aead_aes_128_gcm),
                         [](const auto& info) {
                             return std::string(srtp_profile_name(info.param));
                         });

TEST_P(SrtpBothProfiles, RtpRoundTrip) {
    const auto profile = GetParam();
    const Bytes key = key_for(profile, 3);
    auto tx = make(profile, key, true);
    auto rx = make(profile, key, false);
    for (uint16_t seq = 65530; seq != 10; ++seq) { // crosses the ROC wrap (RFC 3711 §3.3.1)
        for (uint32_t ssrc : {0x12345678u, 0x9abcdef0u}) {
            Bytes plain = rtp_packet(seq, ssrc, payload_of(160, uint8_t(seq)));
            Bytes srtp = protect(tx, plain);
            ASSERT_EQ(srtp.size(), plain.size() + srtp_rtp_overhead(profile));
            EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12, srtp.begin())); // header
            EXPECT_NE(Bytes(srtp.begin() + 12, srtp.begin() + plain.size()),
                      Bytes(plain.begin() + 12, plain.end()));
            auto back = unprotect(rx, srtp);
            ASSERT_TRUE(back) << to_string(back.error());
            EXPECT_EQ(*back, plain);
        }
    }
}

TEST_P(SrtpBothProfiles, RtpWithCsrcAndExtensionRoundTrips) {
    const auto profile = GetParam();
    const Bytes key = key_for(profile, 9);
    auto tx = make(profile, key, true);
    auto rx = make(profile, key, false);
    // X=1, CC=1; one-byte-header extension (RFC 8285 §4.2) with one 4-byte word.
    Bytes plain = {0x91, 0x6f, 0x00, 0x05, 0,    0,    0,    1,    0xca, 0xfe, 0xba, 0xbe,
                   0x01, 0x02, 0x03, 0x04, 0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0,    0};
    Bytes body = payload_of(20);
    plain.insert(plain.end(), body.begin(), body.end());
    auto back = unprotect(rx, protect(tx, plain));
    ASSERT_TRUE(back) << to_string(back.error());
    EXPECT_EQ(*back, plain);
}

TEST_P(SrtpBothProfiles, TamperedTagIsAuthFail) {
    const auto profile = GetParam();
    const Bytes key = key_for(profile, 5);
    auto tx = make(profile, key, true);
    auto rx = make(profile, key, false);
    Bytes srtp = protect(tx, rtp_packet(100, 0x01020304, payload_of(60)));
    Bytes bad_tag = srtp;
    bad_tag.back() ^= 0x01;
    auto r = unprotect(rx, bad_tag);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::auth_fail);

    Bytes bad_payload = srtp;
    bad_payload[20] ^= 0x80;
    r = unprotect(rx, bad_payload);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::auth_fail);

    Bytes bad_header = srtp;
    bad_header[3] ^= 0x01; // sequence number is authenticated too
    r = unprotect(rx, bad_header);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::auth_fail);

    // The genuine packet still passes: failures do not advance the replay window.
    EXPECT_TRUE(unprotect(rx, srtp));
}

TEST_P(SrtpBothProfiles, WrongKeyIsAuthFail) {
    const auto profile = GetParam();
    auto tx = make(profile, key_for(profile, 1), true);
    auto rx = make(profile, key_for(profile, 2), false);
    auto r = unprotect(rx, protect(tx, rtp_packet(7, 0x55, payload_of(30))));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::auth_fail);
}

TEST_P(SrtpBothProfiles, ReplayedPacketIsReplayFail) {
    const auto profile = GetParam();
    const Bytes key = key_for(profile, 11);
    auto tx = make(profile, key, true);
    auto rx = make(profile, key, false);
    Bytes first = protect(tx, rtp_packet(1000, 0xabcdef01, payload_of(50)));
    Bytes second = protect(tx, rtp_packet(1001, 0xabcdef01, payload_of(50)));
    ASSERT_TRUE(unprotect(rx, first));
    ASSERT_TRUE(unprotect(rx, second));
    auto r = unprotect(rx, first);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::replay_fail);
    r = unprotect(rx, second);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::replay_fail);
}

TEST_P(SrtpBothProfiles, OutOfOrderWithinWindowIsAccepted) {
    const auto profile = GetParam();
    const Bytes key = key_for(profile, 12);
    auto tx = make(profile, key, true);
    auto rx = make(profile, key, false);
    std::vector<Bytes> sent;
    for (uint16_t seq = 0; seq < 600; ++seq)
        sent.push_back(protect(tx, rtp_packet(seq, 7, payload_of(10))));
    ASSERT_TRUE(unprotect(rx, sent[599]));
    // 599 back is inside a 1024-packet window (libsrtp's default of 128 would refuse it).
    EXPECT_TRUE(unprotect(rx, sent[0]));
    EXPECT_TRUE(unprotect(rx, sent[300]));
}

TEST_P(SrtpBothProfiles, RtcpRoundTripTamperAndReplay) {
    const auto profile = GetParam();
    const Bytes key = key_for(profile, 21);
    auto tx = make(profile, key, true);
    auto rx = make(profile, key, false);
    const Bytes plain = rtcp_rr(0x0badcafe);
    Bytes srtcp = protect(tx, plain, true);
    ASSERT_EQ(srtcp.size(), plain.size() + srtcp_overhead(profile));
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 8, srtcp.begin()));

    Bytes tampered = srtcp;
    tampered[10] ^= 0x04;
    auto r = unprotect(rx, tampered, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::auth_fail);

    auto back = unprotect(rx, srtcp, true);
    ASSERT_TRUE(back) << to_string(back.error());
    EXPECT_EQ(*back, plain);

    r = unprotect(rx, srtcp, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::replay_fail);

    // A second report gets the next SRTCP index and passes.
    auto next = unprotect(rx, protect(tx, plain, true), true);
    ASSERT_TRUE(next) << to_string(next.error());
    EXPECT_EQ(*next, plain);
}

TEST_P(SrtpBothProfiles, ProtectNeedsRoomForTheTrailer) {
    const auto profile = GetParam();
    auto tx = make(profile, key_for(profile, 4), true);
    const Bytes plain = rtp_packet(1, 2, payload_of(40));
    Bytes exact = plain;
    auto r = tx.protect_rtp(exact, exact.size());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::no_room);

    Bytes one_short = plain;
    one_short.resize(plain.size() + srtp_rtp_overhead(profile) - 1);
    r = tx.protect_rtp(one_short, plain.size());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::no_room);

    // Exact-size heap blocks, so AddressSanitizer would catch libsrtp writing past the trailer.
    Bytes just_enough = plain;
    just_enough.resize(plain.size() + srtp_rtp_overhead(profile));
    auto exact_rtp = std::make_unique<uint8_t[]>(just_enough.size());
    std::copy(just_enough.begin(), just_enough.end(), exact_rtp.get());
    r = tx.protect_rtp(std::span<uint8_t>(exact_rtp.get(), just_enough.size()), plain.size());
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(*r, just_enough.size());

    const Bytes rr = rtcp_rr(2);
    Bytes rtcp_short = rr;
    rtcp_short.resize(rr.size() + srtcp_overhead(profile) - 1);
    r = tx.protect_rtcp(rtcp_short, rr.size());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SrtpError::no_room);
    Bytes rtcp_enough = rr;
    rtcp_enough.resize(rr.size() + srtcp_overhead(profile));
    auto exact_rtcp = std::make_unique<uint8_t[]>(rtcp_enough.size());
    std::copy(rtcp_enough.begin(), rtcp_enough.end(), exact_rtcp.get());
    r = tx.protect_rtcp(std::span<uint8_t>(exact_rtcp.get(), rtcp_enough.size()), rr.size());
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(*r, rtcp_enough.size());
}

TEST_P(SrtpBothProfiles, MalformedPacketsAreBadPacket) {
    const auto profile = GetParam();
    const Bytes key = key_for(profile, 6);
    auto tx = make(profile, key, true);
    auto rx = make(profile, key, false);
    auto expect_bad = [](Result<size_t, SrtpError> r, const char* what) {
        ASSERT_FALSE(r) << what;
        EXPECT_EQ(r.error(), SrtpError::bad_packet) << what;
    };
    Bytes buf(256, 0);
    // length beyond the buffer
    expect_bad(tx.protect_rtp(std::span<uint8_t>(buf).first(20), 30), "length > buffer");
    expect_bad(rx.unprotect_rtp(std::span<uint8_t>(buf).first(20), 30), "length > buffer");
    // shorter than the RTP header
    Bytes tiny = {0x80, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    tiny.resize(64);
    expect_bad(tx.protect_rtp(tiny, 11), "11-byte RTP");
    // version 1
    Bytes v1 = rtp_packet(1, 1, payload_of(20));
    v1[0] = 0x40;
    v1.resize(v1.size() + 32);
    expect_bad(tx.protect_rtp(v1, 32), "version 1");
    // CSRC count pointing past the end
    Bytes cc = rtp_packet(1, 1, {});
    cc[0] = 0x8F;
    cc.resize(64);
    expect_bad(tx.protect_rtp(cc, 12), "CSRC overflow");
    // extension length pointing past the end
    Bytes ext = rtp_packet(1, 1, {0xbe, 0xde, 0x00, 0x09, 1, 2, 3, 4});
    ext[0] = 0x90;
    ext.resize(ext.size() + 32);
    expect_bad(tx.protect_rtp(ext, 20), "extension overflow");
    // SRTP too short to carry the tag
    Bytes short_srtp = rtp_packet(1, 1, {});
    short_srtp.resize(12 + srtp_rtp_overhead(profile) - 1);
    expect_bad(rx.unprotect_rtp(short_srtp, short_srtp.size()), "no room for a tag");
    // RTCP shorter than header + SSRC, and SRTCP without its trailer
    Bytes rtcp = {0x80, 200, 0, 1, 0, 0, 0};
    rtcp.resize(64);
    expect_bad(tx.protect_rtcp(rtcp, 7), "7-byte RTCP");
    Bytes srtcp = rtcp_rr(1);
    expect_bad(rx.unprotect_rtcp(srtcp, 8 + srtcp_overhead(profile) - 1), "SRTCP no trailer");
    // Empty
    expect_bad(rx.unprotect_rtp(std::span<uint8_t>{}, 0), "empty");
    expect_bad(rx.unprotect_rtcp(std::span<uint8_t>{}, 0), "empty RTCP");
}

TEST_P(SrtpBothProfiles, GarbageNeverCrashes) {
    const auto profile = GetParam();
    auto rx = make(profile, key_for(profile, 8), false);
    uint32_t x = 12345;
    for (int i = 0; i < 2000; ++i) {
        Bytes p(size_t(i % 200));
        for (auto& b : p) {
            x = x * 1103515245u + 12345u;
            b = uint8_t(x >> 16);
        }
        if (!p.empty()) p[0] = uint8_t(0x80 | (p[0] & 0x3F));
        auto r = (i & 1) ? rx.unprotect_rtcp(p, p.size()) : rx.unprotect_rtp(p, p.size());
        EXPECT_FALSE(r);
    }
}

TEST(SrtpSession, MoveKeepsTheStream) {
    const Bytes key = key_for(SrtpProfile::aead_aes_128_gcm, 30);
    auto tx = make(SrtpProfile::aead_aes_128_gcm, key, true);
    auto rx = make(SrtpProfile::aead_aes_128_gcm, key, false);
    SrtpSession moved = std::move(rx);
    auto back = unprotect(moved, protect(tx, rtp_packet(9, 9, payload_of(9))));
    EXPECT_TRUE(back);
}

// ---------------------------------------------------------------------------------------------
// Known answers. libsrtp only takes a master key and salt, so a vector given in session keys
// cannot be fed to it directly. Each test below therefore (1) checks the test's own reference
// primitive against the published vector, then (2) pushes a packet through the adapter and
// compares every output byte with the reference computed from the RFC's session values (or,
// for GCM, from session keys derived by the reference KDF). Any mistake in key derivation, IV
// formation, counter layout, tag computation or trailer format fails step (2).
// ---------------------------------------------------------------------------------------------

// RFC 3711 Appendix B.2 (AES-CM keystream). Checks the reference AES-CM generator, including
// a counter carry (…FEFF → …FF00), against the published keystream blocks.
TEST(SrtpKnownAnswer, Rfc3711B2AesCmKeystreamOfTheReference) {
    const Bytes session_key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    const Bytes iv = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
    Bytes ks = aes_cm_keystream(session_key, iv, 48);
    EXPECT_EQ(ks, hex("E03EAD0935C95E80E166B16DD92B4EB4"
                      "D23513162B02D0F72A43A2FE4A5F97AB"
                      "41E95B3BB0A2E8DD477901E4FCA894C0"));
    Bytes tail = aes_cm_keystream(session_key, hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"), 48);
    EXPECT_EQ(tail, hex("EC8CDF7398607CB0F2D21675EA9EA1E4"
                        "362B7C3C6773516318A077D7FC5073AE"
                        "6A2CC3787889374FBEB4C81B17BA6C44"));
}

const Bytes kB3MasterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Bytes kB3MasterSalt = hex("0EC675AD498AFEEBB6960B3AABE6");
const Bytes kB3CipherKey = hex("C61E7A93744F39EE10734AFE3FF7A087");
const Bytes kB3CipherSalt = hex("30CBBC08863D8C85D49DB34A9AE1");
// The first 160 bits of the B.3 auth key: HMAC-SHA1's key (RFC 3711 §4.2.1, n_a = 160).
const Bytes kB3AuthKey = hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");

// RFC 3711 Appendix B.3 (key derivation). Checks the reference KDF.
TEST(SrtpKnownAnswer, Rfc3711B3KeyDerivationOfTheReference) {
    EXPECT_EQ(kdf(kB3MasterKey, kB3MasterSalt, 0x00, 16), kB3CipherKey);
    EXPECT_EQ(kdf(kB3MasterKey, kB3MasterSalt, 0x02, 16),
              hex("30CBBC08863D8C85D49DB34A9AE17AC6")); // full AES-CM output block
    EXPECT_EQ(kdf(kB3MasterKey, kB3MasterSalt, 0x01, 20), kB3AuthKey);
    // The first auth-key block as printed (later blocks are not used for an n_a = 160 key).
    EXPECT_EQ(kdf(kB3MasterKey, kB3MasterSalt, 0x01, 16), hex("CEBE321F6FF7716B6FD4AB49AF256A15"));
}

// The B.3 master key and salt through the adapter: an SRTP packet protected by libsrtp must be
// exactly  header || plaintext XOR AES-CM(B.3 cipher key, IV(B.3 cipher salt, SSRC, index))
//          || HMAC-SHA1(B.3 auth key, header || ciphertext || ROC)[0..10)
// (RFC 3711 §3.1, §4.1.1, §4.2). Checked for SSRC 0 / SEQ 0, where the IV is the B.3 cipher salt
// itself (so the first keystream block is AES(cipher key, 30CBBC08…9AE1 0000)), and for a
// second stream with non-zero SSRC and SEQ and a payload of 2.5 blocks.
TEST(SrtpKnownAnswer, Rfc3711B3MasterKeyThroughTheAdapter) {
    const Bytes master = concat({kB3MasterKey, kB3MasterSalt});
    auto tx = make(SrtpProfile::aes128_cm_sha1_80, master, true);
    auto rx = make(SrtpProfile::aes128_cm_sha1_80, master, false);

    struct Case {
        uint32_t ssrc;
        uint16_t seq;
        size_t payload;
    };
    for (const Case& c : {Case{0x00000000, 0x0000, 16}, Case{0xDECAFBAD, 0x1234, 40},
                          Case{0xDECAFBAD, 0x1235, 1}}) {
        const Bytes plaintext = payload_of(c.payload, 0xAB);
        const Bytes plain = rtp_packet(c.seq, c.ssrc, plaintext, 0x0F, 0xCAFEBABE);
        const Bytes header(plain.begin(), plain.begin() + 12);
        const uint64_t index = c.seq; // ROC 0: the first packets of each stream

        const Bytes keystream =
            aes_cm_keystream(kB3CipherKey, srtp_cm_iv(kB3CipherSalt, c.ssrc, index), c.payload);
        const Bytes ciphertext = xor_bytes(plaintext, keystream);
        Bytes tag = hmac_sha1(kB3AuthKey, concat({header, ciphertext, be32(0)}));
        tag.resize(10);
        const Bytes expected = concat({header, ciphertext, tag});

        Bytes srtp = protect(tx, plain);
        EXPECT_EQ(srtp, expected) << "ssrc " << c.ssrc << " seq " << c.seq;
        auto back = unprotect(rx, srtp);
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, plain);
    }
    // The first keystream block for SSRC 0 / SEQ 0 is literally AES(cipher key, salt || 0000).
    EXPECT_EQ(aes_cm_keystream(kB3CipherKey, srtp_cm_iv(kB3CipherSalt, 0, 0), 16),
              aes_block(kB3CipherKey, hex("30CBBC08863D8C85D49DB34A9AE10000")));
}

// SRTCP with the B.3 master key: SRTCP session keys use labels 3, 4, 5 (RFC 3711 §4.3.2).
// Expected: header(8) || encrypted rest || E|index || HMAC-SHA1(header..E|index)[0..10)
// with IV(k_s, SSRC, SRTCP index) (RFC 3711 §3.4, §4.1.1).
TEST(SrtpKnownAnswer, Rfc3711B3MasterKeySrtcpThroughTheAdapter) {
    const Bytes master = concat({kB3MasterKey, kB3MasterSalt});
    auto tx = make(SrtpProfile::aes128_cm_sha1_80, master, true);
    const Bytes rtcp_key = kdf(kB3MasterKey, kB3MasterSalt, 0x03, 16);
    const Bytes rtcp_auth = kdf(kB3MasterKey, kB3MasterSalt, 0x04, 20);
    const Bytes rtcp_salt = kdf(kB3MasterKey, kB3MasterSalt, 0x05, 14);
    EXPECT_NE(rtcp_key, kB3CipherKey);

    const uint32_t ssrc = 0x0BADCAFE;
    const Bytes plain = rtcp_rr(ssrc);
    for (int round = 0; round < 2; ++round) {
        Bytes srtcp = protect(tx, plain, true);
        ASSERT_EQ(srtcp.size(), plain.size() + 14);
        // The E flag is set and the index is whatever libsrtp chose; read it from the trailer.
        const Bytes e_index(srtcp.end() - 14, srtcp.end() - 10);
        ASSERT_TRUE(e_index[0] & 0x80);
        const uint32_t index = (uint32_t(e_index[0] & 0x7F) << 24) | (uint32_t(e_index[1]) << 16) |
                               (uint32_t(e_index[2]) << 8) | e_index[3];
        EXPECT_LT(index, 4u);
        const Bytes header(plain.begin(), plain.begin() + 8);
        const Bytes body(plain.begin() + 8, plain.end());
        const Bytes ct = xor_bytes(
            body, aes_cm_keystream(rtcp_key, srtp_cm_iv(rtcp_salt, ssrc, index), body.size()));
        Bytes tag = hmac_sha1(rtcp_auth, concat({header, ct, e_index}));
        tag.resize(10);
        EXPECT_EQ(srtcp, concat({header, ct, e_index, tag})) << "round " << round;
    }
}

// RFC 7714 §16 (AEAD_AES_128_GCM, RTP): session key 000102…0f, salt "Quid pro quo", the
// RTP header 8040f17b 8041f8d3 5501a0b2 and the 38-byte plaintext. Checks the reference GCM
// and the RFC 7714 §8.1 IV against the published ciphertext || tag.
const Bytes kGcmKey = hex("000102030405060708090a0b0c0d0e0f");
const Bytes kGcmSalt = hex("517569642070726f2071756f");
const Bytes kGcmRtpHeader = hex("8040f17b 8041f8d3 5501a0b2");
const Bytes kGcmRtpPlaintext = hex("47616c6c 69612065 7374206f 6d6e6973 20646976"
                                   "69736120 696e2070 61727465 73207472 6573");

TEST(SrtpKnownAnswer, Rfc7714RtpVectorOfTheReference) {
    const Bytes iv = srtp_gcm_iv(kGcmSalt, 0x5501a0b2, 0, 0xf17b);
    EXPECT_EQ(concat({kGcmRtpHeader, aes_gcm(kGcmKey, iv, kGcmRtpHeader, kGcmRtpPlaintext)}),
              hex("8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5"
                  "0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439"
                  "0cce"));
}

// RFC 7714 §17 (AEAD_AES_128_GCM, SRTCP): SRTCP index 0x5d4; AAD = header || E|index;
// output = header || ciphertext || tag || E|index (RFC 7714 §9).
TEST(SrtpKnownAnswer, Rfc7714SrtcpVectorOfTheReference) {
    const Bytes plain = hex("81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
                            "4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef");
    const Bytes header(plain.begin(), plain.begin() + 8);
    const Bytes body(plain.begin() + 8, plain.end());
    const Bytes e_index = hex("800005d4");
    const Bytes iv = srtcp_gcm_iv(kGcmSalt, 0x4d617273, 0x5d4);
    EXPECT_EQ(concat({header, aes_gcm(kGcmKey, iv, concat({header, e_index}), body), e_index}),
              hex("81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d"
                  "c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872"
                  "45d9eade 800005d4"));
}

// The RFC 7714 §16 packet through the adapter. libsrtp cannot take the vector's session key, so
// the test keys it with a master key/salt and derives the session key and salt itself (RFC 7714
// §11: the RFC 3711 AES-CM PRF, labels 0 and 2, the 96-bit salt times 2^16). The adapter's
// output must equal the RFC 7714 construction with those keys byte for byte, so a wrong KDF,
// salt padding, IV layout (SSRC/ROC/SEQ placement), AAD or tag placement all fail here.
TEST(SrtpKnownAnswer, Rfc7714PacketThroughTheAdapter) {
    const Bytes master_key = kB3MasterKey;
    const Bytes master_salt = hex("0EC675AD498AFEEBB6960B3A"); // 96 bits
    auto tx = make(SrtpProfile::aead_aes_128_gcm, concat({master_key, master_salt}), true);
    auto rx = make(SrtpProfile::aead_aes_128_gcm, concat({master_key, master_salt}), false);
    const Bytes session_key = kdf(master_key, master_salt, 0x00, 16);
    const Bytes session_salt = kdf(master_key, master_salt, 0x02, 12);

    const Bytes plain = concat({kGcmRtpHeader, kGcmRtpPlaintext});
    const Bytes iv = srtp_gcm_iv(session_salt, 0x5501a0b2, 0, 0xf17b);
    const Bytes expected =
        concat({kGcmRtpHeader, aes_gcm(session_key, iv, kGcmRtpHeader, kGcmRtpPlaintext)});
    Bytes srtp = protect(tx, plain);
    EXPECT_EQ(srtp, expected);
    // Keyed with the RFC's own session key the result would differ: the KDF really ran.
    EXPECT_NE(srtp,
              concat({kGcmRtpHeader, aes_gcm(kGcmKey, srtp_gcm_iv(kGcmSalt, 0x5501a0b2, 0, 0xf17b),
                                             kGcmRtpHeader, kGcmRtpPlaintext)}));
    auto back = unprotect(rx, srtp);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, plain);

    // SRTCP under the same master key: labels 3 and 5, RFC 7714 §9 layout.
    const Bytes rtcp_key = kdf(master_key, master_salt, 0x03, 16);
    const Bytes rtcp_salt = kdf(master_key, master_salt, 0x05, 12);
    const Bytes rtcp = hex("81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
                           "4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef");
    Bytes srtcp = protect(tx, rtcp, true);
    ASSERT_EQ(srtcp.size(), rtcp.size() + 20);
    const Bytes e_index(srtcp.end() - 4, srtcp.end());
    ASSERT_TRUE(e_index[0] & 0x80);
    const uint32_t index = (uint32_t(e_index[0] & 0x7F) << 24) | (uint32_t(e_index[1]) << 16) |
                           (uint32_t(e_index[2]) << 8) | e_index[3];
    const Bytes header(rtcp.begin(), rtcp.begin() + 8);
    const Bytes body(rtcp.begin() + 8, rtcp.end());
    EXPECT_EQ(srtcp, concat({header,
                             aes_gcm(rtcp_key, srtcp_gcm_iv(rtcp_salt, 0x4d617273, index),
                                     concat({header, e_index}), body),
                             e_index}));
}

} // namespace
} // namespace wabridge::rtc

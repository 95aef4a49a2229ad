#include "wabridge/rtp/rtp_packet.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace wabridge::rtp {
namespace {

using Bytes = std::vector<uint8_t>;

// V=2 P=1 X=1 CC=2, M=1 PT=96, two CSRCs, a one-word extension, 3 payload octets, 3 of padding.
const Bytes kFullPacket = {
    0xb2, 0xe0, 0x12, 0x34, // V P X CC | M PT | sequence 0x1234
    0xde, 0xad, 0xbe, 0xef, // timestamp
    0x01, 0x02, 0x03, 0x04, // SSRC
    0x11, 0x11, 0x11, 0x11, // CSRC 1
    0x22, 0x22, 0x22, 0x22, // CSRC 2
    0xbe, 0xde, 0x00, 0x01, // extension profile 0xBEDE, 1 word
    0x10, 0xaa, 0x00, 0x00, // extension data
    0xca, 0xfe, 0xba,       // payload
    0x00, 0x00, 0x03,       // padding, count 3
};

RtpError parse_error(const Bytes& b) {
    auto r = parse_rtp(b);
    EXPECT_FALSE(r.ok());
    return r.ok() ? RtpError{} : r.error();
}

TEST(RtpPacket, ParsesCsrcsExtensionAndPadding) {
    auto r = parse_rtp(kFullPacket);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    const RtpPacket& p = r.value();
    EXPECT_TRUE(p.header.marker);
    EXPECT_EQ(p.header.payload_type, 96);
    EXPECT_EQ(p.header.sequence, 0x1234);
    EXPECT_EQ(p.header.timestamp, 0xdeadbeefu);
    EXPECT_EQ(p.header.ssrc, 0x01020304u);
    EXPECT_EQ(p.header.csrc_count, 2);
    EXPECT_TRUE(p.header.has_extension);
    EXPECT_EQ(p.header.extension_profile, 0xbede);
    ASSERT_EQ(p.csrcs.size(), 8u);
    EXPECT_EQ(p.csrcs.data(), kFullPacket.data() + 12); // a view, not a copy
    EXPECT_EQ(p.csrc(0), 0x11111111u);
    EXPECT_EQ(p.csrc(1), 0x22222222u);
    EXPECT_EQ(p.csrc(2), 0u);
    EXPECT_EQ(Bytes(p.extension.begin(), p.extension.end()), (Bytes{0x10, 0xaa, 0x00, 0x00}));
    EXPECT_EQ(Bytes(p.payload.begin(), p.payload.end()), (Bytes{0xca, 0xfe, 0xba}));
    EXPECT_EQ(p.payload.data(), kFullPacket.data() + 28);
    EXPECT_EQ(p.padding, 3);
}

TEST(RtpPacket, ParsesMinimalHeaderWithEmptyPayload) {
    Bytes b = {0x80, 0x6f, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    auto r = parse_rtp(b);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->header.marker);
    EXPECT_EQ(r->header.payload_type, 111);
    EXPECT_EQ(r->header.sequence, 65535);
    EXPECT_EQ(r->header.ssrc, 0xffffffffu);
    EXPECT_EQ(r->header.csrc_count, 0);
    EXPECT_FALSE(r->header.has_extension);
    EXPECT_TRUE(r->csrcs.empty());
    EXPECT_TRUE(r->extension.empty());
    EXPECT_TRUE(r->payload.empty());
    EXPECT_EQ(r->padding, 0);
}

TEST(RtpPacket, PaddingMayCoverEverythingAfterTheHeader) {
    // RFC 3550 §5.1: a packet of only padding (e.g. for bandwidth probing) is legal.
    Bytes b = {0xa0, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4};
    auto r = parse_rtp(b);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->padding, 4);
    EXPECT_TRUE(r->payload.empty());
}

TEST(RtpPacket, EmptyExtensionIsAccepted) {
    Bytes b = {0x90, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x00, 0x42};
    auto r = parse_rtp(b);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->header.extension_profile, 0x1000);
    EXPECT_TRUE(r->extension.empty());
    EXPECT_EQ(Bytes(r->payload.begin(), r->payload.end()), Bytes{0x42});
}

TEST(RtpPacket, TooShort) {
    EXPECT_EQ(parse_error({}), RtpError::too_short);
    EXPECT_EQ(parse_error(Bytes(kFullPacket.begin(), kFullPacket.begin() + 11)),
              RtpError::too_short);
}

TEST(RtpPacket, BadVersion) {
    for (uint8_t first : {0x00, 0x40, 0xc0}) {
        Bytes b = kFullPacket;
        b[0] = static_cast<uint8_t>((b[0] & 0x3f) | first);
        EXPECT_EQ(parse_error(b), RtpError::bad_version) << int(first);
    }
}

TEST(RtpPacket, TruncatedCsrcList) {
    // CC=2 but only one CSRC follows.
    Bytes b = {0x82, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x11, 0x11, 0x11, 0x11};
    EXPECT_EQ(parse_error(b), RtpError::truncated_csrc);
    // CC=15 with a 12-octet datagram.
    Bytes c = {0x8f, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_EQ(parse_error(c), RtpError::truncated_csrc);
}

TEST(RtpPacket, TruncatedExtension) {
    // X=1 but the 4-octet extension header is cut.
    Bytes header_cut = {0x90, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0x00};
    EXPECT_EQ(parse_error(header_cut), RtpError::truncated_extension);
    // The length says 2 words; only 1 follows.
    Bytes data_cut = {0x90, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x02, 1, 2, 3, 4};
    EXPECT_EQ(parse_error(data_cut), RtpError::truncated_extension);
    // A length of 0xffff words, far past the end.
    Bytes huge = kFullPacket;
    huge[22] = 0xff;
    huge[23] = 0xff;
    EXPECT_EQ(parse_error(huge), RtpError::truncated_extension);
}

TEST(RtpPacket, BadPadding) {
    Bytes zero = kFullPacket;
    zero.back() = 0; // a count of 0 cannot include itself
    EXPECT_EQ(parse_error(zero), RtpError::bad_padding);

    Bytes too_big = kFullPacket;
    too_big.back() = 7; // payload 3 + padding 3 = 6 octets after the extension
    EXPECT_EQ(parse_error(too_big), RtpError::bad_padding);
    too_big.back() = 6; // exactly everything after the extension: legal
    EXPECT_TRUE(parse_rtp(too_big).ok());

    too_big.back() = 255;
    EXPECT_EQ(parse_error(too_big), RtpError::bad_padding);

    // P=1 and nothing after the fixed header: the "count" would be the SSRC's last octet.
    Bytes nothing = {0xa0, 0x6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_EQ(parse_error(nothing), RtpError::bad_padding);
}

TEST(RtpPacket, ErrorNames) {
    EXPECT_EQ(to_string(RtpError::too_short), "too_short");
    EXPECT_EQ(to_string(RtpError::bad_version), "bad_version");
    EXPECT_EQ(to_string(RtpError::truncated_csrc), "truncated_csrc");
    EXPECT_EQ(to_string(RtpError::truncated_extension), "truncated_extension");
    EXPECT_EQ(to_string(RtpError::bad_padding), "bad_padding");
}

TEST(RtpPacket, WritesExactBytes) {
    RtpHeader h;
    h.marker = true;
    h.payload_type = 111;
    h.sequence = 0xabcd;
    h.timestamp = 0x01020304;
    h.ssrc = 0xcafebabe;
    h.csrc_count = 3;       // ignored: no CSRCs are written
    h.has_extension = true; // ignored
    const Bytes payload = {0xf8, 0xff, 0xfe};
    uint8_t out[32];
    ASSERT_EQ(write_rtp(h, payload, out), 15u);
    EXPECT_EQ(Bytes(out, out + 15), (Bytes{0x80, 0xef, 0xab, 0xcd, 0x01, 0x02, 0x03, 0x04, 0xca,
                                           0xfe, 0xba, 0xbe, 0xf8, 0xff, 0xfe}));
}

TEST(RtpPacket, WriteThenParseRoundTrips) {
    RtpHeader h;
    h.payload_type = 0;
    h.sequence = 65535;
    h.timestamp = 0xffffffff;
    h.ssrc = 0;
    Bytes payload(160);
    for (size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<uint8_t>(i * 7);
    Bytes out(200);
    size_t n = write_rtp(h, payload, out);
    ASSERT_EQ(n, 172u);
    auto r = parse_rtp(std::span<const uint8_t>(out.data(), n));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->header.marker);
    EXPECT_EQ(r->header.payload_type, 0);
    EXPECT_EQ(r->header.sequence, 65535);
    EXPECT_EQ(r->header.timestamp, 0xffffffffu);
    EXPECT_EQ(r->header.ssrc, 0u);
    EXPECT_EQ(r->header.csrc_count, 0);
    EXPECT_FALSE(r->header.has_extension);
    EXPECT_EQ(r->padding, 0);
    EXPECT_EQ(Bytes(r->payload.begin(), r->payload.end()), payload);
}

TEST(RtpPacket, WriteRefusesSmallBufferAndWidePayloadType) {
    RtpHeader h;
    const Bytes payload(10, 0x55);
    Bytes out(21, 0xee);
    EXPECT_EQ(write_rtp(h, payload, out), 0u);
    EXPECT_EQ(out, Bytes(21, 0xee)); // untouched
    EXPECT_EQ(write_rtp(h, {}, std::span<uint8_t>(out.data(), 11)), 0u);
    EXPECT_EQ(write_rtp(h, {}, std::span<uint8_t>(out.data(), 12)), 12u);
    out.resize(22);
    EXPECT_EQ(write_rtp(h, payload, out), 22u);
    h.payload_type = 128;
    EXPECT_EQ(write_rtp(h, payload, out), 0u);
}

TEST(RtpPacket, WriteHandlesPayloadAlreadyInPlace) {
    // Encoded into out[12..] first, then the header is added in front of it.
    Bytes out(20, 0);
    for (size_t i = 12; i < 20; ++i)
        out[i] = static_cast<uint8_t>(i);
    RtpHeader h;
    h.payload_type = 8;
    ASSERT_EQ(write_rtp(h, std::span<const uint8_t>(out.data() + 12, 8), out), 20u);
    EXPECT_EQ(Bytes(out.begin() + 12, out.end()), (Bytes{12, 13, 14, 15, 16, 17, 18, 19}));
    EXPECT_EQ(out[1], 8);
    // Overlapping the header itself (payload at out[4..]) is moved, not clobbered.
    Bytes o2(20, 0);
    for (size_t i = 0; i < 8; ++i)
        o2[4 + i] = static_cast<uint8_t>(100 + i);
    ASSERT_EQ(write_rtp(h, std::span<const uint8_t>(o2.data() + 4, 8), o2), 20u);
    EXPECT_EQ(Bytes(o2.begin() + 12, o2.end()), (Bytes{100, 101, 102, 103, 104, 105, 106, 107}));
}

TEST(RtpPacket, LooksLikeRtcpPerRfc5761) {
    EXPECT_TRUE(looks_like_rtcp(Bytes{0x80, 200, 0, 6})); // SR
    EXPECT_TRUE(looks_like_rtcp(Bytes{0x81, 201, 0, 7})); // RR
    EXPECT_TRUE(looks_like_rtcp(Bytes{0x80, 192}));
    EXPECT_TRUE(looks_like_rtcp(Bytes{0x80, 223}));
    EXPECT_FALSE(looks_like_rtcp(Bytes{0x80, 191}));
    EXPECT_FALSE(looks_like_rtcp(Bytes{0x80, 224}));
    EXPECT_FALSE(looks_like_rtcp(Bytes{0x80, 111}));        // Opus, M=0
    EXPECT_FALSE(looks_like_rtcp(Bytes{0x80, 0x80 | 111})); // Opus, M=1
    EXPECT_FALSE(looks_like_rtcp(Bytes{0x80}));
    EXPECT_FALSE(looks_like_rtcp(Bytes{}));
    EXPECT_FALSE(looks_like_rtcp(kFullPacket));
}

} // namespace
} // namespace wabridge::rtp

#include "wabridge/rtc/demux.hpp"

#include <cstdint>
#include <gtest/gtest.h>
#include <vector>

namespace wabridge::rtc {
namespace {

std::vector<uint8_t> packet(uint8_t first, size_t size = 32, uint8_t second = 0x00) {
    std::vector<uint8_t> p(size, 0);
    if (size > 0) p[0] = first;
    if (size > 1) p[1] = second;
    return p;
}

PacketKind kind_of(const std::vector<uint8_t>& p) {
    return classify(p);
}

TEST(Demux, EmptyIsUnknown) {
    EXPECT_EQ(classify({}), PacketKind::unknown);
    std::vector<uint8_t> none;
    EXPECT_EQ(classify(none), PacketKind::unknown);
}

// RFC 7983 §7: [0..3] STUN.
TEST(Demux, StunBoundaries) {
    EXPECT_EQ(kind_of(packet(0)), PacketKind::stun);
    EXPECT_EQ(kind_of(packet(1)), PacketKind::stun);
    EXPECT_EQ(kind_of(packet(3)), PacketKind::stun);
    EXPECT_EQ(kind_of(packet(4)), PacketKind::unknown);
}

TEST(Demux, StunNeedsItsTwentyByteHeader) {
    EXPECT_EQ(kind_of(packet(0, 20)), PacketKind::stun);
    EXPECT_EQ(kind_of(packet(0, 19)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(3, 20)), PacketKind::stun);
    EXPECT_EQ(kind_of(packet(3, 19)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(1, 1)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(1, 1500)), PacketKind::stun);
}

// [16..19] ZRTP and the unassigned gap [4..15] are not ours.
TEST(Demux, ZrtpAndGapAreUnknown) {
    for (int b = 4; b <= 19; ++b) {
        EXPECT_EQ(kind_of(packet(static_cast<uint8_t>(b))), PacketKind::unknown) << b;
    }
}

// [20..63] DTLS.
TEST(Demux, DtlsBoundaries) {
    EXPECT_EQ(kind_of(packet(19)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(20)), PacketKind::dtls);
    EXPECT_EQ(kind_of(packet(22)), PacketKind::dtls); // handshake
    EXPECT_EQ(kind_of(packet(23)), PacketKind::dtls); // application data
    EXPECT_EQ(kind_of(packet(63)), PacketKind::dtls);
    EXPECT_EQ(kind_of(packet(64)), PacketKind::unknown);
    // No minimum size: the DTLS layer discards short records itself (RFC 6347 §4.1.2.7).
    EXPECT_EQ(kind_of(packet(22, 1)), PacketKind::dtls);
}

// [64..79] TURN channels, [80..127] reserved.
TEST(Demux, TurnChannelsAndReservedAreUnknown) {
    for (int b = 64; b <= 127; ++b) {
        EXPECT_EQ(kind_of(packet(static_cast<uint8_t>(b))), PacketKind::unknown) << b;
    }
}

// [128..191] RTP/RTCP; RFC 5761 §4 splits them on the second byte.
TEST(Demux, RtpFirstByteBoundaries) {
    EXPECT_EQ(kind_of(packet(127, 32, 0)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(128, 32, 0)), PacketKind::rtp);
    EXPECT_EQ(kind_of(packet(191, 32, 0)), PacketKind::rtp);
    EXPECT_EQ(kind_of(packet(192, 32, 0)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(255, 32, 0)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(127, 32, 200)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(192, 32, 200)), PacketKind::unknown);
}

TEST(Demux, RtcpSecondByteBoundaries) {
    EXPECT_EQ(kind_of(packet(0x80, 32, 191)), PacketKind::rtp);
    EXPECT_EQ(kind_of(packet(0x80, 32, 192)), PacketKind::rtcp);
    EXPECT_EQ(kind_of(packet(0x80, 32, 200)), PacketKind::rtcp); // SR
    EXPECT_EQ(kind_of(packet(0x81, 32, 201)), PacketKind::rtcp); // RR
    EXPECT_EQ(kind_of(packet(0x80, 32, 223)), PacketKind::rtcp);
    EXPECT_EQ(kind_of(packet(0x80, 32, 224)), PacketKind::rtp);
    EXPECT_EQ(kind_of(packet(0x80, 32, 0)), PacketKind::rtp);
    EXPECT_EQ(kind_of(packet(0x80, 32, 111)), PacketKind::rtp);        // Opus, no marker
    EXPECT_EQ(kind_of(packet(0x80, 32, 0x80 | 111)), PacketKind::rtp); // Opus with marker
    EXPECT_EQ(kind_of(packet(0x80, 32, 255)), PacketKind::rtp);
    EXPECT_EQ(kind_of(packet(191, 32, 192)), PacketKind::rtcp);
    EXPECT_EQ(kind_of(packet(191, 32, 223)), PacketKind::rtcp);
    EXPECT_EQ(kind_of(packet(128, 32, 224)), PacketKind::rtp);
}

TEST(Demux, RtpNeedsASecondByte) {
    EXPECT_EQ(kind_of(packet(0x80, 1)), PacketKind::unknown);
    EXPECT_EQ(kind_of(packet(0x80, 2, 0)), PacketKind::rtp);
    EXPECT_EQ(kind_of(packet(0x80, 2, 200)), PacketKind::rtcp);
}

// Every first byte against the RFC 7983 §7 table, for a long packet and both second-byte classes.
TEST(Demux, EveryFirstByte) {
    for (int b = 0; b <= 255; ++b) {
        const auto first = static_cast<uint8_t>(b);
        PacketKind want_rtp_like = PacketKind::unknown, want_rtcp_like = PacketKind::unknown;
        if (b <= 3) {
            want_rtp_like = want_rtcp_like = PacketKind::stun;
        } else if (b >= 20 && b <= 63) {
            want_rtp_like = want_rtcp_like = PacketKind::dtls;
        } else if (b >= 128 && b <= 191) {
            want_rtp_like = PacketKind::rtp;
            want_rtcp_like = PacketKind::rtcp;
        }
        EXPECT_EQ(kind_of(packet(first, 64, 96)), want_rtp_like) << b;
        EXPECT_EQ(kind_of(packet(first, 64, 200)), want_rtcp_like) << b;
    }
}

TEST(Demux, Names) {
    EXPECT_EQ(to_string(PacketKind::stun), "stun");
    EXPECT_EQ(to_string(PacketKind::dtls), "dtls");
    EXPECT_EQ(to_string(PacketKind::rtp), "rtp");
    EXPECT_EQ(to_string(PacketKind::rtcp), "rtcp");
    EXPECT_EQ(to_string(PacketKind::unknown), "unknown");
}

} // namespace
} // namespace wabridge::rtc

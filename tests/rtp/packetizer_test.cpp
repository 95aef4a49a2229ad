#include "wabridge/rtp/packetizer.hpp"

#include <array>
#include <gtest/gtest.h>
#include <vector>

namespace wabridge::rtp {
namespace {

TEST(Packetizer, SequenceAndTimestampAdvancePerFrameAndWrap) {
    Packetizer p(0x11223344, 111, 65534, 0xFFFFFC40u);
    std::array<uint8_t, 64> buf{};
    const std::array<uint8_t, 3> payload{0xF8, 0xFF, 0xFE};
    std::vector<RtpHeader> headers;
    for (int i = 0; i < 3; ++i) {
        size_t n = p.write(payload, false, buf);
        ASSERT_EQ(n, kRtpHeaderSize + payload.size());
        auto parsed = parse_rtp(std::span(buf).first(n));
        ASSERT_TRUE(parsed);
        headers.push_back(parsed->header);
        EXPECT_EQ(std::vector<uint8_t>(parsed->payload.begin(), parsed->payload.end()),
                  std::vector<uint8_t>(payload.begin(), payload.end()));
    }
    EXPECT_EQ(headers[0].sequence, 65534);
    EXPECT_EQ(headers[1].sequence, 65535);
    EXPECT_EQ(headers[2].sequence, 0);
    EXPECT_EQ(headers[0].timestamp, 0xFFFFFC40u);
    EXPECT_EQ(headers[1].timestamp, 0u); // +960 wraps modulo 2^32
    EXPECT_EQ(headers[2].timestamp, 960u);
    EXPECT_TRUE(headers[0].marker); // the stream's first packet
    EXPECT_FALSE(headers[1].marker);
    EXPECT_EQ(headers[2].ssrc, 0x11223344u);
    EXPECT_EQ(headers[2].payload_type, 111);
    EXPECT_EQ(p.packets(), 3u);
    EXPECT_EQ(p.payload_octets(), 9u);
}

TEST(Packetizer, MarkerOnTalkspurtStartAndSkippedSlotsMoveOnlyTime) {
    Packetizer p(1, 111, 10, 1000);
    std::array<uint8_t, 64> buf{};
    const std::array<uint8_t, 1> payload{0xF8};
    ASSERT_GT(p.write(payload, false, buf), 0u);
    p.skip_frames(3);
    size_t n = p.write(payload, true, buf);
    auto parsed = parse_rtp(std::span(buf).first(n));
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->header.marker);
    EXPECT_EQ(parsed->header.sequence, 11); // no gap in the sequence
    EXPECT_EQ(parsed->header.timestamp, 1000u + 4 * 960u);
}

TEST(Packetizer, TooSmallBufferWritesNothingAndDoesNotAdvance) {
    Packetizer p(1, 111, 10, 1000);
    std::array<uint8_t, 12> buf{};
    const std::array<uint8_t, 4> payload{1, 2, 3, 4};
    EXPECT_EQ(p.write(payload, false, buf), 0u);
    EXPECT_EQ(p.next_sequence(), 10);
    EXPECT_EQ(p.next_timestamp(), 1000u);
}

} // namespace
} // namespace wabridge::rtp

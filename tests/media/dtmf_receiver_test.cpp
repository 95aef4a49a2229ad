#include "wabridge/media/dtmf_receiver.hpp"

#include <array>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace wabridge::media {
namespace {

// One RFC 4733 §2.3 event block: event, E|R|volume, duration (network order).
std::array<uint8_t, 4> block(uint8_t event, bool end, uint16_t duration, uint8_t volume = 10) {
    return {event, static_cast<uint8_t>((end ? 0x80 : 0x00) | (volume & 0x3F)),
            static_cast<uint8_t>(duration >> 8), static_cast<uint8_t>(duration & 0xFF)};
}

// Feeds what a conforming sender emits for one press at 8 kHz with 50 ms packets: a start
// packet with the marker bit, updates with growing duration, then the final packet three times.
// Collects every digit the receiver reports.
void press(DtmfReceiver& rx, std::vector<DtmfDigit>& out, uint8_t event, uint32_t ts,
           uint16_t final_duration, bool send_end = true) {
    auto feed = [&](bool marker, bool end, uint16_t duration) {
        const auto b = block(event, end, duration);
        if (auto d = rx.on_packet(ts, marker, b)) out.push_back(*d);
    };
    feed(true, false, 400);
    for (uint16_t d = 800; d < final_duration; d += 400)
        feed(false, false, d);
    if (send_end)
        for (int i = 0; i < 3; ++i)
            feed(false, true, final_duration);
}

TEST(DtmfReceiver, RealisticPressYieldsExactlyOneDigitOnTheFirstEndPacket) {
    DtmfReceiver rx;
    const uint32_t ts = 0xFFFFF000; // close to the wrap on purpose
    EXPECT_FALSE(rx.on_packet(ts, true, block(5, false, 160)));
    EXPECT_FALSE(rx.on_packet(ts, false, block(5, false, 320)));
    EXPECT_FALSE(rx.on_packet(ts, false, block(5, false, 480)));
    EXPECT_FALSE(rx.on_packet(ts, false, block(5, false, 640)));
    const auto d = rx.on_packet(ts, false, block(5, true, 800));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->digit, '5');
    EXPECT_EQ(d->rtp_timestamp, ts);
    EXPECT_EQ(d->duration, 800);
    // The two retransmissions of the final packet (RFC 4733 §2.5.1.4).
    EXPECT_FALSE(rx.on_packet(ts, false, block(5, true, 800)));
    EXPECT_FALSE(rx.on_packet(ts, false, block(5, true, 800)));
    const auto s = rx.stats();
    EXPECT_EQ(s.digits, 1u);
    EXPECT_EQ(s.duplicates, 2u);
    EXPECT_EQ(s.malformed, 0u);
    EXPECT_EQ(s.unknown_events, 0u);
    EXPECT_FALSE(rx.finish());
}

TEST(DtmfReceiver, TwoPressesOfTheSameKeyYieldTwoDigits) {
    DtmfReceiver rx;
    std::vector<DtmfDigit> digits;
    press(rx, digits, 1, 16000, 1600);
    press(rx, digits, 1, 16000 + 4000, 1200);
    ASSERT_EQ(digits.size(), 2u);
    EXPECT_EQ(digits[0].digit, '1');
    EXPECT_EQ(digits[0].rtp_timestamp, 16000u);
    EXPECT_EQ(digits[0].duration, 1600);
    EXPECT_EQ(digits[1].digit, '1');
    EXPECT_EQ(digits[1].rtp_timestamp, 20000u);
    EXPECT_EQ(digits[1].duration, 1200);
    EXPECT_EQ(rx.stats().digits, 2u);
    EXPECT_EQ(rx.stats().duplicates, 4u);
}

TEST(DtmfReceiver, AllSixteenEventsMapToTheirKeys) {
    DtmfReceiver rx;
    std::string keys;
    for (uint8_t e = 0; e < 16; ++e) {
        const uint32_t ts = 1000u * (e + 1);
        EXPECT_FALSE(rx.on_packet(ts, true, block(e, false, 160)));
        const auto d = rx.on_packet(ts, false, block(e, true, 320));
        ASSERT_TRUE(d) << int(e);
        keys += d->digit;
    }
    EXPECT_EQ(keys, "0123456789*#ABCD");
    EXPECT_EQ(dtmf_char(16), std::nullopt);
    EXPECT_EQ(rx.stats().digits, 16u);
}

TEST(DtmfReceiver, NonDtmfEventsAreCountedAsUnknown) {
    DtmfReceiver rx;
    // 16 (flash), 32 (answer tone), 255: no digit, and they do not disturb a press in progress.
    EXPECT_FALSE(rx.on_packet(500, true, block(7, false, 160)));
    EXPECT_FALSE(rx.on_packet(900, true, block(16, true, 160)));
    EXPECT_FALSE(rx.on_packet(900, false, block(32, true, 160)));
    EXPECT_FALSE(rx.on_packet(900, false, block(255, true, 160)));
    const auto d = rx.on_packet(500, false, block(7, true, 480));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->digit, '7');
    EXPECT_EQ(rx.stats().unknown_events, 3u);
    EXPECT_EQ(rx.stats().digits, 1u);
}

TEST(DtmfReceiver, PayloadShorterThanOneBlockIsMalformed) {
    DtmfReceiver rx;
    const std::array<uint8_t, 3> three{5, 0x80, 0x01};
    EXPECT_FALSE(rx.on_packet(100, true, three));
    EXPECT_FALSE(rx.on_packet(100, true, std::span<const uint8_t>{}));
    EXPECT_FALSE(rx.on_packet(100, true, std::span<const uint8_t>(three.data(), 1)));
    EXPECT_EQ(rx.stats().malformed, 3u);
    EXPECT_EQ(rx.stats().digits, 0u);
    EXPECT_FALSE(rx.finish()); // nothing was started
    // A different key under the timestamp of the current event is malformed too.
    EXPECT_FALSE(rx.on_packet(200, true, block(2, false, 160)));
    EXPECT_FALSE(rx.on_packet(200, false, block(3, true, 320)));
    EXPECT_EQ(rx.stats().malformed, 4u);
    // Bytes after the first block are ignored.
    const std::array<uint8_t, 6> longer{2, 0x80, 0x01, 0x40, 0xEE, 0xEE};
    const auto d = rx.on_packet(200, false, longer);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->digit, '2');
    EXPECT_EQ(d->duration, 320);
}

TEST(DtmfReceiver, PressWithAllEndPacketsLostIsReportedWhenTheNextPressStarts) {
    DtmfReceiver rx;
    std::vector<DtmfDigit> digits;
    press(rx, digits, 9, 8000, 2000, /*send_end=*/false);
    EXPECT_TRUE(digits.empty());
    // The next press's marker packet reports the lost one with its last known duration.
    const auto lost = rx.on_packet(12000, true, block(4, false, 400));
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->digit, '9');
    EXPECT_EQ(lost->rtp_timestamp, 8000u);
    EXPECT_EQ(lost->duration, 1600); // the last update before the loss
    EXPECT_FALSE(rx.on_packet(12000, false, block(4, false, 800)));
    const auto next = rx.on_packet(12000, false, block(4, true, 960));
    ASSERT_TRUE(next);
    EXPECT_EQ(next->digit, '4');
    EXPECT_EQ(next->rtp_timestamp, 12000u);
    EXPECT_EQ(next->duration, 960);
    EXPECT_EQ(rx.stats().digits, 2u);
}

TEST(DtmfReceiver, LostPressFollowedByAPressSeenOnlyByItsEndPacketsLosesNeither) {
    DtmfReceiver rx;
    std::vector<DtmfDigit> digits;
    press(rx, digits, 3, 8000, 1200, /*send_end=*/false);
    // The second press's start and updates are lost too; only its end packets arrive.
    const auto first = rx.on_packet(12000, false, block(0, true, 640));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->digit, '3');
    const auto second = rx.on_packet(12000, false, block(0, true, 640));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->digit, '0');
    EXPECT_EQ(second->duration, 640);
    EXPECT_FALSE(rx.on_packet(12000, false, block(0, true, 640)));
    EXPECT_EQ(rx.stats().digits, 2u);
    EXPECT_EQ(rx.stats().duplicates, 1u);
}

TEST(DtmfReceiver, LatePacketsOfAnEarlierPressAreDuplicates) {
    DtmfReceiver rx;
    std::vector<DtmfDigit> digits;
    press(rx, digits, 6, 8000, 800);
    press(rx, digits, 8, 9600, 800);
    ASSERT_EQ(digits.size(), 2u);
    // A reordered end packet of the first press arrives after the second began.
    EXPECT_FALSE(rx.on_packet(8000, false, block(6, true, 800)));
    EXPECT_EQ(rx.stats().digits, 2u);
    EXPECT_EQ(rx.stats().duplicates, 5u);
}

TEST(DtmfReceiver, LongDurationEventSegmentsAreOnePress) {
    // RFC 4733 §2.5.2.3: past 0xFFFF units the sender starts a new segment at ts + 0xFFFF,
    // without the marker bit.
    DtmfReceiver rx;
    EXPECT_FALSE(rx.on_packet(1000, true, block(10, false, 32000)));
    EXPECT_FALSE(rx.on_packet(1000, false, block(10, false, 0xFFFF)));
    EXPECT_FALSE(rx.on_packet(1000 + 0xFFFF, false, block(10, false, 960)));
    const auto d = rx.on_packet(1000 + 0xFFFF, false, block(10, true, 1920));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->digit, '*');
    EXPECT_EQ(d->rtp_timestamp, 1000u);
    EXPECT_EQ(d->duration, 0xFFFF); // saturated
    EXPECT_EQ(rx.stats().digits, 1u);
}

TEST(DtmfReceiver, FinishReportsAnOpenPressOnce) {
    DtmfReceiver rx;
    EXPECT_FALSE(rx.on_packet(4000, true, block(11, false, 400)));
    EXPECT_FALSE(rx.on_packet(4000, false, block(11, false, 800)));
    const auto d = rx.finish();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->digit, '#');
    EXPECT_EQ(d->duration, 800);
    EXPECT_FALSE(rx.finish());
    EXPECT_FALSE(rx.on_packet(4000, false, block(11, true, 960))); // already reported
    EXPECT_EQ(rx.stats().digits, 1u);
}

} // namespace
} // namespace wabridge::media

#include "wabridge/rtp/ntp_time.hpp"
#include "wabridge/rtp/receiver_stats.hpp"

#include <gtest/gtest.h>

namespace wabridge::rtp {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = ReceiverStats::TimePoint;

const TimePoint kT0 = TimePoint{} + seconds{1000};

TEST(ReceiverStats, FractionLostForTenInAHundred) {
    ReceiverStats s(0xabcdef01, 48000);
    // Sequence 0..99, every tenth (5, 15, ..., 95) lost: 100 expected, 90 received.
    for (uint16_t seq = 0; seq < 100; ++seq) {
        if (seq % 10 == 5) continue;
        s.on_rtp(seq, seq * 960u, kT0 + milliseconds{20 * seq});
    }
    EXPECT_EQ(s.expected(), 100u);
    EXPECT_EQ(s.received(), 90u);
    EXPECT_EQ(s.lost(), 10);
    ReportBlock rb = s.report_block(kT0 + seconds{2});
    EXPECT_EQ(rb.ssrc, 0xabcdef01u);
    EXPECT_EQ(rb.fraction_lost, 25); // 10 * 256 / 100 = 25.6, truncated (RFC 3550 §A.3)
    EXPECT_EQ(rb.cumulative_lost, 10);
    EXPECT_EQ(rb.extended_highest_seq, 99u);
    EXPECT_EQ(rb.lsr, 0u);
    EXPECT_EQ(rb.dlsr, 0u);

    // Next interval: 100..149 all arrive; the fraction covers only this interval.
    for (uint16_t seq = 100; seq < 150; ++seq) {
        s.on_rtp(seq, seq * 960u, kT0 + milliseconds{20 * seq});
    }
    rb = s.report_block(kT0 + seconds{4});
    EXPECT_EQ(rb.fraction_lost, 0);
    EXPECT_EQ(rb.cumulative_lost, 10);
    EXPECT_EQ(rb.extended_highest_seq, 149u);

    // An empty interval: nothing expected, fraction 0.
    rb = s.report_block(kT0 + seconds{6});
    EXPECT_EQ(rb.fraction_lost, 0);

    // Two late arrivals of lost packets and a duplicate: received exceeds expected in this
    // interval; the fraction stays 0 and the cumulative loss drops.
    s.on_rtp(5, 5 * 960u, kT0 + seconds{7});
    s.on_rtp(15, 15 * 960u, kT0 + seconds{7});
    s.on_rtp(149, 149 * 960u, kT0 + seconds{7});
    rb = s.report_block(kT0 + seconds{8});
    EXPECT_EQ(rb.fraction_lost, 0);
    EXPECT_EQ(rb.cumulative_lost, 7);
    EXPECT_EQ(rb.extended_highest_seq, 149u);
}

TEST(ReceiverStats, FractionOfAnIntervalWithEverythingLost) {
    ReceiverStats s(1, 8000);
    s.on_rtp(10, 0, kT0);
    (void)s.report_block(kT0);
    s.on_rtp(14, 640, kT0 + milliseconds{80}); // 11, 12, 13 lost; 14 received: 3/4 lost
    ReportBlock rb = s.report_block(kT0 + seconds{1});
    EXPECT_EQ(rb.fraction_lost, 192); // 3 * 256 / 4
    EXPECT_EQ(rb.cumulative_lost, 3);
}

TEST(ReceiverStats, DuplicatesMakeCumulativeLossNegative) {
    ReceiverStats s(1, 8000);
    s.on_rtp(7, 0, kT0);
    s.on_rtp(7, 0, kT0);
    s.on_rtp(7, 0, kT0);
    EXPECT_EQ(s.expected(), 1u);
    ReportBlock rb = s.report_block(kT0);
    EXPECT_EQ(rb.cumulative_lost, -2);
    EXPECT_EQ(rb.fraction_lost, 0);
}

TEST(ReceiverStats, ExtendedSequenceAcrossTheWrap) {
    ReceiverStats s(1, 48000);
    uint16_t seq = 65530;
    for (int i = 0; i < 12; ++i, ++seq)
        s.on_rtp(seq, 0, kT0);
    ReportBlock rb = s.report_block(kT0);
    EXPECT_EQ(rb.extended_highest_seq, 65536u + 5u); // one cycle, sequence 5
    EXPECT_EQ(s.expected(), 12u);
    EXPECT_EQ(rb.cumulative_lost, 0);
}

TEST(ReceiverStats, CumulativeLossClampsAt24BitsSigned) {
    ReceiverStats s(1, 48000);
    // Jumps of 32767 lose 32766 packets each; 257 of them lose 8,420,862 > 2^23 - 1.
    uint16_t seq = 0;
    s.on_rtp(seq, 0, kT0);
    for (int i = 0; i < 257; ++i) {
        seq = static_cast<uint16_t>(seq + 32767);
        s.on_rtp(seq, 0, kT0);
    }
    EXPECT_EQ(s.lost(), 257 * 32766);
    ReportBlock rb = s.report_block(kT0);
    EXPECT_EQ(rb.cumulative_lost, 0x7fffff);
    EXPECT_EQ(rb.fraction_lost, 255); // 8420862 * 256 / 8421120 = 255.99...
    EXPECT_EQ(rb.extended_highest_seq, 257u * 32767u);
}

TEST(ReceiverStats, JitterForAKnownArrivalPattern) {
    // 8 kHz, 20 ms packets (160 units); every other packet arrives 10 ms (80 units) late, so
    // |D| = 80 for every pair. RFC 3550 §A.8: J += (|D| - J) / 16 gives 5, 9.6875, 14.08...
    ReceiverStats s(1, 8000);
    auto send = [&](int i) {
        const auto arrival = kT0 + milliseconds{20 * i} + milliseconds{(i % 2) ? 10 : 0};
        s.on_rtp(static_cast<uint16_t>(i), static_cast<uint32_t>(160 * i), arrival);
    };
    send(0);
    EXPECT_EQ(s.jitter(), 0u);
    send(1);
    EXPECT_EQ(s.jitter(), 5u);
    send(2);
    EXPECT_EQ(s.jitter(), 9u); // 9.6875 truncated
    send(3);
    EXPECT_EQ(s.jitter(), 14u);
    for (int i = 4; i < 500; ++i)
        send(i);
    // Converges on |D| = 80 from below: J = 79.99..., reported truncated as 79 (the §A.8
    // fixed-point form, J*16 += |D| - ((J*16 + 8) >> 4), settles at 1272 / 16).
    EXPECT_EQ(s.jitter(), 79u);
    EXPECT_EQ(s.report_block(kT0 + seconds{20}).jitter, s.jitter());
}

TEST(ReceiverStats, JitterIsZeroForPerfectPacingAndUsesTheClockRate) {
    ReceiverStats s(1, 48000);
    // Random RTP timestamp origin, exact 20 ms pacing: transit is constant.
    for (int i = 0; i < 100; ++i) {
        s.on_rtp(static_cast<uint16_t>(i), 0xfffff000u + 960u * i, kT0 + milliseconds{20 * i});
    }
    EXPECT_EQ(s.jitter(), 0u);
    // One packet 1 ms late at 48 kHz: |D| = 48 units, J = 48 / 16 = 3.
    s.on_rtp(100, 0xfffff000u + 96000u, kT0 + milliseconds{2001});
    EXPECT_EQ(s.jitter(), 3u);
}

TEST(ReceiverStats, LsrAndDlsrFromTheLastSenderReport) {
    ReceiverStats s(1, 48000);
    s.on_rtp(1, 0, kT0);
    s.on_sender_report(0x83aa7e8080000000ULL, kT0 + seconds{1});
    ReportBlock rb = s.report_block(kT0 + milliseconds{2500});
    EXPECT_EQ(rb.lsr, 0x7e808000u);
    EXPECT_EQ(rb.dlsr, 98304u); // 1.5 s * 65536
    // A newer SR replaces it.
    s.on_sender_report(0x83aa7e9000000000ULL, kT0 + seconds{3});
    rb = s.report_block(kT0 + seconds{3});
    EXPECT_EQ(rb.lsr, 0x7e900000u);
    EXPECT_EQ(rb.dlsr, 0u);
}

TEST(Rtt, ExampleOfRfc3550Figure2) {
    // A = 0xb710:8000 (46864.5 s), LSR = 0xb705:2000 (46853.125 s), DLSR = 0x0005:4000 (5.25 s):
    // RTT = 0x0006:2000 = 6.125 s. 0xb710 in the low 16 bits of NTP seconds is Unix 14480.
    const auto now = std::chrono::system_clock::time_point{} + milliseconds{14'480'500};
    ASSERT_EQ(compact_ntp(to_ntp(now)), 0xb7108000u);
    ReportBlock rb;
    rb.lsr = 0xb7052000;
    rb.dlsr = 0x00054000;
    auto rtt = rtt_from_report(rb, now);
    ASSERT_TRUE(rtt.has_value());
    EXPECT_EQ(*rtt, microseconds{6'125'000});
}

TEST(Rtt, FromACraftedReceiverReport) {
    // We sent an SR at wall time W; the peer held it 250 ms and its RR reached us at W + 400 ms.
    const auto w = std::chrono::system_clock::time_point{} + seconds{1'700'000'000};
    ReportBlock rb;
    rb.lsr = compact_ntp(to_ntp(w));
    rb.dlsr = to_compact_ntp_duration(milliseconds{250});
    auto rtt = rtt_from_report(rb, w + milliseconds{400});
    ASSERT_TRUE(rtt.has_value());
    EXPECT_NEAR(static_cast<double>(rtt->count()), 150'000.0, 16.0); // 1/65536 s resolution
}

TEST(Rtt, NoneWithoutLsrOrWhenNegative) {
    const auto now = std::chrono::system_clock::time_point{} + seconds{14'480};
    ReportBlock rb;
    rb.lsr = 0;
    rb.dlsr = 5;
    EXPECT_FALSE(rtt_from_report(rb, now).has_value());
    rb.lsr = compact_ntp(to_ntp(now));
    rb.dlsr = 65536; // the peer says it held our SR 1 s, but it is only now
    EXPECT_FALSE(rtt_from_report(rb, now).has_value());
    rb.dlsr = 0;
    EXPECT_EQ(rtt_from_report(rb, now), microseconds{0});
}

} // namespace
} // namespace wabridge::rtp

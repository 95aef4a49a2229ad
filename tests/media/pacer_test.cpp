#include "wabridge/media/pacer.hpp"

#include <gtest/gtest.h>
#include <random>

namespace wabridge::media {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

const TimePoint kStart = TimePoint{} + 3600s + 123456789ns; // an odd origin

TEST(Pacer, TenMinutesOfJitteryTicksSendExactlyOnePacketPerSlotWithoutDrift) {
    Pacer p(kStart);
    std::mt19937 rng(4733);
    std::uniform_int_distribution<int> late_us(0, 3000);
    uint64_t packets = 0;
    TimePoint previous{};
    for (uint64_t k = 0; k < 30'000; ++k) {
        const TimePoint deadline = p.next_deadline();
        ASSERT_EQ(deadline, kStart + k * 20ms) << k;
        if (k > 0) {
            ASSERT_EQ(deadline - previous, 20ms) << k;
        }
        previous = deadline;
        const int n = p.on_tick(deadline + microseconds(late_us(rng)));
        ASSERT_EQ(n, 1) << k;
        ASSERT_EQ(p.skipped_now(), 0);
        packets += n;
    }
    EXPECT_EQ(packets, 30'000u);
    EXPECT_EQ(p.sent(), 30'000u);
    EXPECT_EQ(p.ticks(), 30'000u);
    EXPECT_EQ(p.skipped(), 0u);
    EXPECT_EQ(p.early(), 0u);
    EXPECT_EQ(p.next_deadline(), kStart + 600s); // 10 minutes exactly
    EXPECT_LE(p.max_lateness(), 3000us);
    EXPECT_GE(p.max_lateness(), 2990us);
    EXPECT_GE(p.p99_lateness(), 2900us);
    EXPECT_LE(p.p99_lateness(), 3000us);
}

TEST(Pacer, StallOf70msSendsABurstOfTwoAndSkipsTheRest) {
    Pacer p(kStart);
    EXPECT_EQ(p.on_tick(kStart), 1);
    EXPECT_EQ(p.on_tick(kStart + 20ms), 1);
    EXPECT_EQ(p.on_tick(kStart + 40ms), 1);
    // The loop wakes 70 ms after the 60 ms deadline: 60, 80, 100 and 120 have all passed.
    EXPECT_EQ(p.on_tick(kStart + 60ms + 70ms), 2);
    EXPECT_EQ(p.skipped_now(), 2);
    EXPECT_EQ(p.skipped(), 2u);
    EXPECT_EQ(p.sent(), 5u);
    EXPECT_EQ(p.next_deadline(), kStart + 140ms); // still on the start + k*20 ms grid
    EXPECT_EQ(p.max_lateness(), 70ms);
    EXPECT_EQ(p.on_tick(kStart + 140ms), 1);
    EXPECT_EQ(p.skipped_now(), 0);
    // The RTP timeline: every slot, sent or skipped, advances the timestamp by 960.
    EXPECT_EQ(p.sent() + p.skipped(), p.slot());
    EXPECT_EQ(p.slot() * 960, 8u * 960);
}

TEST(Pacer, ModeratelyLateTickCatchesUpWithoutSkipping) {
    Pacer p(kStart);
    EXPECT_EQ(p.on_tick(kStart + 30ms), 2); // deadlines 0 and 20 passed
    EXPECT_EQ(p.skipped_now(), 0);
    EXPECT_EQ(p.next_deadline(), kStart + 40ms);
    EXPECT_EQ(p.on_tick(kStart + 40ms), 1);
}

TEST(Pacer, EarlyCallSendsNothingAndChangesNothing) {
    Pacer p(kStart);
    EXPECT_EQ(p.on_tick(kStart - 1ns), 0);
    EXPECT_EQ(p.next_deadline(), kStart);
    EXPECT_EQ(p.on_tick(kStart), 1);
    EXPECT_EQ(p.on_tick(kStart + 20ms - 1us), 0);
    EXPECT_EQ(p.skipped_now(), 0);
    EXPECT_EQ(p.next_deadline(), kStart + 20ms);
    EXPECT_EQ(p.early(), 2u);
    EXPECT_EQ(p.ticks(), 1u);
    EXPECT_EQ(p.sent(), 1u);
    EXPECT_EQ(p.on_tick(kStart + 20ms), 1);
}

TEST(Pacer, HourLongStallIsOneStepNotALoop) {
    Pacer p(kStart, 20ms, 3);
    EXPECT_EQ(p.on_tick(kStart + 3600s), 3);
    EXPECT_EQ(p.skipped_now(), 180'001 - 3);
    EXPECT_EQ(p.next_deadline(), kStart + 3600s + 20ms);
    EXPECT_EQ(p.max_lateness(), 3600s);
    EXPECT_EQ(p.p99_lateness(), 3600s); // beyond the histogram: the maximum
}

TEST(Pacer, P99ComesFromTheHistogram) {
    Pacer p(kStart);
    EXPECT_EQ(p.p99_lateness(), 0us);
    // 99 ticks 250 us late and one 50 ms late: the 99th percentile is in the 200-300 us bucket.
    for (int i = 0; i < 99; ++i)
        ASSERT_GE(p.on_tick(p.next_deadline() + 250us), 1);
    p.on_tick(p.next_deadline() + 50ms);
    EXPECT_EQ(p.max_lateness(), 50ms);
    EXPECT_EQ(p.p99_lateness(), 300us);
    // Two more at 50 ms: now 3 of 102 (rank 101) are in the [50, 51) ms bucket, capped at max.
    p.on_tick(p.next_deadline() + 50ms);
    p.on_tick(p.next_deadline() + 50ms);
    EXPECT_EQ(p.p99_lateness(), 50ms);
}

TEST(Pacer, DegenerateArgumentsAreClamped) {
    Pacer p(kStart, 0us, 0);
    EXPECT_EQ(p.on_tick(kStart + 10us), 1); // burst of at least 1; 1 us period
    EXPECT_EQ(p.skipped_now(), 10);
    EXPECT_EQ(p.next_deadline(), kStart + 11us);
}

} // namespace
} // namespace wabridge::media

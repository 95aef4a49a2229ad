#include "wabridge/loop/timer_queue.hpp"

#include <gtest/gtest.h>
#include <string>

namespace wabridge::loop {
namespace {

using std::chrono::milliseconds;

const TimePoint t0 = TimePoint() + std::chrono::hours(1);

TEST(TimerQueue, RunsDueTimersInDeadlineThenSchedulingOrder) {
    TimerQueue q;
    std::string order;
    q.schedule(t0 + milliseconds(20), [&](TimePoint) { order += "c"; });
    q.schedule(t0 + milliseconds(10), [&](TimePoint) { order += "a"; });
    q.schedule(t0 + milliseconds(10), [&](TimePoint) { order += "b"; });
    q.schedule(t0 + milliseconds(30), [&](TimePoint) { order += "d"; });
    EXPECT_EQ(q.next_deadline(), t0 + milliseconds(10));
    EXPECT_EQ(q.run_due(t0 + milliseconds(9)), 0u);
    EXPECT_EQ(q.run_due(t0 + milliseconds(20)), 3u);
    EXPECT_EQ(order, "abc");
    EXPECT_EQ(q.next_deadline(), t0 + milliseconds(30));
    EXPECT_EQ(q.pending(), 1u);
}

TEST(TimerQueue, CancelledTimersNeverRunAndLeaveNoDeadline) {
    TimerQueue q;
    bool ran = false;
    TimerId id = q.schedule(t0, [&](TimePoint) { ran = true; });
    EXPECT_TRUE(q.cancel(id));
    EXPECT_FALSE(q.cancel(id));
    EXPECT_FALSE(q.next_deadline());
    EXPECT_EQ(q.run_due(t0 + milliseconds(100)), 0u);
    EXPECT_FALSE(ran);
}

TEST(TimerQueue, ReportsLagPerTimer) {
    TimerQueue q;
    std::vector<Clock::duration> lags;
    q.schedule(t0, [](TimePoint) {});
    q.schedule(t0 + milliseconds(3), [](TimePoint) {});
    q.run_due(t0 + milliseconds(5), [&](Clock::duration lag) { lags.push_back(lag); });
    EXPECT_EQ(lags, (std::vector<Clock::duration>{milliseconds(5), milliseconds(2)}));
}

TEST(TimerQueue, SelfReschedulingAtNowWaitsForTheNextRun) {
    TimerQueue q;
    int runs = 0;
    std::function<void(TimePoint)> tick = [&](TimePoint now) {
        ++runs;
        q.schedule(now, tick);
    };
    q.schedule(t0, tick);
    EXPECT_EQ(q.run_due(t0), 1u);
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(q.next_deadline(), t0);
    EXPECT_EQ(q.run_due(t0), 1u);
    EXPECT_EQ(runs, 2);
}

TEST(TimerQueue, CallbackMayCancelAnotherDueTimer) {
    TimerQueue q;
    bool second_ran = false;
    TimerId second = 0;
    q.schedule(t0, [&](TimePoint) { q.cancel(second); });
    second = q.schedule(t0, [&](TimePoint) { second_ran = true; });
    EXPECT_EQ(q.run_due(t0), 1u);
    EXPECT_FALSE(second_ran);
}

TEST(TimerQueue, CallbackReceivesNow) {
    TimerQueue q;
    TimePoint seen;
    q.schedule(t0, [&](TimePoint now) { seen = now; });
    q.run_due(t0 + milliseconds(7));
    EXPECT_EQ(seen, t0 + milliseconds(7));
}

} // namespace
} // namespace wabridge::loop

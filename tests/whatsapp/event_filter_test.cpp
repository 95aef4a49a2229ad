// Call event de-duplication (whatsapp-calling.md §2.2: no exactly-once delivery, no ordering):
// retries, terminate before connect, statuses, the TTL and the size bound.
#include "wabridge/whatsapp/event_filter.hpp"

#include <gtest/gtest.h>
#include <string>

namespace wabridge::whatsapp {
namespace {

using namespace std::chrono_literals;
using Verdict = CallEventFilter::Verdict;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0 = Clock::time_point{} + 1000h;
constexpr std::string_view kCall = "wacid.HBgLMTU1NTAxMjM0NTYVAgARGCBBMzk0RDQ1QTZGMjRBNzE1NDlF";

TEST(CallEventFilter, RetriesAreDuplicates) {
    CallEventFilter f;
    EXPECT_EQ(f.admit(kCall, "connect", t0), Verdict::accept);
    EXPECT_EQ(f.admit(kCall, "connect", t0 + 20s), Verdict::duplicate); // Meta's ~20 s retry
    EXPECT_FALSE(f.is_dead(kCall));
    EXPECT_EQ(f.admit(kCall, "terminate", t0 + 60s), Verdict::accept);
    EXPECT_TRUE(f.is_dead(kCall));
    EXPECT_EQ(f.admit(kCall, "terminate", t0 + 61s), Verdict::duplicate);
    EXPECT_EQ(f.admit(kCall, "connect", t0 + 62s), Verdict::duplicate); // seen before it died
    EXPECT_EQ(f.size(), 2u);
}

TEST(CallEventFilter, TerminateBeforeConnect) {
    CallEventFilter f;
    // Accepted so the caller can log it, and the call id is dead from now on.
    EXPECT_EQ(f.admit(kCall, "terminate", t0), Verdict::accept);
    EXPECT_TRUE(f.is_dead(kCall));
    EXPECT_EQ(f.admit(kCall, "connect", t0 + 1s), Verdict::dead);
    EXPECT_EQ(f.admit(kCall, "connect", t0 + 2s), Verdict::duplicate); // its retry
    EXPECT_EQ(f.admit(kCall, "terminate", t0 + 3s), Verdict::duplicate);
    // Other call ids are unaffected.
    EXPECT_FALSE(f.is_dead("wacid.other"));
    EXPECT_EQ(f.admit("wacid.other", "connect", t0 + 4s), Verdict::accept);
}

TEST(CallEventFilter, StatusesAreEventsOfTheirOwn) {
    CallEventFilter f;
    EXPECT_EQ(f.admit(kCall, "status:RINGING", t0), Verdict::accept);
    EXPECT_EQ(f.admit(kCall, "status:RINGING", t0 + 1s), Verdict::duplicate);
    EXPECT_EQ(f.admit(kCall, "status:ACCEPTED", t0 + 2s), Verdict::accept);
    EXPECT_EQ(f.admit(kCall, "connect", t0 + 2s), Verdict::accept); // Meta's answer
    EXPECT_EQ(f.admit(kCall, "terminate", t0 + 30s), Verdict::accept);
    // Only a connect is "dead"; a late status after the terminate is still accepted (log it).
    EXPECT_EQ(f.admit(kCall, "status:REJECTED", t0 + 31s), Verdict::accept);
    EXPECT_EQ(f.admit(kCall, "some_future_event", t0 + 32s), Verdict::accept);
    EXPECT_EQ(f.size(), 6u);
}

TEST(CallEventFilter, KeysDoNotCollide) {
    CallEventFilter f;
    EXPECT_EQ(f.admit("ab", "cconnect", t0), Verdict::accept);
    EXPECT_EQ(f.admit("abc", "connect", t0), Verdict::accept);
    EXPECT_EQ(f.admit("a", "bcconnect", t0), Verdict::accept);
    EXPECT_EQ(f.admit(std::string_view("a\0", 2), "connect", t0), Verdict::accept);
    EXPECT_EQ(f.admit("a", std::string_view("\0connect", 8), t0), Verdict::accept);
    EXPECT_EQ(f.admit("", "connect", t0), Verdict::accept);
    EXPECT_EQ(f.admit("", "", t0), Verdict::accept);
    EXPECT_EQ(f.admit("ab", "cterminate", t0), Verdict::accept);
    EXPECT_FALSE(f.is_dead("abc"));
    EXPECT_FALSE(f.is_dead("ab"));
    EXPECT_EQ(f.size(), 8u);
}

TEST(CallEventFilter, EntriesExpireAfterTheTtl) {
    CallEventFilter f({.ttl = 10min, .max_entries = 100});
    EXPECT_EQ(f.admit(kCall, "terminate", t0), Verdict::accept);
    EXPECT_EQ(f.admit(kCall, "connect", t0 + 10min - 1ms), Verdict::dead);
    EXPECT_EQ(f.size(), 2u);
    // The terminate is 10 min old: forgotten, so is the dead mark.
    EXPECT_EQ(f.admit("wacid.other", "connect", t0 + 10min), Verdict::accept);
    EXPECT_FALSE(f.is_dead(kCall));
    EXPECT_EQ(f.size(), 2u);
    EXPECT_EQ(f.admit(kCall, "terminate", t0 + 10min + 1ms), Verdict::accept);
    // Explicit sweep.
    f.expire(t0 + 1h);
    EXPECT_EQ(f.size(), 0u);
    EXPECT_FALSE(f.is_dead(kCall));
}

TEST(CallEventFilter, DefaultTtlIsOneHour) {
    CallEventFilter f;
    EXPECT_EQ(f.admit(kCall, "connect", t0), Verdict::accept);
    EXPECT_EQ(f.admit(kCall, "connect", t0 + 59min), Verdict::duplicate);
    EXPECT_EQ(f.admit(kCall, "connect", t0 + 60min), Verdict::accept);
}

TEST(CallEventFilter, TimeGoingBackwardsIsClamped) {
    CallEventFilter f({.ttl = 10min, .max_entries = 100});
    EXPECT_EQ(f.admit("a", "connect", t0 + 5min), Verdict::accept);
    EXPECT_EQ(f.admit("b", "connect", t0), Verdict::accept); // stamped t0 + 5min
    EXPECT_EQ(f.admit("a", "connect", t0 + 14min), Verdict::duplicate);
    EXPECT_EQ(f.admit("b", "connect", t0 + 14min), Verdict::duplicate);
    f.expire(t0 + 15min);
    EXPECT_EQ(f.size(), 0u);
}

TEST(CallEventFilter, TableIsBoundedOldestFirst) {
    CallEventFilter f({.ttl = 1h, .max_entries = 3});
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(f.admit("call" + std::to_string(i), "connect", t0 + i * 1s), Verdict::accept);
    EXPECT_EQ(f.size(), 3u);
    // call0 and call1 were evicted: a retry now looks new; call4 is still known.
    EXPECT_EQ(f.admit("call4", "connect", t0 + 6s), Verdict::duplicate);
    EXPECT_EQ(f.admit("call0", "connect", t0 + 7s), Verdict::accept);
    EXPECT_EQ(f.size(), 3u);
    // A dead mark can be evicted too: bounded memory wins over remembering everything.
    EXPECT_EQ(f.admit("dying", "terminate", t0 + 8s), Verdict::accept);
    for (int i = 0; i < 3; ++i)
        f.admit("late" + std::to_string(i), "connect", t0 + 9s);
    EXPECT_FALSE(f.is_dead("dying"));
    EXPECT_EQ(f.size(), 3u);
}

TEST(CallEventFilter, ZeroCapacityMeansOne) {
    CallEventFilter f({.ttl = 1h, .max_entries = 0});
    EXPECT_EQ(f.admit("a", "connect", t0), Verdict::accept);
    EXPECT_EQ(f.admit("a", "connect", t0), Verdict::duplicate);
    EXPECT_EQ(f.size(), 1u);
    EXPECT_EQ(f.admit("b", "connect", t0), Verdict::accept);
    EXPECT_EQ(f.size(), 1u);
}

TEST(CallEventFilter, DefaultBoundHoldsUnderAFlood) {
    CallEventFilter f;
    for (int i = 0; i < 150000; ++i)
        f.admit("wacid." + std::to_string(i), "connect", t0 + i * 1ms);
    EXPECT_EQ(f.size(), 100000u);
    EXPECT_EQ(f.admit("wacid.149999", "connect", t0 + 200s), Verdict::duplicate);
    EXPECT_EQ(f.admit("wacid.0", "connect", t0 + 200s), Verdict::accept);
}

TEST(CallEventFilter, OverlongKeysAreAcceptedButNotRemembered) {
    CallEventFilter f;
    const std::string huge(CallEventFilter::kMaxKeyBytes + 1, 'x');
    EXPECT_EQ(f.admit(huge, "connect", t0), Verdict::accept);
    EXPECT_EQ(f.admit(huge, "connect", t0), Verdict::accept);
    EXPECT_EQ(f.size(), 0u);
    EXPECT_EQ(f.admit(huge.substr(0, 1000), "connect", t0), Verdict::accept);
    EXPECT_EQ(f.admit(huge.substr(0, 1000), "connect", t0), Verdict::duplicate);
}

TEST(CallEventFilter, MovesKeepWorking) {
    CallEventFilter a({.ttl = 1h, .max_entries = 2});
    a.admit("x", "terminate", t0);
    CallEventFilter b(std::move(a));
    EXPECT_TRUE(b.is_dead("x"));
    EXPECT_EQ(b.admit("x", "connect", t0), Verdict::dead);
    b.admit("y", "connect", t0); // evicts through the moved age list
    EXPECT_EQ(b.size(), 2u);
    EXPECT_FALSE(b.is_dead("x"));
}

TEST(CallEventFilter, Names) {
    EXPECT_EQ(to_string(Verdict::accept), "accept");
    EXPECT_EQ(to_string(Verdict::duplicate), "duplicate");
    EXPECT_EQ(to_string(Verdict::dead), "dead");
}

} // namespace
} // namespace wabridge::whatsapp

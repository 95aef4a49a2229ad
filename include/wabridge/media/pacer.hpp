// The media clock of one call: a packet every `period` (20 ms) on absolute deadlines
// start + k*period, so timer jitter never accumulates into drift. Sans-IO: the loop arms its
// timer for next_deadline() and calls on_tick() with the time it actually woke up.
#pragma once

#include "wabridge/loop/timer_queue.hpp"

#include <array>
#include <chrono>
#include <cstdint>

namespace wabridge::media {

using loop::TimePoint;

class Pacer {
public:
    // The first deadline is `start` itself. A period below 1 us is raised to 1 us and a
    // max_burst below 1 to 1.
    Pacer(TimePoint start, std::chrono::microseconds period = std::chrono::milliseconds(20),
          int max_burst = 2);

    // Called when the timer fires. Returns how many packets to send now: 0 when called early
    // (now < next_deadline(), nothing changes but the early count), else one per deadline that
    // has passed, at most max_burst. Passed deadlines beyond max_burst are skipped: the oldest
    // ones, so the packets sent belong to the newest slots. The caller first advances its RTP
    // timestamp by skipped_now() * samples-per-period (960 at 48 kHz, 20 ms), then sends.
    int on_tick(TimePoint now);

    int skipped_now() const { return skipped_now_; } // slots skipped by the last on_tick
    TimePoint next_deadline() const { return start_ + period_ * next_slot_; }
    // Deadlines consumed so far (sent + skipped): the slot index of next_deadline().
    uint64_t slot() const { return next_slot_; }

    uint64_t ticks() const { return ticks_; } // on_tick calls that were due
    uint64_t sent() const { return sent_; }
    uint64_t skipped() const { return skipped_; }
    uint64_t early() const { return early_; } // on_tick calls before the deadline

    // Lateness of each due tick: now minus the oldest deadline it served.
    std::chrono::microseconds max_lateness() const { return max_lateness_; }
    // How late the last on_tick() that sent ran after its deadline.
    std::chrono::microseconds last_lateness() const { return last_lateness_; }
    // The 99th percentile from a histogram (100 us buckets up to 10 ms, 1 ms buckets up to
    // 100 ms): the upper edge of the bucket holding it, capped at max_lateness(). Zero before
    // the first due tick.
    std::chrono::microseconds p99_lateness() const;

private:
    static constexpr size_t kFineBuckets = 100;                           // [0, 10 ms) by 100 us
    static constexpr size_t kCoarseBuckets = 90;                          // [10 ms, 100 ms) by 1 ms
    static constexpr size_t kBuckets = kFineBuckets + kCoarseBuckets + 1; // + overflow
    static size_t bucket_of(std::chrono::microseconds lateness);
    static std::chrono::microseconds bucket_upper_edge(size_t bucket);

    TimePoint start_;
    std::chrono::microseconds period_;
    int max_burst_;
    uint64_t next_slot_ = 0;
    int skipped_now_ = 0;

    uint64_t ticks_ = 0, sent_ = 0, skipped_ = 0, early_ = 0;
    std::chrono::microseconds max_lateness_{0};
    std::chrono::microseconds last_lateness_{0};
    std::array<uint64_t, kBuckets> histogram_{};
};

} // namespace wabridge::media

// The per-call 20 ms media clock on absolute deadlines (see pacer.hpp).
#include "wabridge/media/pacer.hpp"

#include <algorithm>

namespace wabridge::media {

using std::chrono::microseconds;

Pacer::Pacer(TimePoint start, microseconds period, int max_burst)
    : start_(start)
    , period_(std::max(period, microseconds{1}))
    , max_burst_(std::max(max_burst, 1)) {}

int Pacer::on_tick(TimePoint now) {
    skipped_now_ = 0;
    const TimePoint deadline = next_deadline();
    if (now < deadline) {
        ++early_;
        return 0;
    }
    const auto late = now - deadline;
    // Deadlines passed: the current one plus every whole period since (no loop, so a long
    // stall costs nothing).
    const uint64_t due = static_cast<uint64_t>(late / period_) + 1;
    const uint64_t send = std::min<uint64_t>(due, static_cast<uint64_t>(max_burst_));
    skipped_now_ = static_cast<int>(std::min<uint64_t>(due - send, INT32_MAX));
    next_slot_ += due;
    ++ticks_;
    sent_ += send;
    skipped_ += due - send;

    const auto lateness = std::chrono::duration_cast<microseconds>(late);
    last_lateness_ = lateness;
    max_lateness_ = std::max(max_lateness_, lateness);
    ++histogram_[bucket_of(lateness)];
    return static_cast<int>(send);
}

size_t Pacer::bucket_of(microseconds lateness) {
    const auto us = static_cast<uint64_t>(lateness.count());
    if (us < 10'000) return static_cast<size_t>(us / 100);
    if (us < 100'000) return kFineBuckets + static_cast<size_t>((us - 10'000) / 1000);
    return kBuckets - 1;
}

microseconds Pacer::bucket_upper_edge(size_t bucket) {
    if (bucket < kFineBuckets) return microseconds{static_cast<int64_t>(bucket + 1) * 100};
    return microseconds{10'000 + static_cast<int64_t>(bucket - kFineBuckets + 1) * 1000};
}

microseconds Pacer::p99_lateness() const {
    if (ticks_ == 0) return microseconds{0};
    // The smallest bucket whose cumulative count reaches 99% of the ticks (rounded up).
    const uint64_t rank = (ticks_ * 99 + 99) / 100;
    uint64_t seen = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
        seen += histogram_[b];
        if (seen >= rank) {
            if (b == kBuckets - 1) return max_lateness_; // beyond the histogram
            return std::min(bucket_upper_edge(b), max_lateness_);
        }
    }
    return max_lateness_;
}

} // namespace wabridge::media

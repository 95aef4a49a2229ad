// De-duplication of call webhook events. Meta gives "no exactly-once delivery and no ordering
// guarantee" for call webhooks: retries repeat events, and a terminate can arrive before its
// connect (whatsapp-calling.md §2.2). Sans-IO: the caller passes the loop's `now`.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wabridge::whatsapp {

struct EventFilterLimits {
    std::chrono::steady_clock::duration ttl = std::chrono::hours(1); // an entry's lifetime
    size_t max_entries = 100000; // at least 1; the oldest entry goes first
};

// Remembers each (call id, event) pair it admitted until it expires or is evicted. Event
// names are calls[].event ("connect", "terminate", ...) and, for statuses, "status:<STATUS>"
// ("status:RINGING"). A terminate marks its call id dead for as long as it is remembered.
class CallEventFilter {
public:
    enum class Verdict {
        accept,    // first sight: process it
        duplicate, // this (call id, event) was already admitted: a retry, drop it
        dead,      // a connect for a call already terminated: do not answer it
    };

    explicit CallEventFilter(EventFilterLimits limits = {});
    // by_age_ points into entries_: moving keeps the nodes, copying would not.
    CallEventFilter(const CallEventFilter&) = delete;
    CallEventFilter& operator=(const CallEventFilter&) = delete;
    CallEventFilter(CallEventFilter&&) = default;
    CallEventFilter& operator=(CallEventFilter&&) = default;

    // A repeated pair is a duplicate (checked first). A "connect" for a dead call id is dead.
    // Anything else is accepted, including a terminate for a call never connected (so the
    // caller can log it); every terminate marks the call id dead. Every verdict but duplicate
    // records the pair. Expired entries go first; when the table is full the oldest is evicted.
    // `now` going backwards is treated as the latest `now` seen. A key longer than
    // kMaxKeyBytes (call id plus event) is accepted without being remembered.
    Verdict admit(std::string_view call_id, std::string_view event,
                  std::chrono::steady_clock::time_point now);

    // Drops the entries older than the TTL.
    void expire(std::chrono::steady_clock::time_point now);

    // Whether a terminate for `call_id` is remembered (entries past their TTL count until the
    // next admit() or expire()).
    bool is_dead(std::string_view call_id) const;

    size_t size() const { return entries_.size(); }

    static constexpr size_t kMaxKeyBytes = 1024;

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct Aged {
        const std::string* key; // points into entries_ (node keys do not move)
        TimePoint added;
    };

    static std::string key_of(std::string_view call_id, std::string_view event);
    void drop_oldest();

    EventFilterLimits limits_;
    std::unordered_map<std::string, TimePoint> entries_;
    std::deque<Aged> by_age_; // insertion order, which is also time order (see latest_)
    TimePoint latest_{};
};

std::string_view to_string(CallEventFilter::Verdict verdict);

} // namespace wabridge::whatsapp

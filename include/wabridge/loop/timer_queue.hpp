// A timer heap, sans-IO: deadlines in, callbacks run when the owner says time has come.
// The event loop drives it from one timerfd; tests drive it with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace wabridge::loop {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using TimerId = uint64_t;

class TimerQueue {
public:
    using Callback = std::function<void(TimePoint now)>;
    using LagObserver = std::function<void(Clock::duration lag)>;

    // Ids are never reused, so a stale id can be cancelled safely.
    TimerId schedule(TimePoint deadline, Callback callback);
    // True when the timer was pending (and now never runs).
    bool cancel(TimerId id);

    std::optional<TimePoint> next_deadline() const;
    size_t pending() const { return callbacks_.size(); }

    // Runs every timer due at `now` in deadline order (ties in scheduling order), reporting each
    // one's lag (now - deadline). Timers scheduled by these callbacks wait for the next call, so a
    // callback that re-arms itself at `now` cannot spin the loop. Returns how many ran.
    size_t run_due(TimePoint now, const LagObserver& on_lag = {});

private:
    struct Entry {
        TimePoint deadline;
        TimerId id;
        bool operator>(const Entry& o) const {
            return deadline != o.deadline ? deadline > o.deadline : id > o.id;
        }
    };
    void drop_cancelled() const;

    mutable std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
    std::unordered_map<TimerId, Callback> callbacks_;
    TimerId next_id_ = 1;
};

} // namespace wabridge::loop

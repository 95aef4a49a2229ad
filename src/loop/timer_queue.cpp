#include "wabridge/loop/timer_queue.hpp"

namespace wabridge::loop {

TimerId TimerQueue::schedule(TimePoint deadline, Callback callback) {
    TimerId id = next_id_++;
    heap_.push({deadline, id});
    callbacks_.emplace(id, std::move(callback));
    return id;
}

bool TimerQueue::cancel(TimerId id) {
    return callbacks_.erase(id) > 0;
}

void TimerQueue::drop_cancelled() const {
    while (!heap_.empty() && !callbacks_.count(heap_.top().id))
        heap_.pop();
}

std::optional<TimePoint> TimerQueue::next_deadline() const {
    drop_cancelled();
    if (heap_.empty()) return std::nullopt;
    return heap_.top().deadline;
}

size_t TimerQueue::run_due(TimePoint now, const LagObserver& on_lag) {
    const TimerId newest_at_start = next_id_ - 1;
    std::vector<Entry> deferred; // scheduled during this call and already due
    size_t ran = 0;
    while (true) {
        drop_cancelled();
        if (heap_.empty() || heap_.top().deadline > now) break;
        Entry e = heap_.top();
        heap_.pop();
        if (e.id > newest_at_start) {
            deferred.push_back(e);
            continue;
        }
        auto it = callbacks_.find(e.id);
        Callback cb = std::move(it->second);
        callbacks_.erase(it);
        if (on_lag) on_lag(now - e.deadline);
        cb(now);
        ++ran;
    }
    for (const auto& e : deferred)
        heap_.push(e);
    return ran;
}

} // namespace wabridge::loop

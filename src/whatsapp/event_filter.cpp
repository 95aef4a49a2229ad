// Call webhook de-duplication, whatsapp-calling.md §2.2: "De-duplicate by (call id, event)";
// terminate may come before connect, so a terminated call id refuses a later connect.
#include "wabridge/whatsapp/event_filter.hpp"

#include <algorithm>

namespace wabridge::whatsapp {

namespace {
constexpr std::string_view kConnect = "connect";
constexpr std::string_view kTerminate = "terminate";
} // namespace

CallEventFilter::CallEventFilter(EventFilterLimits limits)
    : limits_(limits) {
    limits_.max_entries = std::max<size_t>(limits_.max_entries, 1);
}

// Length-prefixed so that no two (call id, event) pairs share a key, whatever bytes they hold.
std::string CallEventFilter::key_of(std::string_view call_id, std::string_view event) {
    std::string key = std::to_string(call_id.size());
    key.push_back(':');
    key.append(call_id);
    key.append(event);
    return key;
}

void CallEventFilter::drop_oldest() {
    const auto it = entries_.find(*by_age_.front().key);
    by_age_.pop_front();
    if (it != entries_.end()) entries_.erase(it);
}

void CallEventFilter::expire(TimePoint now) {
    latest_ = std::max(latest_, now);
    while (!by_age_.empty() && latest_ - by_age_.front().added >= limits_.ttl)
        drop_oldest();
}

bool CallEventFilter::is_dead(std::string_view call_id) const {
    return entries_.count(key_of(call_id, kTerminate)) != 0;
}

CallEventFilter::Verdict CallEventFilter::admit(std::string_view call_id, std::string_view event,
                                                TimePoint now) {
    expire(now);
    if (call_id.size() + event.size() > kMaxKeyBytes) return Verdict::accept;
    std::string key = key_of(call_id, event);
    if (entries_.count(key)) return Verdict::duplicate;
    const Verdict verdict = event == kConnect && is_dead(call_id) ? Verdict::dead : Verdict::accept;
    while (entries_.size() >= limits_.max_entries)
        drop_oldest();
    const auto [it, inserted] = entries_.emplace(std::move(key), latest_);
    if (inserted) by_age_.push_back(Aged{&it->first, latest_});
    return verdict;
}

std::string_view to_string(CallEventFilter::Verdict verdict) {
    switch (verdict) {
    case CallEventFilter::Verdict::accept:
        return "accept";
    case CallEventFilter::Verdict::duplicate:
        return "duplicate";
    case CallEventFilter::Verdict::dead:
        return "dead";
    }
    return "unknown";
}

} // namespace wabridge::whatsapp

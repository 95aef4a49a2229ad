#include "wabridge/call/session_registry.hpp"

#include <algorithm>

namespace wabridge::call {

std::string_view to_string(SessionState s) {
    switch (s) {
    case SessionState::answered:
        return "answered";
    case SessionState::ended:
        return "ended";
    }
    return "answered";
}

SessionRegistry::SessionRegistry(RegistryLimits limits, Answerer answerer, MetricsRegistry& metrics)
    : SessionRegistry(
          limits,
          [answerer = std::move(answerer)](std::string_view offer, const std::string&,
                                           const SessionOptions&) -> Result<Started, StartFailure> {
              auto answer = answerer(offer);
              if (!answer) {
                  return err(StartFailure{CreateFailureKind::invalid_sdp, answer.error().describe(),
                                          answer.error()});
              }
              return Started{std::move(answer.value()), nullptr};
          },
          metrics) {}

SessionRegistry::SessionRegistry(RegistryLimits limits, Starter starter, MetricsRegistry& metrics,
                                 Disposer disposer)
    : limits_(limits)
    , starter_(std::move(starter))
    , disposer_(std::move(disposer))
    , metrics_(metrics)
    , created_(metrics.counter("wabridge_sessions_created_total", "Sessions created"))
    , active_gauge_(metrics.gauge("wabridge_sessions_active", "Sessions now active")) {}

Result<Created, CreateFailure> SessionRegistry::create(const std::string& call_id,
                                                       const std::string& offer,
                                                       SessionOptions options,
                                                       const loop::Now& now) {
    // Webhooks are retried: the same offer again gets the same answer, even while draining.
    if (auto it = sessions_.find(call_id); it != sessions_.end()) {
        const CallSession& s = *it->second;
        if (s.state == SessionState::ended) {
            return err(CreateFailure{CreateFailureKind::ended,
                                     "session " + call_id + " has ended (" + s.end_reason + ")",
                                     {}});
        }
        if (s.offer != offer) {
            return err(CreateFailure{CreateFailureKind::conflict,
                                     "session " + call_id + " exists with a different offer",
                                     {}});
        }
        return Created{&s, true};
    }
    if (auto refused = refuse_new()) return err(std::move(*refused));
    auto started = starter_(offer, call_id, options);
    if (!started) {
        const StartFailure& f = started.error();
        if (f.sdp_error) {
            metrics_
                .counter("wabridge_sdp_rejected_total", "Offers the SDP engine refused, by reason",
                         {{"reason", std::string(sdp::to_string(f.sdp_error->code))}})
                .inc();
        }
        return err(CreateFailure{f.kind, f.message, f.sdp_error});
    }
    auto session = std::make_unique<CallSession>();
    session->offer = offer;
    session->answer = std::move(started->answer.sdp);
    session->negotiated = std::move(started->answer.negotiated);
    session->media = std::move(started->media);
    return Created{insert(call_id, std::move(session), std::move(options), now), false};
}

std::optional<CreateFailure> SessionRegistry::refuse_new() const {
    if (draining_) return CreateFailure{CreateFailureKind::draining, "the bridge is shutting down", {}};
    if (active_ >= limits_.max_sessions) {
        return CreateFailure{CreateFailureKind::capacity,
                             "MAX_SESSIONS (" + std::to_string(limits_.max_sessions) +
                                 ") calls are active",
                             {}};
    }
    return std::nullopt;
}

const CallSession* SessionRegistry::insert(const std::string& call_id,
                                           std::unique_ptr<CallSession> session,
                                           SessionOptions options, const loop::Now& now) {
    session->call_id = call_id;
    session->options = std::move(options);
    session->created_mono = now.mono;
    session->created_wall = now.wall;
    const CallSession* out = session.get();
    sessions_.emplace(call_id, std::move(session));
    ++active_;
    created_.inc();
    active_gauge_.set(static_cast<double>(active_));
    return out;
}

Result<Created, CreateFailure> SessionRegistry::place(const std::string& call_id,
                                                      SessionOptions options,
                                                      const loop::Now& now, const Placer& placer) {
    if (sessions_.count(call_id)) {
        return err(CreateFailure{CreateFailureKind::conflict, "session " + call_id + " exists", {}});
    }
    if (auto refused = refuse_new()) return err(std::move(*refused));
    auto placed = placer(call_id, options);
    if (!placed) return err(CreateFailure{placed.error().kind, placed.error().message, {}});
    auto session = std::make_unique<CallSession>();
    session->offer = std::move(placed->offer);
    session->media = std::move(placed->media);
    return Created{insert(call_id, std::move(session), std::move(options), now), false};
}

bool SessionRegistry::end(const std::string& call_id, std::string_view reason,
                          const loop::Now& now) {
    auto it = sessions_.find(call_id);
    if (it == sessions_.end() || it->second->state == SessionState::ended) return false;
    CallSession& s = *it->second;
    s.state = SessionState::ended;
    s.end_reason = std::string(reason);
    s.ended_wall = now.wall;
    s.ended_mono = now.mono;
    if (s.media) {
        s.media->close();
        s.final_media = s.media->stats();
        // Never destroy the media inside its own callback (this end may come from one).
        if (disposer_) disposer_(std::move(s.media));
        s.media.reset();
    }
    --active_;
    active_gauge_.set(static_cast<double>(active_));
    metrics_
        .counter("wabridge_sessions_ended_total", "Sessions ended, by reason",
                 {{"reason", std::string(reason)}})
        .inc();
    ended_order_.push_back(call_id);
    if (end_observer_) end_observer_(s);
    prune_ended();
    return true;
}

void SessionRegistry::prune_ended() {
    while (ended_order_.size() > limits_.retain_ended) {
        sessions_.erase(ended_order_.front());
        ended_order_.erase(ended_order_.begin());
    }
}

const CallSession* SessionRegistry::find(const std::string& call_id) const {
    auto it = sessions_.find(call_id);
    return it == sessions_.end() ? nullptr : it->second.get();
}

CallSession* SessionRegistry::find_mutable(const std::string& call_id) {
    auto it = sessions_.find(call_id);
    return it == sessions_.end() ? nullptr : it->second.get();
}

std::vector<const CallSession*> SessionRegistry::list() const {
    std::vector<const CallSession*> out;
    out.reserve(sessions_.size());
    for (const auto& [id, s] : sessions_)
        out.push_back(s.get());
    std::stable_sort(out.begin(), out.end(), [](const CallSession* a, const CallSession* b) {
        if (a->state != b->state) return a->state == SessionState::answered;
        return a->created_mono < b->created_mono;
    });
    return out;
}

std::optional<loop::TimePoint> SessionRegistry::sweep(const loop::Now& now) {
    std::vector<std::string> expired;
    std::optional<loop::TimePoint> next;
    for (const auto& [id, s] : sessions_) {
        if (s->state == SessionState::ended) continue;
        loop::TimePoint expiry = s->created_mono + limits_.max_duration;
        if (expiry <= now.mono)
            expired.push_back(id);
        else if (!next || expiry < *next)
            next = expiry;
    }
    for (const auto& id : expired)
        end(id, "max_duration", now);
    return next;
}

size_t SessionRegistry::end_all(std::string_view reason, const loop::Now& now) {
    std::vector<std::string> ids;
    for (const auto& [id, s] : sessions_) {
        if (s->state != SessionState::ended) ids.push_back(id);
    }
    for (const auto& id : ids)
        end(id, reason, now);
    return ids.size();
}

} // namespace wabridge::call

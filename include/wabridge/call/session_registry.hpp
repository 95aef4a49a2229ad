// callId -> CallSession: creation with webhook-retry idempotency, limits, the max-duration
// sweep, drain, and the session metrics. Sans-IO: every call takes the loop's `now`.
#pragma once

#include "wabridge/app/metrics.hpp"
#include "wabridge/call/call_session.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/util/result.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::call {

struct RegistryLimits {
    size_t max_sessions = 500;
    loop::Clock::duration max_duration = std::chrono::seconds(1800);
    size_t retain_ended = 1000; // ended sessions kept for GET /sessions/{id}
};

enum class CreateFailureKind {
    conflict,          // same callId, different offer (409)
    ended,             // the callId already ended (409)
    capacity,          // MAX_SESSIONS reached (503)
    draining,          // shutting down (503)
    invalid_sdp,       // the SDP engine refused the offer (400)
    media_unavailable, // no media resources (e.g. no free UDP port) (503)
};

struct CreateFailure {
    CreateFailureKind kind;
    std::string message;
    std::optional<sdp::Error> sdp_error;
};

struct Created {
    const CallSession* session;
    bool replayed; // true when this was a retry of an identical offer
};

// What starting a call yields: the answer to send, and the media side already running.
struct Started {
    sdp::Answer answer;
    std::unique_ptr<CallMedia> media;
};

struct StartFailure {
    CreateFailureKind kind; // invalid_sdp or media_unavailable
    std::string message;
    std::optional<sdp::Error> sdp_error;
};

class SessionRegistry {
public:
    // Starts a new call from its offer: in production it gathers ICE candidates, makes fresh
    // credentials with the process certificate, answers, and starts the transport.
    using Starter = std::function<Result<Started, StartFailure>(
        std::string_view offer, const std::string& call_id, const SessionOptions& options)>;
    // Answer-only starter (no media), for tests and tools.
    using Answerer = std::function<Result<sdp::Answer, sdp::Error>(std::string_view offer)>;
    // Receives a closed media object to destroy later, outside the callback that ended the call.
    using Disposer = std::function<void(std::unique_ptr<CallMedia>)>;

    SessionRegistry(RegistryLimits limits, Starter starter, MetricsRegistry& metrics,
                    Disposer disposer = {});
    SessionRegistry(RegistryLimits limits, Answerer answerer, MetricsRegistry& metrics);

    Result<Created, CreateFailure> create(const std::string& call_id, const std::string& offer,
                                          SessionOptions options, const loop::Now& now);
    // A call we place (business-initiated): our offer and the media waiting for the answer.
    struct Placed {
        std::string offer;
        std::unique_ptr<CallMedia> media;
    };
    using Placer = std::function<Result<Placed, StartFailure>(const std::string& call_id,
                                                              const SessionOptions& options)>;
    // Same limits as create(); the session's answer stays empty until the peer's arrives.
    Result<Created, CreateFailure> place(const std::string& call_id, SessionOptions options,
                                         const loop::Now& now, const Placer& placer);

    // Ends an active session; false when unknown or already ended.
    bool end(const std::string& call_id, std::string_view reason, const loop::Now& now);

    const CallSession* find(const std::string& call_id) const;
    CallSession* find_mutable(const std::string& call_id);
    // Told of every session that ends (any reason), after its state and reason are set.
    using EndObserver = std::function<void(const CallSession&)>;
    void set_end_observer(EndObserver observer) { end_observer_ = std::move(observer); }
    std::vector<const CallSession*> list() const; // active first, then ended, by creation time
    size_t active() const { return active_; }

    // Ends sessions older than max_duration; returns when the next one would expire.
    std::optional<loop::TimePoint> sweep(const loop::Now& now);

    void begin_drain() { draining_ = true; }
    bool draining() const { return draining_; }
    size_t end_all(std::string_view reason, const loop::Now& now);

private:
    void prune_ended();
    std::optional<CreateFailure> refuse_new() const;
    const CallSession* insert(const std::string& call_id, std::unique_ptr<CallSession> session,
                              SessionOptions options, const loop::Now& now);

    RegistryLimits limits_;
    Starter starter_;
    Disposer disposer_;
    EndObserver end_observer_;
    MetricsRegistry& metrics_;
    std::map<std::string, std::unique_ptr<CallSession>> sessions_;
    std::vector<std::string> ended_order_;
    size_t active_ = 0;
    bool draining_ = false;
    Counter& created_;
    Gauge& active_gauge_;
};

} // namespace wabridge::call

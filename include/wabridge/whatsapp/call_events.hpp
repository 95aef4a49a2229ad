// Call events for the business's backend (issue 7): when CALL_EVENTS_URL is set, each event is
// POSTed there as JSON {"type","callId","timestamp","data"} and signed with
// X-Wabridge-Signature: sha256=HMAC-SHA256(body, CALL_EVENTS_SECRET). Delivery is retried with
// backoff and never blocks media: requests run on the loop through http::Fetcher, at most
// kMaxInFlight at a time; beyond that an event is dropped and counted.
#pragma once

#include "wabridge/app/metrics.hpp"
#include "wabridge/net/http/fetcher.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace wabridge::whatsapp {

struct CallEventsSettings {
    std::string url;    // "" = off
    std::string secret; // "" = unsigned
    std::string ca_file;
    int max_attempts = 6; // about 10 s of retries with the default backoff
};

class CallEvents {
public:
    static constexpr size_t kMaxInFlight = 1000;
    CallEvents(http::Fetcher& fetcher, CallEventsSettings settings, MetricsRegistry& metrics);

    bool enabled() const { return !settings_.url.empty(); }
    // type: call.started, call.ended, transcript.final, dtmf, error.
    void emit(std::string_view type, std::string_view call_id, nlohmann::json data,
              std::chrono::system_clock::time_point now);
    // The exact body and signature header emit() sends (for tests and docs).
    static std::string body(std::string_view type, std::string_view call_id,
                            const nlohmann::json& data,
                            std::chrono::system_clock::time_point now);

private:
    http::Fetcher& fetcher_;
    CallEventsSettings settings_;
    MetricsRegistry& metrics_;
    size_t in_flight_ = 0;
};

} // namespace wabridge::whatsapp

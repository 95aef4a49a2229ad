// Signed call events to CALL_EVENTS_URL (see call_events.hpp).
#include "wabridge/whatsapp/call_events.hpp"

#include "wabridge/app/log.hpp"
#include "wabridge/whatsapp/signature.hpp"


namespace wabridge::whatsapp {


CallEvents::CallEvents(http::Fetcher& fetcher, CallEventsSettings settings,
                       MetricsRegistry& metrics)
    : fetcher_(fetcher)
    , settings_(std::move(settings))
    , metrics_(metrics) {}

std::string CallEvents::body(std::string_view type, std::string_view call_id,
                             const nlohmann::json& data,
                             std::chrono::system_clock::time_point now) {
    nlohmann::ordered_json j;
    j["type"] = std::string(type);
    j["callId"] = std::string(call_id);
    j["timestamp"] = format_log_timestamp(now); // ISO 8601, UTC, ms
    j["data"] = data;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void CallEvents::emit(std::string_view type, std::string_view call_id, nlohmann::json data,
                      std::chrono::system_clock::time_point now) {
    if (!enabled()) return;
    // Captures copies only: the callback runs long after this call returns.
    auto count = [&metrics = metrics_, t = std::string(type)](const char* result) {
        metrics
            .counter("wabridge_call_events_total", "Call events for CALL_EVENTS_URL, by result",
                     {{"type", t}, {"result", result}})
            .inc();
    };
    if (in_flight_ >= kMaxInFlight) return count("dropped");
    http::ClientRequest req;
    req.url = settings_.url;
    req.body = body(type, call_id, data, now);
    if (!settings_.secret.empty())
        req.headers.push_back({"X-Wabridge-Signature", sign_sha256(req.body, settings_.secret)});
    http::FetchOptions opt;
    opt.ca_file = settings_.ca_file;
    opt.retry.max_attempts = settings_.max_attempts;
    ++in_flight_;
    fetcher_.fetch(std::move(req), opt,
                   [this, count, type = std::string(type),
                    id = std::string(call_id)](const http::FetchResult& r) {
                       --in_flight_;
                       if (r.ok()) return count("delivered");
                       count("failed");
                       logger().warn("call event not delivered",
                                     {{"type", type},
                                      {"status", r.status},
                                      {"error", r.error},
                                      {"attempts", r.attempts}},
                                     id);
                   });
}

} // namespace wabridge::whatsapp

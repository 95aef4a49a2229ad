// The HTTP control plane's routes, sans-IO: an http::Request and the loop's `now` in, an
// http::Response out. The contract is the earlier Node.js bridges' (see README "HTTP API").
#pragma once

#include "wabridge/app/log.hpp"
#include "wabridge/app/metrics.hpp"
#include "wabridge/call/session_registry.hpp"
#include "wabridge/net/http/message.hpp"

#include <functional>
#include <string>

namespace wabridge::api {

struct ApiSettings {
    std::string bearer_token;    // empty: no auth
    std::string version;         // for /health
    loop::TimePoint started{};   // for /health uptime
    std::string default_model;   // OPENAI_REALTIME_MODEL
    int retry_after_seconds = 5; // on 503 capacity
    int drain_retry_after_seconds = 30;
    // GET and POST /whatsapp/webhook (authenticated by Meta's signature, not the bearer token);
    // unset = 404.
    std::function<http::Response(const http::Request&, const loop::Now&)> whatsapp_webhook;
    // POST /calls (bearer auth like the other session routes); unset = 404.
    std::function<http::Response(const http::Request&, const loop::Now&)> place_call;
};

class ControlApi {
public:
    ControlApi(call::SessionRegistry& registry, ApiSettings settings, MetricsRegistry& metrics,
               Logger& log, std::function<void()> refresh_process_metrics = {});

    // Never throws: an unexpected exception becomes a 500 JSON error.
    http::Response handle(const http::Request& request, const loop::Now& now);

private:
    http::Response route(const http::Request& request, const loop::Now& now, std::string& label);
    http::Response create_session(const std::string& call_id, const http::Request& request,
                                  const loop::Now& now, bool bridge_shape);
    http::Response end_session(const std::string& call_id, const loop::Now& now);
    http::Response get_session(const std::string& call_id, const loop::Now& now) const;
    http::Response list_sessions(const loop::Now& now) const;
    http::Response health(const loop::Now& now) const;
    http::Response metrics_text();
    bool authorized(const http::Request& request) const;

    call::SessionRegistry& registry_;
    ApiSettings settings_;
    MetricsRegistry& metrics_;
    Logger& log_;
    bool temperature_warned_ = false;
    std::function<void()> refresh_process_metrics_;
};

// RFC 3986 §2.1 percent-decoding of one path segment; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view segment);

} // namespace wabridge::api

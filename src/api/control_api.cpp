#include "wabridge/api/control_api.hpp"

#include "ai_request_options.hpp"

#include "session_view.hpp"
#include "wabridge/util/text.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

namespace wabridge::api {

namespace {

using http::Response;
using nlohmann::json;

Response json_response(int status, const nlohmann::ordered_json& body) {
    Response r;
    r.status = status;
    r.body = body.dump();
    return r;
}

Response error(int status, std::string_view code, std::string_view message) {
    return http::error_response(status, code, message);
}

Response with_header(Response r, std::string name, std::string value) {
    r.headers.push_back({std::move(name), std::move(value)});
    return r;
}

Response method_not_allowed(std::string_view allow) {
    return with_header(error(405, "method_not_allowed", "use " + std::string(allow)), "Allow",
                       std::string(allow));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A callId is 1-256 visible ASCII characters after decoding (WhatsApp's are "wacid." plus
// base64-ish text with '=', '-', '_').
bool valid_call_id(const std::string& id) {
    if (id.empty() || id.size() > 256) return false;
    for (unsigned char c : id) {
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}

bool is_json_content(const http::Request& r) {
    const std::string* type = r.header("Content-Type");
    if (!type) return false;
    std::string_view t = *type;
    auto semi = t.find(';');
    t = t.substr(0, semi);
    while (!t.empty() && t.back() == ' ')
        t.remove_suffix(1);
    return text::iequals(t, "application/json");
}

// Parses a JSON object body, or says why not.
std::optional<Response> parse_body(const http::Request& r, json& out) {
    if (!is_json_content(r)) {
        return error(415, "unsupported_media_type", "send Content-Type: application/json");
    }
    out = json::parse(r.body, nullptr, false);
    if (out.is_discarded()) return error(400, "invalid_json", "the body is not valid JSON");
    if (!out.is_object()) return error(400, "invalid_json", "the body must be a JSON object");
    return std::nullopt;
}

// Reads an optional string field; a present non-string is an error.
std::optional<Response> optional_string(const json& obj, const char* key, std::string& out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
        return error(400, "invalid_request", std::string(key) + " must be a string");
    }
    out = it->get<std::string>();
    return std::nullopt;
}

std::optional<Response> required_string(const json& obj, const char* key, std::string& out) {
    if (auto e = optional_string(obj, key, out)) return e;
    if (out.empty()) return error(400, "invalid_request", std::string(key) + " is required");
    return std::nullopt;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view segment) {
    std::string out;
    out.reserve(segment.size());
    for (size_t i = 0; i < segment.size(); ++i) {
        if (segment[i] != '%') {
            out += segment[i];
            continue;
        }
        if (i + 2 >= segment.size()) return std::nullopt;
        int hi = hex_value(segment[i + 1]), lo = hex_value(segment[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

ControlApi::ControlApi(call::SessionRegistry& registry, ApiSettings settings,
                       MetricsRegistry& metrics, Logger& log,
                       std::function<void()> refresh_process_metrics)
    : registry_(registry)
    , settings_(std::move(settings))
    , metrics_(metrics)
    , log_(log)
    , refresh_process_metrics_(std::move(refresh_process_metrics)) {}

bool ControlApi::authorized(const http::Request& request) const {
    if (settings_.bearer_token.empty()) return true;
    const std::string* auth = request.header("Authorization");
    if (!auth || auth->size() < 7 ||
        !text::iequals(std::string_view(*auth).substr(0, 7), "Bearer ")) {
        return false;
    }
    std::string_view given = std::string_view(*auth).substr(7);
    const std::string& want = settings_.bearer_token;
    // Constant time over the expected token's length; a length mismatch still compares.
    bool same_length = given.size() == want.size();
    std::string_view compared = same_length ? given : std::string_view(want);
    return CRYPTO_memcmp(compared.data(), want.data(), want.size()) == 0 && same_length;
}

http::Response ControlApi::handle(const http::Request& request, const loop::Now& now) {
    std::string label = "unmatched";
    Response response;
    try {
        response = route(request, now, label);
    } catch (const std::exception& e) {
        log_.error("request failed", {{"route", label}, {"error", e.what()}});
        response = error(500, "internal_error", "unexpected error; see the bridge's log");
    } catch (...) {
        log_.error("request failed", {{"route", label}});
        response = error(500, "internal_error", "unexpected error; see the bridge's log");
    }
    metrics_
        .counter("wabridge_http_requests_total", "HTTP requests, by route and status",
                 {{"route", label}, {"status", std::to_string(response.status)}})
        .inc();
    return response;
}

http::Response ControlApi::route(const http::Request& request, const loop::Now& now,
                                 std::string& label) {
    auto parts = text::split(request.path, '/');
    // "/a/b" splits into "", "a", "b"; a trailing slash is tolerated.
    if (parts.empty() || !parts[0].empty()) return error(404, "not_found", "no such endpoint");
    parts.erase(parts.begin());
    if (!parts.empty() && parts.back().empty() && parts.size() > 1) parts.pop_back();
    const std::string& method = request.method;

    auto seg = [&](size_t i) { return i < parts.size() ? parts[i] : std::string_view(); };
    const size_t n = parts.size();

    if (n == 1 && seg(0) == "health") {
        label = "/health";
        if (method != "GET" && method != "HEAD") return method_not_allowed("GET");
        return health(now);
    }
    if (n == 1 && seg(0) == "metrics") {
        label = "/metrics";
        if (method != "GET") return method_not_allowed("GET");
        return metrics_text();
    }

    if (n == 2 && seg(0) == "whatsapp" && seg(1) == "webhook") {
        label = "/whatsapp/webhook";
        if (method != "GET" && method != "POST") return method_not_allowed("GET, POST");
        if (!settings_.whatsapp_webhook)
            return error(404, "whatsapp_disabled", "the WhatsApp webhook is not configured");
        return settings_.whatsapp_webhook(request, now);
    }

    // Everything else is authenticated when a token is configured.
    std::optional<std::string> call_id;
    std::string_view allow;
    if (n == 1 && seg(0) == "sessions") {
        label = "/sessions";
        allow = "GET";
    } else if (n == 2 && seg(0) == "sessions") {
        label = "/sessions/{callId}";
        allow = "GET, DELETE";
        call_id = percent_decode(seg(1));
    } else if (n == 3 && seg(0) == "sessions" && seg(2) == "webrtc") {
        label = "/sessions/{callId}/webrtc";
        allow = "POST";
        call_id = percent_decode(seg(1));
    } else if (n == 1 && seg(0) == "calls") {
        label = "/calls";
        allow = "POST";
    } else if (n == 2 && seg(0) == "bridge" && (seg(1) == "start" || seg(1) == "stop")) {
        label = seg(1) == "start" ? "/bridge/start" : "/bridge/stop";
        allow = "POST";
    } else {
        return error(404, "not_found", "no such endpoint: " + request.path.substr(0, 200));
    }
    if (!authorized(request)) {
        return with_header(error(401, "unauthorized", "missing or wrong bearer token"),
                           "WWW-Authenticate", "Bearer");
    }
    if (allow.find(method) == std::string_view::npos || method.empty()) {
        return method_not_allowed(allow);
    }
    if (label.rfind("/sessions/", 0) == 0 && (!call_id || !valid_call_id(*call_id))) {
        return error(400, "invalid_call_id", "callId must be 1-256 visible ASCII characters");
    }

    if (label == "/calls") {
        if (!settings_.place_call)
            return error(404, "whatsapp_disabled", "placing calls needs WHATSAPP_APP_SECRET");
        json body;
        if (auto e = parse_body(request, body)) return *e;
        return settings_.place_call(request, now);
    }
    if (label == "/sessions") return list_sessions(now);
    if (label == "/sessions/{callId}") {
        return method == "GET" ? get_session(*call_id, now) : end_session(*call_id, now);
    }
    if (label == "/sessions/{callId}/webrtc") return create_session(*call_id, request, now, false);
    json body;
    if (auto e = parse_body(request, body)) return *e;
    std::string id;
    if (auto e = required_string(body, "callId", id)) return *e;
    if (!valid_call_id(id)) {
        return error(400, "invalid_call_id", "callId must be 1-256 visible ASCII characters");
    }
    if (label == "/bridge/start") return create_session(id, request, now, true);
    return end_session(id, now);
}

http::Response ControlApi::create_session(const std::string& call_id, const http::Request& request,
                                          const loop::Now& now, bool bridge_shape) {
    json body;
    if (auto e = parse_body(request, body)) return *e;
    std::string offer;
    if (auto e = required_string(body, "sdpOffer", offer)) return *e;
    call::SessionOptions options;
    options.model = settings_.default_model;
    // turnDetection and dtmfToModel: at the top level of /sessions/{id}/webrtc, inside
    // sessionConfig for /bridge/start.
    auto read_ai_options = [&](const json& obj) -> std::optional<Response> {
        auto td = obj.find("turnDetection");
        if (td == obj.end()) td = obj.find("turn_detection");
        if (td != obj.end() && !td->is_null()) {
            if (auto why = read_turn_detection(*td, options.turn_detection))
                return error(400, "invalid_request", *why);
        }
        auto dtmf = obj.find("dtmfToModel");
        if (dtmf != obj.end() && !dtmf->is_null()) {
            if (!dtmf->is_boolean())
                return error(400, "invalid_request", "dtmfToModel must be true or false");
            options.dtmf_to_model = dtmf->get<bool>();
        }
        return std::nullopt;
    };
    if (bridge_shape) {
        if (auto e = optional_string(body, "from", options.from)) return *e;
        auto cfg = body.find("sessionConfig");
        if (cfg != body.end() && !cfg->is_null()) {
            if (!cfg->is_object())
                return error(400, "invalid_request", "sessionConfig must be an object");
            if (auto e = optional_string(*cfg, "model", options.model)) return *e;
            if (options.model.empty()) options.model = settings_.default_model;
            if (auto e = read_ai_options(*cfg)) return *e;
            if (auto e = optional_string(*cfg, "voice", options.voice)) return *e;
            if (auto e = optional_string(*cfg, "instructions", options.instructions)) return *e;
            auto t = cfg->find("temperature");
            if (t != cfg->end() && !t->is_null() && !t->is_number()) {
                return error(400, "invalid_request", "sessionConfig.temperature must be a number");
            }
            // The GA Realtime API has no temperature; old callers still send it. Accepted and
            // dropped, with one warning per process.
            if (t != cfg->end() && t->is_number() && !temperature_warned_) {
                temperature_warned_ = true;
                log_.warn("sessionConfig.temperature is ignored: the GA Realtime API has no "
                          "temperature",
                          {{"temperature", t->get<double>()}});
            }
        }
    } else {
        if (auto e = optional_string(body, "openaiModel", options.model)) return *e;
        if (auto e = optional_string(body, "systemInstructions", options.instructions)) return *e;
        if (auto e = optional_string(body, "voice", options.voice)) return *e;
        if (options.model.empty()) options.model = settings_.default_model;
        if (auto e = read_ai_options(body)) return *e;
    }

    auto created = registry_.create(call_id, offer, std::move(options), now);
    if (!created) {
        const call::CreateFailure& f = created.error();
        switch (f.kind) {
        case call::CreateFailureKind::invalid_sdp: {
            Response r = error(400, "invalid_sdp", f.message);
            auto j = nlohmann::ordered_json::parse(r.body);
            j["error"]["sdpError"] = std::string(sdp::to_string(f.sdp_error->code));
            j["error"]["line"] = f.sdp_error->line;
            r.body = j.dump();
            log_.warn("offer refused", {{"reason", f.message}}, call_id);
            return r;
        }
        case call::CreateFailureKind::conflict:
            return error(409, "session_conflict", f.message);
        case call::CreateFailureKind::ended:
            return error(409, "session_ended", f.message);
        case call::CreateFailureKind::media_unavailable:
            log_.error("cannot start media", {{"reason", f.message}}, call_id);
            return with_header(error(503, "media_unavailable", f.message), "Retry-After",
                               std::to_string(settings_.retry_after_seconds));
        case call::CreateFailureKind::capacity:
            return with_header(error(503, "at_capacity", f.message), "Retry-After",
                               std::to_string(settings_.retry_after_seconds));
        case call::CreateFailureKind::draining:
            return with_header(error(503, "draining", f.message), "Retry-After",
                               std::to_string(settings_.drain_retry_after_seconds));
        }
    }
    const call::CallSession& s = *created->session;
    if (!created->replayed) {
        log_.info("session created",
                  {{"from", s.options.from},
                   {"model", s.options.model},
                   {"bitrate", s.negotiated.send_bitrate_bps}},
                  call_id);
    }
    nlohmann::ordered_json out;
    out["success"] = true;
    if (bridge_shape) {
        out["callId"] = call_id;
        out["sdpAnswer"] = s.answer;
    } else {
        out["sdpAnswer"] = s.answer;
        out["sessionId"] = call_id;
    }
    return json_response(200, out);
}

http::Response ControlApi::end_session(const std::string& call_id, const loop::Now& now) {
    const call::CallSession* s = registry_.find(call_id);
    if (!s) return error(404, "session_not_found", "no session " + call_id);
    if (registry_.end(call_id, "deleted", now))
        log_.info("session ended", {{"reason", "deleted"}}, call_id);
    return json_response(200, {{"success", true}});
}

http::Response ControlApi::get_session(const std::string& call_id, const loop::Now& now) const {
    const call::CallSession* s = registry_.find(call_id);
    if (!s) return error(404, "session_not_found", "no session " + call_id);
    nlohmann::ordered_json out;
    out["success"] = true;
    out["session"] = session_json(*s, now);
    return json_response(200, out);
}

http::Response ControlApi::list_sessions(const loop::Now& now) const {
    nlohmann::ordered_json out;
    out["success"] = true;
    out["activeSessions"] = registry_.active();
    out["sessions"] = nlohmann::ordered_json::array();
    for (const call::CallSession* s : registry_.list())
        out["sessions"].push_back(session_json(*s, now));
    return json_response(200, out);
}

http::Response ControlApi::health(const loop::Now& now) const {
    nlohmann::ordered_json out;
    out["status"] = registry_.draining() ? "draining" : "healthy";
    out["activeSessions"] = registry_.active();
    out["uptime"] = std::chrono::duration<double>(now.mono - settings_.started).count();
    out["version"] = settings_.version;
    return json_response(200, out);
}

http::Response ControlApi::metrics_text() {
    if (refresh_process_metrics_) refresh_process_metrics_();
    Response r;
    r.status = 200;
    r.content_type = std::string(kPrometheusContentType);
    r.body = metrics_.render();
    return r;
}

} // namespace wabridge::api

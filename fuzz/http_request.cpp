// libFuzzer target for the control plane without sockets: the input is fed, in chunks whose
// sizes the input itself chooses, through http::Connection and the ControlApi (with a real
// SessionRegistry and SDP engine). Checks: no crash or sanitizer report, every byte written
// back is a sequence of HTTP/1.1 responses, and the connection always has a deadline or closes.
#include "wabridge/api/control_api.hpp"
#include "wabridge/net/http/connection.hpp"
#include "wabridge/sdp/answer.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>

namespace {

using namespace wabridge;

[[noreturn]] void violated(const char* what, const std::string& detail) {
    std::fprintf(stderr, "http_request invariant violated: %s\n%s\n", what, detail.c_str());
    std::abort();
}

sdp::LocalTransport transport() {
    sdp::LocalTransport t;
    t.ice_ufrag = "Fz7qLk2Rv9XwB4sN";
    t.ice_pwd = "Qm3Zt8Hc1Vy6Gd0Ks5Ja2Wn9Pe4Lb7Xr";
    t.fingerprint_sha256 = "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:"
                           "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9";
    t.candidates = sdp::host_candidates({"127.0.0.1"}, 10000);
    t.ssrc = 1;
    t.cname = "fuzz";
    t.session_id = 1;
    return t;
}

// Checks that `out` is a run of complete HTTP/1.1 responses: interim 1xx heads, then one final
// response per handed-out request (no body for HEAD, 204 and 304; otherwise exactly
// Content-Length bytes), then at most the connection's own error responses.
void check_responses(const std::string& out, std::deque<std::string> methods) {
    size_t pos = 0;
    while (pos < out.size()) {
        if (out.compare(pos, 9, "HTTP/1.1 ") != 0)
            violated("not a status line", out.substr(pos, 80));
        size_t head_end = out.find("\r\n\r\n", pos);
        if (head_end == std::string::npos) violated("unterminated head", out.substr(pos, 200));
        int status = std::atoi(out.c_str() + pos + 9);
        if (status < 100 || status > 599) violated("bad status", out.substr(pos, 80));
        std::string head = out.substr(pos, head_end - pos);
        pos = head_end + 4;
        if (status < 200) continue; // interim, e.g. 100 Continue
        bool head_request = false;
        if (!methods.empty()) {
            head_request = methods.front() == "HEAD";
            methods.pop_front();
        }
        size_t cl = head.find("Content-Length: ");
        if (status == 204 || status == 304) {
            if (cl != std::string::npos) violated("Content-Length on 204/304", head);
            continue;
        }
        if (cl == std::string::npos) violated("no Content-Length", head);
        size_t length = std::strtoul(head.c_str() + cl + 16, nullptr, 10);
        if (!head_request) pos += length;
        if (pos > out.size()) violated("body shorter than Content-Length", out);
    }
}

// Answers every complete request, remembering their methods in order.
void serve(http::Connection& conn, api::ControlApi& api, const loop::Now& now,
           std::deque<std::string>& methods) {
    while (!conn.awaiting_response()) {
        auto request = conn.next_request();
        if (!request) break;
        methods.push_back(request->method);
        conn.respond(api.handle(*request, now), now.mono);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static MetricsRegistry metrics;
    static Logger log(LogLevel::error, LogFormat::json);
    static bool quiet = (log.set_sink([](std::string_view) {}), true);
    (void)quiet;

    call::SessionRegistry registry(
        {4, std::chrono::seconds(60), 8},
        [](std::string_view offer) { return sdp::answer_offer(offer, transport()); }, metrics);
    api::ApiSettings settings;
    settings.bearer_token = size % 2 ? "token" : "";
    settings.version = "fuzz";
    settings.default_model = "gpt-realtime";
    api::ControlApi api(registry, settings, metrics, log);

    http::Limits limits;
    limits.max_header_bytes = 4096;
    limits.max_headers = 20;
    limits.max_body_bytes = 16384;
    loop::Now now{loop::TimePoint() + std::chrono::hours(1), {}};
    http::Connection conn(limits, now.mono);

    // The first byte picks the chunk size, so splits at every position get exercised.
    size_t chunk = size ? (data[0] % 64) + 1 : 1;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    if (!input.empty()) input.remove_prefix(1);
    std::string out;
    std::deque<std::string> methods;
    for (size_t pos = 0; pos < input.size() && !conn.wants_close(); pos += chunk) {
        conn.on_bytes(input.substr(pos, chunk), now.mono);
        serve(conn, api, now, methods);
        out += conn.take_output();
        now.mono += std::chrono::milliseconds(10);
    }
    conn.on_peer_closed();
    serve(conn, api, now, methods);
    out += conn.take_output();
    conn.on_timeout(now.mono + std::chrono::hours(1));
    out += conn.take_output();
    check_responses(out, methods);
    return 0;
}

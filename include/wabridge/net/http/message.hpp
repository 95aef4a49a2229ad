// HTTP/1.1 messages of the control plane: the request the parser produces, the response a
// handler returns, the limits every connection enforces, and the response serialiser
// (RFC 9112 §4 status line, §6 framing; RFC 9110 §15 status codes). Pure: no I/O, no clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::http {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct Header {
    std::string name;
    std::string value;
};

struct Request {
    std::string method;          // "GET", "POST", ... (llhttp_method_name)
    std::string target;          // as received: "/sessions/abc/webrtc?x=1"
    std::string path;            // target without the query, still percent-encoded
    std::string query;           // after '?', without it
    int version_minor = 1;       // HTTP/1.0 or 1.1
    std::vector<Header> headers; // in order, names as received, values without surrounding OWS
    std::string body;
    bool keep_alive = true; // RFC 9112 §9.3 (llhttp_should_keep_alive)

    // The value of the first field named `name` (ASCII case-insensitive, RFC 9110 §5.1), or null.
    const std::string* header(std::string_view name) const noexcept;
};

struct Response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<Header> headers; // extra ones: Retry-After, WWW-Authenticate, Allow...
    bool close = false;          // force Connection: close
};

struct Limits {
    size_t max_header_bytes = 16 * 1024; // target + field names + values (+4 per field line)
    size_t max_headers = 100;
    size_t max_body_bytes = 1024 * 1024;
    // Complete requests queued or awaiting a response before a Connection stops parsing input
    // (the rest waits, bounded, until responses go out). Values below 1 count as 1.
    size_t max_pipelined = 16;
    Clock::duration idle_timeout = std::chrono::seconds(10); // keep-alive idle, no request started
    Clock::duration header_timeout = std::chrono::seconds(10); // first byte -> headers complete
    Clock::duration body_timeout = std::chrono::seconds(10);   // headers complete -> body complete
};

// RFC 9110 §5.6.2: a non-empty run of tchar (field names and methods are tokens).
bool is_token(std::string_view s) noexcept;

// RFC 9110 §5.5: field values are VCHAR, obs-text, SP and HTAB; CR, LF, NUL and the other control
// characters never are (a CR or LF would let a value inject header lines or a second message).
bool is_field_value(std::string_view s) noexcept;

// RFC 9110 §15 (and RFC 6585 §4, §5 for 429 and 431). Empty for codes without a registered phrase;
// the status line then ends "NNN \r\n", which RFC 9112 §4 allows.
std::string_view reason_phrase(int status) noexcept;

// False for 1xx, 204 and 304: those responses carry no content and, for 1xx and 204, no
// Content-Length (RFC 9110 §6.4.1, §8.6).
bool status_has_content(int status) noexcept;

// "HTTP/1.1 <status> <reason>", Content-Type (only with a non-empty body and type), Content-Length
// (always the exact body size, except where status_has_content is false), Connection:
// keep-alive|close, the extra headers in order, an empty line and the body. A status outside
// 100..599 is sent as 500. Extra headers are dropped (never written) when the name is not a token,
// the value holds a control character other than HTAB (CR, LF, NUL: RFC 9110 §5.5), or the name is
// one this function writes itself or that frames the message (Content-Length, Content-Type,
// Connection, Transfer-Encoding, Keep-Alive, Upgrade). Returns "" only if memory runs out.
std::string serialize(const Response& r, bool keep_alive) noexcept;

// The answer to a HEAD request: serialize()'s header section without the content (RFC 9110 §9.3.2).
std::string serialize_head(const Response& r, bool keep_alive) noexcept;

// The project's JSON error shape: {"success":false,"error":{"code":"...","message":"..."}}.
// Invalid UTF-8 in `code` or `message` is replaced with U+FFFD.
Response error_response(int status, std::string_view code, std::string_view message) noexcept;

} // namespace wabridge::http

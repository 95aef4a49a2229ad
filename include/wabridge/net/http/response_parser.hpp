// The llhttp adapter for the client side: HTTP/1.1 response bytes in, one complete response out
// at a time (RFC 9112). It reports how many bytes each response used, so that whatever follows a
// "101 Switching Protocols" head (WebSocket frames that came in the same read, RFC 9110 §15.2.2)
// or a keep-alive response (the next response) is handed back untouched. Bodies are framed by
// Content-Length, chunked transfer coding or the end of the connection (RFC 9112 §6.3). It never
// throws and never trusts a length: the header section, the field count and the body are capped.
#pragma once

#include "wabridge/net/http/message.hpp"
#include "wabridge/net/http/request_parser.hpp"
#include "wabridge/util/result.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wabridge::http {

struct ResponseLimits {
    size_t max_header_bytes = 16 * 1024; // reason phrase + field names + values (+4 per line)
    size_t max_headers = 100;
    size_t max_body_bytes = 1024 * 1024;
    // false: a body over max_body_bytes is an error (body_too_large). true: its first
    // max_body_bytes are kept, the rest is read and dropped, and body_truncated is set.
    bool truncate_body = false;
};

struct ParsedResponse {
    int status = 0;
    std::string reason;          // the reason phrase, as received (may be empty)
    int version_minor = 1;       // HTTP/1.0 or 1.1
    std::vector<Header> headers; // in order, names as received, values without surrounding OWS
    std::string body;            // de-chunked
    bool body_truncated = false; // only with ResponseLimits::truncate_body
    bool keep_alive = false;     // the connection may carry another response (RFC 9112 §9.3)
    bool upgraded = false;       // 101: the bytes after the head belong to the new protocol

    // The value of the first field named `name` (ASCII case-insensitive, RFC 9110 §5.1), or null.
    const std::string* header(std::string_view name) const noexcept;
    // The values of every field named `name`, in order.
    std::vector<std::string_view> header_values(std::string_view name) const;
};

// Parses the responses of one connection, one at a time. Interim 1xx responses other than 101
// (100 Continue, 103 Early Hints) are skipped and counted. After an error every later call
// returns the same error.
class ResponseParser {
public:
    explicit ResponseParser(const ResponseLimits& limits = {});
    ~ResponseParser();
    ResponseParser(const ResponseParser&) = delete;
    ResponseParser& operator=(const ResponseParser&) = delete;

    // The response now awaited answers a HEAD request: it has no body whatever its Content-Length
    // says (RFC 9110 §9.3.2). Call before its first byte; cleared by take().
    void expect_head_response() noexcept;

    // Parses up to the end of the awaited response and returns how many bytes of `data` it used:
    // all of them, or fewer when a response completed (done() is then true). While a completed
    // response waits for take(), and after an upgrade or a response that ends the connection,
    // nothing is used.
    Result<size_t, ParseError> feed(std::string_view data) noexcept;

    // The peer closed the connection. Completes a body delimited by the close (RFC 9112 §6.3
    // rule 8); an unfinished response is an error (bad_request, "incomplete response"). With no
    // response in progress it succeeds and does nothing.
    Result<std::monostate, ParseError> finish() noexcept;

    bool done() const noexcept;             // a final response is complete and not taken yet
    bool headers_complete() const noexcept; // the current final response has all its headers
    bool in_progress() const noexcept;      // some bytes of an unfinished response were seen
    bool failed() const noexcept;
    // The connection carries no further response: the last taken one was a 101 or had
    // keep_alive == false.
    bool closed() const noexcept;
    size_t interim_responses() const noexcept; // 1xx responses skipped so far

    // The response being parsed or completed (status, headers, the body so far). Valid until the
    // next call that is not const.
    const ParsedResponse& current() const noexcept;

    // Moves the completed response out and gets ready for the next one on the same connection.
    // Precondition: done().
    ParsedResponse take() noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace wabridge::http

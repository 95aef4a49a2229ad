// The llhttp adapter: HTTP/1.1 request bytes in, complete Requests out (RFC 9112). It never
// throws and never trusts a length: the header section, the field count and the body (declared
// or chunked) are capped by Limits, and llhttp buffers nothing, so memory stays within them.
#pragma once

#include "wabridge/net/http/message.hpp"
#include "wabridge/util/result.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wabridge::http {

enum class ParseErrorKind {
    bad_request,
    header_too_large,
    too_many_headers,
    body_too_large,
    unsupported
};

struct ParseError {
    ParseErrorKind kind;
    std::string message; // one line, e.g. "llhttp: HPE_INVALID_METHOD: Invalid method encountered"
};

// Completed requests are appended to `out` in order (pipelining: several per feed). After an
// error every later feed returns the same error. After a request that ends the connection
// (Connection: close, or HTTP/1.0 without keep-alive) further bytes are ignored: RFC 9112 §9.6
// forbids processing requests that follow it.
class RequestParser {
public:
    explicit RequestParser(const Limits& limits);
    ~RequestParser();
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;

    Result<std::monostate, ParseError> feed(std::string_view data,
                                            std::vector<Request>& out) noexcept;

    // Like feed, but stops right after the `max_requests`-th request completed in this call and
    // returns how many bytes were used; the caller feeds the rest later. 0 requests: uses nothing.
    Result<size_t, ParseError> feed_some(std::string_view data, std::vector<Request>& out,
                                         size_t max_requests) noexcept;

    bool in_progress() const noexcept;      // some bytes of an unfinished request were seen
    bool headers_complete() const noexcept; // the unfinished request has all its headers
    // The unfinished request is HTTP/1.1, has all its headers, announces a body, carries
    // "Expect: 100-continue" and no byte of its body arrived yet (RFC 9110 §10.1.1).
    bool expects_continue() const noexcept;
    bool closed() const noexcept; // a request ended the connection; later bytes are ignored
    bool failed() const noexcept; // a parse error occurred; the parser accepts nothing more

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace wabridge::http

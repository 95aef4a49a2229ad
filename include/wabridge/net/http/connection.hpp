// One server-side HTTP/1.1 connection, sans-IO: bytes and `now` in; requests, response bytes, a
// close decision and a deadline out. The owner (the socket layer) reads the socket into
// on_bytes, hands requests to the router, passes the answers to respond, writes take_output()
// and arms a timer for deadline(). Responses always go out in request order (RFC 9112 §9.3.2);
// an error response (parse error, timeout) is sent after the answers to the requests before it,
// then the connection closes. Nothing here throws.
#pragma once

#include "wabridge/net/http/message.hpp"
#include "wabridge/net/http/request_parser.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::http {

class Connection {
public:
    Connection(const Limits& limits, TimePoint now) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Parses. On a parse error queues the error response (400 bad_request, 431 header_too_large
    // or too_many_headers, 413 payload_too_large, 501 unsupported) and closes after it. Input
    // after an error, a timeout, EOF or a request that ends the connection is ignored. While
    // wants_read() is false the bytes are kept (at most max_header_bytes + max_body_bytes of
    // them; beyond that the connection stops reading and closes once it has answered).
    void on_bytes(std::string_view data, TimePoint now) noexcept;

    // Complete requests not yet handed out, in order.
    std::optional<Request> next_request() noexcept;

    // Answers the oldest handed-out request (ignored when none awaits a response), with
    // keep-alive from that request and !r.close. A HEAD request gets no content; a status below
    // 200 is sent as 500 (interim responses are not the router's to send). The idle timer
    // restarts at `now`; the overload without it uses the latest time this connection was given.
    void respond(const Response& r) noexcept;
    void respond(const Response& r, TimePoint now) noexcept;

    std::string take_output() noexcept; // bytes to write now (and clears them)
    bool has_output() const noexcept;

    // True once the connection is finished: no more input will be read and every response,
    // error included, is in the output. The owner closes the socket when this is true AND the
    // output is flushed.
    bool wants_close() const noexcept;
    bool awaiting_response() const noexcept; // a handed-out request has no response yet
    // False while max_pipelined requests are queued or unanswered (the owner should stop
    // reading the socket until responses go out) and once no more input is wanted.
    bool wants_read() const noexcept;

    // The next time on_timeout must be called, or TimePoint::max(). The idle timer runs only
    // while no request is in progress, queued or unanswered; the header timer from the first
    // byte of a request; the body timer from its headers-complete.
    TimePoint deadline() const noexcept;
    // Before the deadline: nothing. Idle expired: close silently. Header or body expired
    // (slowloris): queue 408 {"code":"request_timeout"} and close.
    void on_timeout(TimePoint now) noexcept;
    // EOF from the peer: no more input; requests already received are still answered, an
    // unfinished one is dropped, then the connection closes.
    void on_peer_closed() noexcept;

private:
    struct Pending {
        bool keep_alive;
        bool head;
    };

    size_t outstanding() const noexcept { return queued_.size() + awaiting_.size(); }
    size_t capacity() const noexcept;
    size_t parse(std::string_view data, TimePoint now);
    void pump(TimePoint now);
    void fail(int status, std::string_view code, std::string_view message);
    void settle();
    void maybe_send_continue();
    void abort_connection() noexcept;

    Limits limits_;
    RequestParser parser_;
    std::vector<Request> queued_;   // parsed, not handed out yet
    std::vector<Pending> awaiting_; // handed out, not answered yet, oldest first
    std::string output_;
    std::string unparsed_;                // input held back while the pipeline is full
    std::optional<std::string> deferred_; // error response sent once earlier requests are answered
    bool accepting_ = true;               // on_bytes still takes input
    bool parsing_ = true;                 // held-back input is still parsed
    bool closed_ = false;
    bool continue_sent_ = false;
    TimePoint last_now_;
    TimePoint idle_since_;
    TimePoint header_started_;
    TimePoint body_started_;
};

} // namespace wabridge::http

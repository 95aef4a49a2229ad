#include "wabridge/net/http/connection.hpp"

#include <algorithm>
#include <limits>

namespace wabridge::http {

namespace {

// t + d without overflowing past TimePoint::max() (a timeout of duration::max() disables it).
TimePoint after(TimePoint t, Clock::duration d) {
    if (d <= Clock::duration::zero()) return t;
    if (t > TimePoint::max() - d) return TimePoint::max();
    return t + d;
}

struct ErrorStatus {
    int status;
    std::string_view code;
};

ErrorStatus status_for(ParseErrorKind kind) {
    switch (kind) {
    case ParseErrorKind::header_too_large:
        return {431, "header_too_large"}; // RFC 6585 §5
    case ParseErrorKind::too_many_headers:
        return {431, "too_many_headers"};
    case ParseErrorKind::body_too_large:
        return {413, "payload_too_large"}; // RFC 9110 §15.5.14
    case ParseErrorKind::unsupported:
        return {501, "unsupported"}; // RFC 9110 §15.6.2
    case ParseErrorKind::bad_request:
        break;
    }
    return {400, "bad_request"}; // RFC 9112 §3, §5, §6.3
}

std::string millis(Clock::duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

} // namespace

Connection::Connection(const Limits& limits, TimePoint now) noexcept
    : limits_(limits)
    , parser_(limits)
    , last_now_(now)
    , idle_since_(now)
    , header_started_(now)
    , body_started_(now) {}

size_t Connection::capacity() const noexcept {
    return std::max<size_t>(limits_.max_pipelined, 1);
}

// Feeds `data` to the parser, at most up to a full pipeline; returns the bytes used.
size_t Connection::parse(std::string_view data, TimePoint now) {
    const size_t room = capacity() > outstanding() ? capacity() - outstanding() : 0;
    if (room == 0) return 0;
    const bool was_in_progress = parser_.in_progress();
    const bool had_headers = parser_.headers_complete();
    std::vector<Request> done;
    auto used = parser_.feed_some(data, done, room);
    const bool completed = !done.empty();
    for (Request& r : done)
        queued_.push_back(std::move(r));
    if (!used.ok()) {
        const ErrorStatus e = status_for(used.error().kind);
        fail(e.status, e.code, used.error().message);
        return data.size();
    }
    if (parser_.closed()) {
        // RFC 9112 §9.6: the last request of the connection was read; ignore what follows.
        accepting_ = false;
        parsing_ = false;
        unparsed_.clear();
        return data.size();
    }
    // All bytes of one call share `now`: a request that began in this call began at `now`.
    if (parser_.in_progress() && (completed || !was_in_progress)) {
        header_started_ = now;
        continue_sent_ = false;
    }
    if (parser_.headers_complete() && (completed || !had_headers)) body_started_ = now;
    return *used;
}

// Parses held-back input while the pipeline has room.
void Connection::pump(TimePoint now) {
    while (parsing_ && !unparsed_.empty() && outstanding() < capacity()) {
        const size_t used = parse(unparsed_, now);
        if (!parsing_) break; // parse() cleared unparsed_ when it stopped
        if (used == 0) break;
        unparsed_.erase(0, used);
    }
}

void Connection::fail(int status, std::string_view code, std::string_view message) {
    accepting_ = false;
    parsing_ = false;
    unparsed_.clear();
    // The error ends the connection: RFC 9112 §9.6 "close" on the last response.
    deferred_ = serialize(error_response(status, code, message), false);
}

// Closes once no input remains to be read or parsed and every request is answered; an error
// response goes out last, after the answers to the requests that preceded it.
void Connection::settle() {
    if (closed_) return;
    if (accepting_ || (parsing_ && !unparsed_.empty()) || !queued_.empty() || !awaiting_.empty()) {
        return;
    }
    if (deferred_) {
        output_ += *deferred_;
        deferred_.reset();
    }
    closed_ = true;
}

// RFC 9110 §10.1.1: answer "Expect: 100-continue" with an interim 100 once the request's headers
// are accepted, unless a final response is still owed to an earlier request (it would come out
// of order); the client then sends the body after its own timeout.
void Connection::maybe_send_continue() {
    if (closed_ || !accepting_ || continue_sent_ || outstanding() != 0) return;
    if (!parser_.expects_continue()) return;
    output_ += kContinue;
    continue_sent_ = true;
}

void Connection::abort_connection() noexcept {
    // Out of memory: drop everything and ask the owner to close.
    accepting_ = false;
    parsing_ = false;
    closed_ = true;
    queued_.clear();
    awaiting_.clear();
    deferred_.reset();
    unparsed_.clear();
}

void Connection::on_bytes(std::string_view data, TimePoint now) noexcept {
    try {
        last_now_ = std::max(last_now_, now);
        if (closed_ || !accepting_ || data.empty()) return;
        std::string_view rest = data;
        if (unparsed_.empty()) rest.remove_prefix(std::min(parse(data, now), data.size()));
        if (accepting_ && parsing_ && !rest.empty()) {
            // Held back until responses make room. One request's worth at most: beyond that the
            // peer ignored wants_read(); stop reading and close once the queue is answered.
            const size_t cap = limits_.max_header_bytes + limits_.max_body_bytes;
            if (rest.size() > cap || unparsed_.size() > cap - rest.size()) {
                accepting_ = false;
            } else {
                unparsed_.append(rest);
            }
        }
        settle();
        maybe_send_continue();
    } catch (...) {
        abort_connection();
    }
}

std::optional<Request> Connection::next_request() noexcept {
    try {
        if (closed_ || queued_.empty()) return std::nullopt;
        awaiting_.push_back(Pending{queued_.front().keep_alive, queued_.front().method == "HEAD"});
        std::optional<Request> r(std::move(queued_.front()));
        queued_.erase(queued_.begin());
        return r;
    } catch (...) {
        abort_connection();
        return std::nullopt;
    }
}

void Connection::respond(const Response& r) noexcept {
    respond(r, last_now_);
}

void Connection::respond(const Response& r, TimePoint now) noexcept {
    try {
        if (closed_ || awaiting_.empty()) return;
        last_now_ = std::max(last_now_, now);
        const Pending p = awaiting_.front();
        awaiting_.erase(awaiting_.begin());
        bool close = r.close || !p.keep_alive;
        if (!close) pump(now); // room for one more request: parse what was held back
        // Nothing can follow this response: say so (RFC 9112 §9.6).
        if (!close && !accepting_ && !(parsing_ && !unparsed_.empty()) && queued_.empty() &&
            awaiting_.empty() && !deferred_) {
            close = true;
        }
        const Response* out = &r;
        Response fixed;
        if (r.status < 200) {
            fixed = r;
            fixed.status = 500;
            out = &fixed;
        }
        output_ += p.head ? serialize_head(*out, !close) : serialize(*out, !close);
        if (close) {
            accepting_ = false;
            parsing_ = false;
            unparsed_.clear();
            queued_.clear();
            awaiting_.clear();
            deferred_.reset();
            closed_ = true;
            return;
        }
        settle();
        maybe_send_continue();
        if (!closed_ && outstanding() == 0 && !parser_.in_progress() && unparsed_.empty()) {
            idle_since_ = now; // RFC 9112 §9.3: a persistent connection now waits for a request
        }
    } catch (...) {
        abort_connection();
    }
}

std::string Connection::take_output() noexcept {
    std::string out;
    out.swap(output_);
    return out;
}

bool Connection::has_output() const noexcept {
    return !output_.empty();
}

bool Connection::wants_close() const noexcept {
    return closed_;
}

bool Connection::awaiting_response() const noexcept {
    return !awaiting_.empty();
}

bool Connection::wants_read() const noexcept {
    return !closed_ && accepting_ && unparsed_.empty() && outstanding() < capacity();
}

TimePoint Connection::deadline() const noexcept {
    if (closed_ || !accepting_) return TimePoint::max();
    if (parser_.in_progress()) {
        return parser_.headers_complete() ? after(body_started_, limits_.body_timeout)
                                          : after(header_started_, limits_.header_timeout);
    }
    if (outstanding() > 0 || !unparsed_.empty()) return TimePoint::max(); // the server's turn
    return after(idle_since_, limits_.idle_timeout);
}

void Connection::on_timeout(TimePoint now) noexcept {
    try {
        last_now_ = std::max(last_now_, now);
        if (closed_ || now < deadline()) return;
        if (parser_.in_progress()) {
            // RFC 9110 §15.5.9: 408 for a request not completed in time (slowloris defence).
            const bool body = parser_.headers_complete();
            fail(408, "request_timeout",
                 body ? "request body not received within " + millis(limits_.body_timeout)
                      : "request headers not received within " + millis(limits_.header_timeout));
        } else {
            // RFC 9112 §9.5: an idle persistent connection may be closed at any time, silently.
            accepting_ = false;
            parsing_ = false;
            unparsed_.clear();
        }
        settle();
    } catch (...) {
        abort_connection();
    }
}

void Connection::on_peer_closed() noexcept {
    try {
        // Held-back input still counts: the peer sent those requests before its FIN.
        accepting_ = false;
        settle();
    } catch (...) {
        abort_connection();
    }
}

} // namespace wabridge::http

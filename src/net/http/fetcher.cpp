// Outgoing HTTP/1.1 requests with retries, on the event loop (see fetcher.hpp). The request is
// serialised once (RFC 9112 §3 request line, §3.2 Host, §6 framing); each attempt is a fresh
// net::ClientStream and a fresh ResponseParser, and ends with a response (any status), a transport
// or parse failure, or its timeout.
#include "wabridge/net/http/fetcher.hpp"

#include "wabridge/net/client_stream.hpp"
#include "wabridge/net/http/response_parser.hpp"
#include "wabridge/net/url.hpp"
#include "wabridge/util/text.hpp"

#include <algorithm>
#include <utility>

#ifndef WABRIDGE_VERSION
#define WABRIDGE_VERSION "dev"
#endif

namespace wabridge::http {

namespace {

using std::chrono::milliseconds;

// Framing and routing fields the serialiser writes itself; an extra one would contradict them
// (two Content-Lengths, a Transfer-Encoding against our Content-Length: RFC 9112 §6.3, a
// request-smuggling shape) or re-route the request (Host, RFC 9112 §3.2).
bool is_reserved_field(std::string_view name) {
    return text::iequals(name, "Content-Length") || text::iequals(name, "Transfer-Encoding") ||
           text::iequals(name, "Connection") || text::iequals(name, "Host");
}

bool has_field(const std::vector<Header>& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const Header& h) { return text::iequals(h.name, name); });
}

// RFC 9110 §8.6: a user agent SHOULD send Content-Length when the method defines a meaning for
// content, even for empty content; GET, HEAD, DELETE... without content send none.
bool method_expects_content(std::string_view method) {
    return method == "POST" || method == "PUT" || method == "PATCH";
}

void add_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

Result<std::string, std::string> serialize_with_agent(const ClientRequest& request,
                                                      std::string_view user_agent) {
    // RFC 9110 §9.1: the method is a token; CONNECT needs authority-form, not origin-form.
    if (!is_token(request.method)) return err("bad method '" + request.method + "'");
    if (request.method == "CONNECT") return err(std::string("CONNECT is not supported"));
    auto url = net::parse_url(request.url, "http,https");
    if (!url) return err("bad URL: " + url.error());
    if (!user_agent.empty() && !is_field_value(user_agent))
        return err(std::string("bad User-Agent (control characters)"));
    if (!request.body.empty() && !request.content_type.empty() &&
        !is_field_value(request.content_type))
        return err(std::string("bad Content-Type (control characters)"));
    for (const Header& h : request.headers) {
        // RFC 9110 §5.1 field names are tokens; §5.5 values never hold CR, LF or NUL, which
        // would let a value start a new field or a second request.
        if (!is_token(h.name)) return err("bad header name '" + h.name + "'");
        if (!is_field_value(h.value)) return err("bad value for header " + h.name);
        if (is_reserved_field(h.name)) return err("header " + h.name + " is set by the fetcher");
    }
    // An extra User-Agent or Content-Type replaces the default rather than doubling it.
    const bool own_agent = !user_agent.empty() && !has_field(request.headers, "User-Agent");
    const bool own_type = !request.body.empty() && !request.content_type.empty() &&
                          !has_field(request.headers, "Content-Type");
    const bool length = !request.body.empty() || method_expects_content(request.method);

    std::string out;
    out.reserve(256 + request.body.size());
    // RFC 9112 §3.2.1: origin-form, the absolute path and query of the URL (no fragment).
    out.append(request.method);
    out.append(" ");
    out.append(url->path);
    out.append(" HTTP/1.1\r\n");
    add_field(out, "Host", url->host_header); // RFC 9112 §3.2: always, port when not default
    if (own_agent) add_field(out, "User-Agent", user_agent);
    if (own_type) add_field(out, "Content-Type", request.content_type);
    if (length) add_field(out, "Content-Length", std::to_string(request.body.size()));
    add_field(out, "Connection", "close"); // RFC 9112 §9.6: one request per connection
    for (const Header& h : request.headers)
        add_field(out, h.name, h.value);
    out.append("\r\n");
    out.append(request.body);
    return out;
}

// RFC 9110 §10.2.3: Retry-After is an HTTP-date or delay-seconds; only the seconds form is used
// (an HTTP-date would need the wall clock and the server's to agree).
std::optional<milliseconds> retry_after(const std::vector<Header>& headers) {
    for (const Header& h : headers) {
        if (!text::iequals(h.name, "Retry-After")) continue;
        auto seconds = text::parse_uint(h.value, 24 * 3600);
        if (!seconds) return std::nullopt;
        return milliseconds(static_cast<int64_t>(*seconds) * 1000);
    }
    return std::nullopt;
}

FetchResult response_result(ResponseParser& parser) {
    ParsedResponse p = parser.take();
    FetchResult r;
    r.status = p.status;
    r.headers = std::move(p.headers);
    r.body = std::move(p.body);
    return r;
}

bool retryable(int status) {
    return status == 0 || status >= 500 || status == 429;
}

} // namespace

Result<std::string, std::string> serialize_request(const ClientRequest& request) {
    try {
        return serialize_with_agent(request, "wabridge/" WABRIDGE_VERSION);
    } catch (...) {
        return err(std::string("out of memory"));
    }
}

struct Fetcher::Attempt {
    explicit Attempt(const ResponseLimits& limits)
        : parser(limits) {}
    std::unique_ptr<net::ClientStream> stream;
    ResponseParser parser;
    loop::TimerId timeout = 0;
    bool received = false; // some response bytes arrived
};

struct Fetcher::Job {
    std::string wire; // the serialised request, sent by every attempt
    std::string host;
    uint16_t port = 0;
    bool tls = false;
    bool head = false;
    FetchOptions options;
    Done done;
    int attempts = 0;
    loop::TimePoint started{};
    bool started_set = false;
    loop::TimerId timer = 0; // the next attempt, or the result of a request that never started
    std::unique_ptr<Attempt> attempt;
};

Fetcher::Fetcher(loop::EventLoop& loop, net::Resolver& resolver, std::string user_agent)
    : loop_(loop)
    , resolver_(resolver)
    , user_agent_(std::move(user_agent)) {}

Fetcher::~Fetcher() {
    *alive_ = false;
    for (auto& [id, job] : jobs_) {
        if (job->timer) loop_.cancel(job->timer);
        if (job->attempt && job->attempt->timeout) loop_.cancel(job->attempt->timeout);
        // ClientStream's destructor closes without a callback. None of them is inside one of its
        // own callbacks here: the only user code the Fetcher runs (a Done) runs after its
        // attempt's stream was detached.
    }
    jobs_.clear();
}

size_t Fetcher::in_flight() const {
    return jobs_.size();
}

Fetcher::Id Fetcher::fetch(ClientRequest request, FetchOptions options, Done done) {
    const Id id = next_id_++;
    auto job = std::make_unique<Job>();
    job->options = std::move(options);
    job->done = std::move(done);
    job->head = request.method == "HEAD";
    auto wire = serialize_with_agent(request, user_agent_);
    std::optional<std::string> refused;
    if (wire) {
        job->wire = std::move(wire.value());
        auto url = net::parse_url(request.url, "http,https"); // accepted by the serialiser
        job->host = url->host;
        job->port = url->port;
        job->tls = url->tls;
    } else {
        refused = wire.error();
    }
    Job& j = *jobs_.emplace(id, std::move(job)).first->second;
    std::weak_ptr<bool> alive = alive_;
    // Everything starts on the next loop turn: `done` never runs inside fetch().
    try {
        j.timer = loop_.after(milliseconds(0), [this, alive, id, refused](loop::TimePoint now) {
            if (alive.expired()) return;
            auto it = jobs_.find(id);
            if (it == jobs_.end()) return;
            Job& job = *it->second;
            job.timer = 0;
            job.started = now;
            job.started_set = true;
            if (refused) {
                FetchResult r;
                r.error = *refused;
                return deliver(id, std::move(r));
            }
            const auto& deadline = job.options.retry.deadline;
            if (deadline && now > *deadline) {
                FetchResult r;
                r.error = "deadline passed before the first attempt";
                return deliver(id, std::move(r));
            }
            start_attempt(id);
        });
    } catch (...) {
        jobs_.erase(id); // nothing scheduled: the caller sees the exception, no callback follows
        throw;
    }
    return id;
}

// Takes a job out of the map and stops its timer and connection (the stream is retired, never
// destroyed here: this may run inside its own callback).
std::unique_ptr<Fetcher::Job> Fetcher::take(Id id) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return nullptr;
    std::unique_ptr<Job> job = std::move(it->second);
    jobs_.erase(it);
    if (job->timer) loop_.cancel(job->timer);
    if (job->attempt) retire(std::move(job->attempt));
    return job;
}

void Fetcher::cancel(Id id) {
    take(id);
}

void Fetcher::start_attempt(Id id) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    Job& job = *it->second;
    try {
        ++job.attempts;
        ResponseLimits limits;
        limits.max_body_bytes = job.options.max_response_bytes;
        limits.truncate_body = false; // an oversized body fails the attempt
        job.attempt = std::make_unique<Attempt>(limits);
        Attempt& a = *job.attempt;
        if (job.head) a.parser.expect_head_response(); // RFC 9110 §9.3.2: no content
        std::weak_ptr<bool> alive = alive_;
        Attempt* tag = &a;
        a.timeout =
            loop_.after(job.options.attempt_timeout, [this, alive, id, tag](loop::TimePoint) {
                if (alive.expired()) return;
                auto it = jobs_.find(id);
                if (it == jobs_.end() || it->second->attempt.get() != tag) return;
                tag->timeout = 0;
                FetchResult r;
                r.error = "timeout";
                finish_attempt(id, std::move(r));
            });
        // The stream's callbacks run only while it belongs to this attempt: retire() closes it
        // (no callback after close()) before letting go of it.
        net::ClientStream::Callbacks cb;
        cb.on_data = [this, id](std::string_view data) { on_data(id, data); };
        cb.on_closed = [this, id](const std::string& why) { on_closed(id, why); };
        a.stream = std::make_unique<net::ClientStream>(
            loop_, resolver_,
            net::ClientTarget{job.host, job.port, job.tls, job.options.ca_file, {}}, std::move(cb));
        a.stream->send(job.wire); // queued until connected
    } catch (...) {
        FetchResult r;
        r.error = "out of memory";
        finish_attempt(id, std::move(r));
    }
}

void Fetcher::on_data(Id id, std::string_view data) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || !it->second->attempt) return;
    Attempt& a = *it->second->attempt;
    a.received = true;
    auto used = a.parser.feed(data);
    if (!used) {
        FetchResult r;
        r.error = "bad response: " + used.error().message;
        return finish_attempt(id, std::move(r));
    }
    // RFC 9112 §6.3: a Content-Length or chunked body ends before the connection does; whatever
    // follows is not ours (one request per connection), so stop at once.
    if (a.parser.done()) finish_attempt(id, response_result(a.parser));
}

void Fetcher::on_closed(Id id, const std::string& why) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || !it->second->attempt) return;
    Attempt& a = *it->second->attempt;
    // RFC 9112 §6.3 rule 8: without Content-Length or chunked coding the body ends with the
    // connection.
    auto finished = a.parser.finish();
    if (finished && a.parser.done()) return finish_attempt(id, response_result(a.parser));
    FetchResult r;
    if (!a.received) {
        r.error = why; // resolution, connect or TLS failed, or closed before any byte
    } else if (!finished) {
        r.error = "bad response: " + finished.error().message + " (" + why + ")";
    } else {
        r.error = "connection closed before the response: " + why;
    }
    finish_attempt(id, std::move(r));
}

void Fetcher::retire(std::unique_ptr<Attempt> attempt) {
    if (attempt->timeout) loop_.cancel(attempt->timeout);
    attempt->timeout = 0;
    if (!attempt->stream) return;
    // close(): no callback from now on, socket closed, resolution cancelled. The object itself
    // may be the one whose callback is running, so it is freed on the next loop turn.
    attempt->stream->close();
    std::shared_ptr<net::ClientStream> doomed(std::move(attempt->stream));
    loop_.after(milliseconds(0), [doomed](loop::TimePoint) {});
}

void Fetcher::finish_attempt(Id id, FetchResult result) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    Job& job = *it->second;
    try {
        if (job.attempt) retire(std::move(job.attempt));
        const RetryPolicy& retry = job.options.retry;
        if (!retryable(result.status) || job.attempts >= std::max(retry.max_attempts, 1))
            return deliver(id, std::move(result));
        // Capped exponential backoff: initial, 2x, 4x... never above max_backoff.
        const milliseconds cap = std::max(retry.max_backoff, milliseconds(0));
        milliseconds delay = std::clamp(retry.initial_backoff, milliseconds(0), cap);
        for (int i = 1; i < job.attempts && delay < cap; ++i)
            delay = std::min(delay * 2, cap);
        // RFC 9110 §10.2.3, RFC 6585 §4: the server's own wait on 429 and 503, within the cap.
        if (result.status == 429 || result.status == 503) {
            if (auto wait = retry_after(result.headers))
                delay = std::max(delay, std::min(*wait, cap));
        }
        const loop::TimePoint next = loop_.now().mono + delay;
        if (retry.deadline && next > *retry.deadline) return deliver(id, std::move(result));
        std::weak_ptr<bool> alive = alive_;
        job.timer = loop_.at(next, [this, alive, id](loop::TimePoint) {
            if (alive.expired()) return;
            auto it = jobs_.find(id);
            if (it == jobs_.end()) return;
            it->second->timer = 0;
            start_attempt(id);
        });
    } catch (...) {
        result.error = result.error.empty() ? "out of memory" : result.error;
        deliver(id, std::move(result));
    }
}

void Fetcher::deliver(Id id, FetchResult result) {
    // Out of the map before the callback: it may fetch, cancel, or destroy this Fetcher, so
    // nothing of `this` is touched after it.
    std::unique_ptr<Job> job = take(id);
    if (!job) return;
    result.attempts = job->attempts;
    if (job->started_set)
        result.elapsed_ms =
            std::chrono::duration<double, std::milli>(loop_.now().mono - job->started).count();
    Done done = std::move(job->done);
    job.reset();
    if (!done) return;
    try {
        done(result);
    } catch (...) {
        // A callback's exception must not unwind into the event loop; there is no one to tell.
    }
}

} // namespace wabridge::http

// Outgoing HTTP/1.1 requests on the event loop (RFC 9112), for the Graph API and the call-events
// webhook: one request per connection (Connection: close), over net::ClientStream (resolution,
// each address in turn, TLS for https://), the response read by http::ResponseParser. Retries
// with capped exponential backoff on transport errors, 5xx and 429 (honouring Retry-After in
// seconds, within the cap), until the attempts or the deadline run out. Never blocks the loop;
// callbacks run on the loop, never inside fetch().
#pragma once

#include "wabridge/loop/event_loop.hpp"
#include "wabridge/net/http/message.hpp"
#include "wabridge/net/resolver.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::http {

struct ClientRequest {
    std::string method = "POST";
    std::string url;             // http:// or https://
    std::vector<Header> headers; // extra fields (Authorization, signatures...)
    std::string body;
    std::string content_type = "application/json"; // sent when the body is not empty
};

struct RetryPolicy {
    int max_attempts = 1;
    std::chrono::milliseconds initial_backoff{250};
    std::chrono::milliseconds max_backoff{2000};
    // No new attempt starts after this, the first one included (the running one is still bounded
    // by attempt_timeout). The backoff before a retry is 2^(n-1) * initial_backoff after attempt
    // n, capped at max_backoff; a Retry-After in seconds on 429/503 lengthens it, within the cap.
    std::optional<loop::TimePoint> deadline;
};

struct FetchOptions {
    std::chrono::milliseconds attempt_timeout{5000}; // connect + request + response
    std::string ca_file;                             // for https://; "" = system store
    size_t max_response_bytes = 1024 * 1024;
    RetryPolicy retry;
};

struct FetchResult {
    int status = 0;              // 0: no HTTP response (see error)
    std::string error;           // transport failure of the last attempt ("" with a response)
    std::vector<Header> headers; // of the final response
    std::string body;
    int attempts = 0;
    double elapsed_ms = 0; // first attempt to result
    bool ok() const { return status >= 200 && status < 300; }
};

// "POST /path?query HTTP/1.1" (RFC 9112 §3.2.1 origin-form), Host (RFC 9112 §3.2), User-Agent
// ("wabridge/<version>" here; a Fetcher sends its own), Content-Type and Content-Length when there
// is a body (Content-Length: 0 for an empty POST, PUT or PATCH: RFC 9110 §8.6), Connection: close,
// then the extra headers in order (an extra User-Agent or Content-Type replaces the default); or
// why the request cannot be sent: a bad or non-http(s) URL, a method that is not a token, a header
// name that is not a token, a value with CR/LF/NUL (RFC 9110 §5.5), or an extra Content-Length,
// Transfer-Encoding, Connection or Host (the fetcher frames and routes the request itself). Pure.
Result<std::string, std::string> serialize_request(const ClientRequest& request);

class Fetcher {
public:
    using Done = std::function<void(const FetchResult&)>;
    using Id = uint64_t;

    Fetcher(loop::EventLoop& loop, net::Resolver& resolver, std::string user_agent);
    // Cancels everything in flight, no callbacks. Destroy it before the Resolver and the loop.
    ~Fetcher();
    Fetcher(const Fetcher&) = delete;
    Fetcher& operator=(const Fetcher&) = delete;

    // Starts a request; `done` runs once on the loop with the final result (a request that cannot
    // be serialized fails with status 0, attempts 0 and the reason, still asynchronously). The
    // request is out of in_flight() when `done` runs; `done` may fetch, cancel or destroy the
    // Fetcher. A retry is due on status 0, 429 and 5xx; a response of any other status is final.
    Id fetch(ClientRequest request, FetchOptions options, Done done);
    // Drops a request in flight: no callback.
    void cancel(Id id);
    size_t in_flight() const;

private:
    struct Attempt;
    struct Job;
    void start_attempt(Id id);
    void finish_attempt(Id id, FetchResult result);
    void on_data(Id id, std::string_view data);
    void on_closed(Id id, const std::string& why);
    // Stops an attempt's timer and closes its stream (no callback after), freeing it next turn.
    void retire(std::unique_ptr<Attempt> attempt);
    // Removes the job, then runs its callback (last: the callback may destroy the Fetcher).
    std::unique_ptr<Job> take(Id id);
    void deliver(Id id, FetchResult result);
    loop::EventLoop& loop_;
    net::Resolver& resolver_;
    std::string user_agent_;
    Id next_id_ = 1;
    std::map<Id, std::unique_ptr<Job>> jobs_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace wabridge::http

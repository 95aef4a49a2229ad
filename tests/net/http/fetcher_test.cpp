#include "support/loopback_listener.hpp"
#include "wabridge/net/http/fetcher.hpp"

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <mutex>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#ifndef WABRIDGE_VERSION
#define WABRIDGE_VERSION "dev"
#endif

namespace wabridge::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// ---- serialize_request ------------------------------------------------------------------------

const std::string kAgent = "wabridge/" WABRIDGE_VERSION;

TEST(SerializeRequest, PostWithBodyAndHeadersGoldenBytes) {
    ClientRequest r;
    r.url = "http://example.com:8080/v1/calls?x=1&y=a%20b#fragment";
    r.headers = {{"Authorization", "Bearer t0k"}, {"X-Signature", "sha256=ab\tcd"}};
    r.body = R"({"a":1})";
    auto wire = serialize_request(r);
    ASSERT_TRUE(wire) << wire.error();
    EXPECT_EQ(*wire, "POST /v1/calls?x=1&y=a%20b HTTP/1.1\r\n"
                     "Host: example.com:8080\r\n"
                     "User-Agent: " +
                         kAgent +
                         "\r\n"
                         "Content-Type: application/json\r\n"
                         "Content-Length: 7\r\n"
                         "Connection: close\r\n"
                         "Authorization: Bearer t0k\r\n"
                         "X-Signature: sha256=ab\tcd\r\n"
                         "\r\n"
                         "{\"a\":1}");
}

TEST(SerializeRequest, GetHasNoFramingAndDefaultPortIsNotInHost) {
    ClientRequest r;
    r.method = "GET";
    r.url = "https://graph.example/v19.0/123";
    auto wire = serialize_request(r);
    ASSERT_TRUE(wire) << wire.error();
    EXPECT_EQ(*wire, "GET /v19.0/123 HTTP/1.1\r\nHost: graph.example\r\nUser-Agent: " + kAgent +
                         "\r\nConnection: close\r\n\r\n");
}

TEST(SerializeRequest, EmptyPostSaysContentLengthZeroAndQueryOnlyUrlGetsASlash) {
    ClientRequest r;
    r.url = "http://[::1]:9000?q=1";
    auto wire = serialize_request(r);
    ASSERT_TRUE(wire) << wire.error();
    EXPECT_EQ(*wire, "POST /?q=1 HTTP/1.1\r\nHost: [::1]:9000\r\nUser-Agent: " + kAgent +
                         "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(SerializeRequest, ExtraUserAgentAndContentTypeReplaceTheDefaults) {
    ClientRequest r;
    r.url = "http://h/";
    r.body = "x=1";
    r.headers = {{"user-agent", "other/2"}, {"Content-Type", "application/x-www-form-urlencoded"}};
    auto wire = serialize_request(r);
    ASSERT_TRUE(wire) << wire.error();
    EXPECT_EQ(*wire, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n"
                     "user-agent: other/2\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n\r\nx=1");
}

TEST(SerializeRequest, RefusesWhatCouldInjectOrReframe) {
    auto refused = [](ClientRequest r) {
        auto wire = serialize_request(r);
        return wire ? std::string("(accepted)") : wire.error();
    };
    ClientRequest base;
    base.url = "https://example.com/x";
    base.body = "{}";

    ClientRequest r = base;
    r.headers = {{"X-A", "ok\r\nX-Injected: 1"}};
    EXPECT_NE(refused(r).find("X-A"), std::string::npos) << refused(r);
    r.headers = {{"X-A", "ok\nX-Injected: 1"}};
    EXPECT_NE(refused(r), "(accepted)");
    r.headers = {{"X-A", std::string("a\0b", 3)}};
    EXPECT_NE(refused(r), "(accepted)");
    r.headers = {{"X A", "v"}};
    EXPECT_NE(refused(r).find("name"), std::string::npos) << refused(r);
    r.headers = {{"", "v"}};
    EXPECT_NE(refused(r), "(accepted)");
    for (const char* framing :
         {"Content-Length", "content-length", "Transfer-Encoding", "Connection", "HOST"}) {
        r.headers = {{framing, "1"}};
        EXPECT_NE(refused(r).find(framing), std::string::npos) << framing << ": " << refused(r);
    }

    r = base;
    r.method = "PO ST";
    EXPECT_NE(refused(r).find("method"), std::string::npos) << refused(r);
    r.method = "";
    EXPECT_NE(refused(r).find("method"), std::string::npos);
    r.method = "GET\r\n";
    EXPECT_NE(refused(r).find("method"), std::string::npos);

    r = base;
    r.content_type = "text/plain\r\nX: y";
    EXPECT_NE(refused(r).find("Content-Type"), std::string::npos) << refused(r);

    r = base;
    for (const char* url : {"not a url", "example.com/x", "http://", "http://h:0/",
                            "http://h:99999/", "http://user@h/", "http://h/a b"}) {
        r.url = url;
        EXPECT_NE(refused(r).find("URL"), std::string::npos) << url << ": " << refused(r);
    }
    r.url = "ftp://example.com/file";
    EXPECT_NE(refused(r).find("http"), std::string::npos) << refused(r);
    r.url = "wss://example.com/";
    EXPECT_NE(refused(r), "(accepted)");
}

// ---- a scripted HTTP server on 127.0.0.1 -------------------------------------------------------

// What the server does with the request on one connection, in order of connections.
struct Reply {
    std::string bytes;       // written once the whole request is read
    milliseconds delay{0};   // before writing
    bool answer = true;      // false: read the request, then say nothing (kept open)
    bool close_after = true; // false: keep the connection open after the answer
};

std::string status_reply(int status, std::string_view reason, std::string_view body,
                         std::string_view extra = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) +
           "\r\n" + std::string(body);
}

// One thread, one connection at a time, every wait bounded by poll timeouts and a stop flag.
class ScriptedServer {
public:
    explicit ScriptedServer(std::vector<Reply> replies)
        : replies_(std::move(replies))
        , thread_([this] { run(); }) {}
    ~ScriptedServer() {
        stop_ = true;
        thread_.join();
        for (int fd : held_)
            ::close(fd);
    }
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;

    uint16_t port() const { return listener_.port; }
    std::string url(std::string_view path_and_query) const {
        return "http://127.0.0.1:" + std::to_string(port()) + std::string(path_and_query);
    }
    size_t requests_seen() const {
        std::lock_guard lock(mutex_);
        return requests_.size();
    }
    std::vector<std::string> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::vector<SteadyClock::time_point> request_times() const {
        std::lock_guard lock(mutex_);
        return times_;
    }
    size_t answered() const { return answered_; }

private:
    bool wait_readable(int fd) {
        while (!stop_) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 10) > 0) return true;
        }
        return false;
    }

    // The head up to the empty line, then Content-Length bytes of body (no chunked requests).
    std::string read_request(int fd) {
        std::string in;
        char buf[4096];
        while (wait_readable(fd)) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            in.append(buf, static_cast<size_t>(n));
            const size_t end = in.find("\r\n\r\n");
            if (end == std::string::npos) continue;
            size_t length = 0;
            const size_t cl = in.find("\r\nContent-Length: ");
            if (cl != std::string::npos && cl < end)
                length = std::stoul(in.substr(cl + 18, in.find("\r\n", cl + 2) - cl - 18));
            if (in.size() >= end + 4 + length) break;
        }
        return in;
    }

    void run() {
        for (const Reply& reply : replies_) {
            if (!wait_readable(listener_.fd)) return;
            const int fd = ::accept(listener_.fd, nullptr, nullptr);
            if (fd < 0) return;
            std::string request = read_request(fd);
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(std::move(request));
                times_.push_back(SteadyClock::now());
            }
            const auto until = SteadyClock::now() + reply.delay;
            while (!stop_ && SteadyClock::now() < until)
                std::this_thread::sleep_for(2ms);
            if (reply.answer && !stop_) {
                size_t off = 0;
                while (off < reply.bytes.size()) {
                    const ssize_t n = ::send(fd, reply.bytes.data() + off, reply.bytes.size() - off,
                                             MSG_NOSIGNAL);
                    if (n <= 0) break;
                    off += static_cast<size_t>(n);
                }
                ++answered_;
            }
            if (reply.answer && reply.close_after) {
                ::close(fd);
            } else {
                held_.push_back(fd);
            }
        }
    }

    test::LoopbackListener listener_;
    std::vector<Reply> replies_;
    std::atomic<bool> stop_{false};
    std::atomic<size_t> answered_{0};
    mutable std::mutex mutex_;
    std::vector<std::string> requests_;
    std::vector<SteadyClock::time_point> times_;
    std::vector<int> held_; // server thread only until join
    std::thread thread_;
};

// ---- Fetcher ----------------------------------------------------------------------------------

struct Outcome {
    int calls = 0;
    FetchResult result;
};

class FetcherTest : public ::testing::Test {
protected:
    // Declared in this order so the Fetcher goes first, then the Resolver, then the loop.
    std::unique_ptr<loop::EventLoop> loop = std::move(loop::EventLoop::create().value());
    net::Resolver resolver{*loop};
    std::unique_ptr<Fetcher> fetcher =
        std::make_unique<Fetcher>(*loop, resolver, "wabridge-test/1");

    static FetchOptions options(int attempts = 1) {
        FetchOptions o;
        o.attempt_timeout = 3s;
        o.retry.max_attempts = attempts;
        o.retry.initial_backoff = 20ms;
        o.retry.max_backoff = 1s;
        return o;
    }

    Fetcher::Id start(ClientRequest r, FetchOptions o, Outcome& out) {
        return fetcher->fetch(std::move(r), std::move(o), [&out](const FetchResult& res) {
            ++out.calls;
            out.result = res;
        });
    }

    static ClientRequest get(std::string url) {
        ClientRequest r;
        r.method = "GET";
        r.url = std::move(url);
        return r;
    }

    template <typename Pred> bool run_until(Pred pred, milliseconds limit = 5s) {
        const auto end = SteadyClock::now() + limit;
        while (!pred() && SteadyClock::now() < end)
            loop->run_once(10ms);
        return pred();
    }

    void run_for(milliseconds d) {
        const auto end = SteadyClock::now() + d;
        while (SteadyClock::now() < end)
            loop->run_once(5ms);
    }
};

const Header* find(const std::vector<Header>& headers, std::string_view name) {
    for (const Header& h : headers)
        if (::strcasecmp(h.name.c_str(), std::string(name).c_str()) == 0) return &h;
    return nullptr;
}

TEST_F(FetcherTest, PostGetsTheBodyAndTheServerSeesTheExactRequest) {
    ScriptedServer server({{status_reply(200, "OK", "{\"id\":\"wamid.1\"}", "X-Trace: t1\r\n")}});
    ClientRequest r;
    r.url = server.url("/v19.0/123/calls?access=x%2By&b=2");
    r.headers = {{"Authorization", "Bearer abc"}};
    r.body = R"({"action":"accept"})";
    Outcome out;
    start(r, options(3), out);
    EXPECT_EQ(out.calls, 0); // never inside fetch()
    EXPECT_EQ(fetcher->in_flight(), 1u);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(fetcher->in_flight(), 0u);
    EXPECT_TRUE(out.result.ok());
    EXPECT_EQ(out.result.status, 200);
    EXPECT_EQ(out.result.error, "");
    EXPECT_EQ(out.result.body, "{\"id\":\"wamid.1\"}");
    EXPECT_EQ(out.result.attempts, 1);
    EXPECT_GE(out.result.elapsed_ms, 0.0);
    const Header* trace = find(out.result.headers, "x-trace");
    ASSERT_NE(trace, nullptr);
    EXPECT_EQ(trace->value, "t1");
    ASSERT_EQ(server.requests_seen(), 1u);
    EXPECT_EQ(server.requests()[0], "POST /v19.0/123/calls?access=x%2By&b=2 HTTP/1.1\r\n"
                                    "Host: 127.0.0.1:" +
                                        std::to_string(server.port()) +
                                        "\r\n"
                                        "User-Agent: wabridge-test/1\r\n"
                                        "Content-Type: application/json\r\n"
                                        "Content-Length: 19\r\n"
                                        "Connection: close\r\n"
                                        "Authorization: Bearer abc\r\n"
                                        "\r\n"
                                        "{\"action\":\"accept\"}");
    run_for(30ms);
    EXPECT_EQ(out.calls, 1);
}

TEST_F(FetcherTest, BodyDelimitedByTheConnectionClose) {
    ScriptedServer server({{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"}});
    Outcome out;
    start(get(server.url("/")), options(), out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.result.status, 200) << out.result.error;
    EXPECT_EQ(out.result.body, "until the end");
    EXPECT_EQ(server.requests().at(0).substr(0, 16), "GET / HTTP/1.1\r\n");
}

TEST_F(FetcherTest, ChunkedBodyCompletesWithoutWaitingForTheClose) {
    // The server keeps the connection open: the result must come from the chunked framing.
    ScriptedServer server({{"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                            0ms, true, false}});
    Outcome out;
    start(get(server.url("/c")), options(), out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }, 2s));
    EXPECT_EQ(out.result.status, 201) << out.result.error;
    EXPECT_TRUE(out.result.ok());
    EXPECT_EQ(out.result.body, "hello world");
    EXPECT_LT(out.result.elapsed_ms, 2000.0);
}

TEST_F(FetcherTest, HeadResponseHasNoBodyWhateverItsContentLength) {
    ScriptedServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 0ms, true, false}});
    ClientRequest r = get(server.url("/h"));
    r.method = "HEAD";
    Outcome out;
    start(r, options(), out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }, 2s));
    EXPECT_EQ(out.result.status, 200) << out.result.error;
    EXPECT_EQ(out.result.body, "");
}

TEST_F(FetcherTest, RetriesServerErrorsWithDoublingBackoff) {
    ScriptedServer server({{status_reply(500, "Internal Server Error", "boom1")},
                           {status_reply(502, "Bad Gateway", "boom2")},
                           {status_reply(200, "OK", "fine")}});
    Outcome out;
    start(get(server.url("/r")), options(5), out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_TRUE(out.result.ok()) << out.result.status << " " << out.result.error;
    EXPECT_EQ(out.result.body, "fine");
    EXPECT_EQ(out.result.attempts, 3);
    EXPECT_EQ(server.requests_seen(), 3u);
    EXPECT_GE(out.result.elapsed_ms, 20.0 * (1 + 2));
    const auto times = server.request_times();
    ASSERT_EQ(times.size(), 3u);
    EXPECT_GE(times[1] - times[0], 20ms);
    EXPECT_GE(times[2] - times[1], 40ms);
}

TEST_F(FetcherTest, LastServerErrorIsReportedWhenAttemptsRunOut) {
    ScriptedServer server({{status_reply(503, "Service Unavailable", "a")},
                           {status_reply(500, "Internal Server Error", "b")}});
    Outcome out;
    start(get(server.url("/")), options(2), out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.result.status, 500);
    EXPECT_EQ(out.result.body, "b");
    EXPECT_EQ(out.result.error, "");
    EXPECT_EQ(out.result.attempts, 2);
}

TEST_F(FetcherTest, ClientErrorIsNotRetried) {
    ScriptedServer server({{status_reply(400, "Bad Request", "{\"error\":\"bad\"}")},
                           {status_reply(200, "OK", "must not be asked")}});
    Outcome out;
    start(get(server.url("/")), options(5), out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.result.status, 400);
    EXPECT_FALSE(out.result.ok());
    EXPECT_EQ(out.result.body, "{\"error\":\"bad\"}");
    EXPECT_EQ(out.result.attempts, 1);
    run_for(80ms);
    EXPECT_EQ(server.requests_seen(), 1u);
    EXPECT_EQ(out.calls, 1);
}

TEST_F(FetcherTest, ConnectionRefusedIsRetriedThenReported) {
    const uint16_t dead = test::closed_loopback_port();
    FetchOptions o = options(2);
    o.retry.initial_backoff = 10ms;
    Outcome out;
    start(get("http://127.0.0.1:" + std::to_string(dead) + "/"), o, out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.result.status, 0);
    EXPECT_NE(out.result.error.find("refused"), std::string::npos) << out.result.error;
    EXPECT_EQ(out.result.attempts, 2);
    EXPECT_GE(out.result.elapsed_ms, 10.0);
}

TEST_F(FetcherTest, SilentServerTimesOut) {
    ScriptedServer server({{"", 0ms, false}});
    FetchOptions o = options();
    o.attempt_timeout = 100ms;
    Outcome out;
    start(get(server.url("/")), o, out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }, 3s));
    EXPECT_EQ(out.result.status, 0);
    EXPECT_EQ(out.result.error, "timeout");
    EXPECT_EQ(out.result.attempts, 1);
    EXPECT_GE(out.result.elapsed_ms, 100.0);
    EXPECT_LT(out.result.elapsed_ms, 1000.0);
    EXPECT_EQ(server.requests_seen(), 1u); // the request went out; no answer came
}

TEST_F(FetcherTest, IncompleteResponseIsATransportFailure) {
    ScriptedServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"}});
    Outcome out;
    start(get(server.url("/")), options(), out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.result.status, 0);
    EXPECT_NE(out.result.error.find("incomplete"), std::string::npos) << out.result.error;
    EXPECT_EQ(out.result.body, "");
}

TEST_F(FetcherTest, OversizedBodyIsAnError) {
    ScriptedServer server({{status_reply(200, "OK", "0123456789")}});
    FetchOptions o = options();
    o.max_response_bytes = 4;
    Outcome out;
    start(get(server.url("/")), o, out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.result.status, 0);
    EXPECT_NE(out.result.error.find("limit"), std::string::npos) << out.result.error;
}

TEST_F(FetcherTest, DeadlineStopsRetriesEarly) {
    std::vector<Reply> replies(10, Reply{status_reply(500, "Internal Server Error", "x")});
    ScriptedServer server(replies);
    FetchOptions o = options(10);
    o.retry.initial_backoff = 100ms;
    // Attempt 1 at ~0 ms, retry at ~100 ms (before the deadline), the next would be ~300 ms.
    o.retry.deadline = SteadyClock::now() + 180ms;
    Outcome out;
    start(get(server.url("/")), o, out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.result.status, 500);
    EXPECT_EQ(out.result.attempts, 2);
    EXPECT_LT(out.result.elapsed_ms, 250.0);
    run_for(100ms);
    EXPECT_EQ(server.requests_seen(), 2u);
}

TEST_F(FetcherTest, DeadlineAlreadyPassedSendsNothing) {
    ScriptedServer server({{status_reply(200, "OK", "")}});
    FetchOptions o = options(3);
    o.retry.deadline = SteadyClock::now() - 1ms;
    Outcome out;
    start(get(server.url("/")), o, out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }));
    EXPECT_EQ(out.result.status, 0);
    EXPECT_EQ(out.result.attempts, 0);
    EXPECT_NE(out.result.error.find("deadline"), std::string::npos);
    run_for(50ms);
    EXPECT_EQ(server.requests_seen(), 0u);
}

TEST_F(FetcherTest, RetryAfterIsHonouredWithinMaxBackoff) {
    ScriptedServer server(
        {{status_reply(429, "Too Many Requests", "slow down", "Retry-After: 1\r\n")},
         {status_reply(200, "OK", "ok")}});
    FetchOptions o = options(3);
    o.retry.initial_backoff = 5ms;
    o.retry.max_backoff = 50ms;
    Outcome out;
    start(get(server.url("/")), o, out);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }, 3s));
    EXPECT_TRUE(out.result.ok()) << out.result.status << " " << out.result.error;
    EXPECT_EQ(out.result.attempts, 2);
    const auto times = server.request_times();
    ASSERT_EQ(times.size(), 2u);
    // Retry-After (1 s) outweighs the 5 ms backoff but is capped at 50 ms.
    EXPECT_GE(times[1] - times[0], 50ms);
    EXPECT_LT(times[1] - times[0], 500ms);
    EXPECT_GE(out.result.elapsed_ms, 50.0);
    EXPECT_LT(out.result.elapsed_ms, 500.0);
}

TEST_F(FetcherTest, UnsendableRequestFailsOnTheLoopNotInsideFetch) {
    ClientRequest r;
    r.url = "ftp://example.com/";
    Outcome out;
    start(r, options(3), out);
    EXPECT_EQ(out.calls, 0);
    EXPECT_EQ(fetcher->in_flight(), 1u);
    ASSERT_TRUE(run_until([&] { return out.calls > 0; }, 1s));
    EXPECT_EQ(out.result.status, 0);
    EXPECT_EQ(out.result.attempts, 0);
    EXPECT_NE(out.result.error.find("URL"), std::string::npos) << out.result.error;
    EXPECT_EQ(fetcher->in_flight(), 0u);
}

TEST_F(FetcherTest, CancelledRequestNeverCallsBackEvenWhenTheServerAnswers) {
    ScriptedServer server({{status_reply(200, "OK", "late"), 100ms}});
    Outcome out;
    const Fetcher::Id id = start(get(server.url("/")), options(), out);
    ASSERT_TRUE(run_until([&] { return server.requests_seen() > 0; }));
    fetcher->cancel(id);
    EXPECT_EQ(fetcher->in_flight(), 0u);
    fetcher->cancel(id); // a stale id is harmless
    ASSERT_TRUE(run_until([&] { return server.answered() > 0; }));
    run_for(100ms);
    EXPECT_EQ(out.calls, 0);
}

TEST_F(FetcherTest, CancelBeforeTheFirstLoopTurn) {
    ScriptedServer server({{status_reply(200, "OK", "x")}});
    Outcome out, other;
    const Fetcher::Id id = start(get(server.url("/a")), options(), out);
    start(get(server.url("/b")), options(), other);
    fetcher->cancel(id);
    ASSERT_TRUE(run_until([&] { return other.calls > 0; }));
    run_for(30ms);
    EXPECT_EQ(out.calls, 0);
    EXPECT_TRUE(other.result.ok()) << other.result.error;
    ASSERT_EQ(server.requests_seen(), 1u);
    EXPECT_EQ(server.requests()[0].substr(0, 7), "GET /b ");
}

TEST_F(FetcherTest, DestroyingTheFetcherDropsEverythingInFlight) {
    ScriptedServer server({{status_reply(200, "OK", "late"), 100ms}});
    const uint16_t dead = test::closed_loopback_port();
    Outcome connected, refused, unsendable, waiting;
    start(get(server.url("/")), options(), connected);
    FetchOptions o = options(5);
    o.retry.initial_backoff = 30ms;
    start(get("http://127.0.0.1:" + std::to_string(dead) + "/"), o, refused);
    ASSERT_TRUE(run_until([&] { return server.requests_seen() > 0; }));
    start(get("bad"), options(), unsendable);
    start(get("http://localhost:" + std::to_string(dead) + "/"), options(), waiting);
    EXPECT_EQ(fetcher->in_flight(), 4u);
    fetcher.reset();
    run_for(250ms);
    EXPECT_EQ(connected.calls + refused.calls + unsendable.calls + waiting.calls, 0);
}

TEST_F(FetcherTest, CallbackMayDestroyTheFetcherAndStartNothingAfter) {
    ScriptedServer server({{status_reply(200, "OK", "a")}, {status_reply(200, "OK", "b")}});
    int calls = 0;
    fetcher->fetch(get(server.url("/1")), options(), [&](const FetchResult& r) {
        ++calls;
        EXPECT_EQ(r.body, "a");
        fetcher.reset();
    });
    ASSERT_TRUE(run_until([&] { return calls > 0; }));
    run_for(30ms);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(fetcher, nullptr);
}

TEST_F(FetcherTest, CallbackMayStartTheNextRequest) {
    ScriptedServer server({{status_reply(200, "OK", "a")}, {status_reply(200, "OK", "b")}});
    Outcome second;
    int first = 0;
    fetcher->fetch(get(server.url("/1")), options(), [&](const FetchResult& r) {
        ++first;
        EXPECT_EQ(r.body, "a");
        EXPECT_EQ(fetcher->in_flight(), 0u);
        start(get(server.url("/2")), options(), second);
    });
    ASSERT_TRUE(run_until([&] { return second.calls > 0; }));
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second.result.body, "b");
    EXPECT_EQ(fetcher->in_flight(), 0u);
}

} // namespace
} // namespace wabridge::http

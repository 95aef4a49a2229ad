#include "wabridge/net/http/connection.hpp"

#include <gtest/gtest.h>

namespace wabridge::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

std::string json_ok(const std::string& body, bool keep_alive) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) +
           "\r\nConnection: " + (keep_alive ? "keep-alive" : "close") + "\r\n\r\n" + body;
}

Response ok(const std::string& body) {
    Response r;
    r.body = body;
    return r;
}

std::string error_bytes(const std::string& status_line, const std::string& code,
                        const std::string& message) {
    const std::string body =
        R"({"success":false,"error":{"code":")" + code + R"(","message":")" + message + R"("}})";
    return "HTTP/1.1 " + status_line +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

TEST(HttpConnection, ThousandKeepAliveRequestsInOrder) {
    Connection c({}, t0);
    for (int i = 0; i < 1000; ++i) {
        const TimePoint now = t0 + milliseconds(i);
        c.on_bytes("GET /items/" + std::to_string(i) + "?n=" + std::to_string(i) +
                       " HTTP/1.1\r\nHost: bridge\r\n\r\n",
                   now);
        auto req = c.next_request();
        ASSERT_TRUE(req.has_value()) << i;
        EXPECT_EQ(req->path, "/items/" + std::to_string(i));
        EXPECT_EQ(req->query, "n=" + std::to_string(i));
        EXPECT_FALSE(c.next_request().has_value());
        EXPECT_TRUE(c.awaiting_response());
        EXPECT_FALSE(c.has_output());
        const std::string body = R"({"i":)" + std::to_string(i) + "}";
        c.respond(ok(body), now);
        EXPECT_FALSE(c.awaiting_response());
        ASSERT_TRUE(c.has_output());
        ASSERT_EQ(c.take_output(), json_ok(body, true)) << i;
        EXPECT_FALSE(c.has_output());
        ASSERT_FALSE(c.wants_close()) << i;
        EXPECT_EQ(c.deadline(), now + seconds(10));
    }
}

TEST(HttpConnection, PipelinedResponsesStayInOrder) {
    Connection c({}, t0);
    c.on_bytes("GET /a HTTP/1.1\r\n\r\n"
               "POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
               "GET /c HTTP/1.1\r\n\r\n",
               t0);
    auto a = c.next_request();
    auto b = c.next_request();
    auto cc = c.next_request();
    ASSERT_TRUE(a && b && cc);
    EXPECT_EQ(a->path, "/a");
    EXPECT_EQ(b->path, "/b");
    EXPECT_EQ(b->body, "hi");
    EXPECT_EQ(cc->path, "/c");
    EXPECT_FALSE(c.next_request());
    EXPECT_FALSE(c.has_output());

    c.respond(ok("1"));
    EXPECT_EQ(c.take_output(), json_ok("1", true));
    EXPECT_TRUE(c.awaiting_response());
    c.respond(ok("2"));
    EXPECT_EQ(c.take_output(), json_ok("2", true));
    c.respond(ok("3"));
    EXPECT_EQ(c.take_output(), json_ok("3", true));
    EXPECT_FALSE(c.awaiting_response());
    EXPECT_FALSE(c.wants_close());
    c.respond(ok("4")); // nothing awaits an answer: ignored
    EXPECT_FALSE(c.has_output());
}

TEST(HttpConnection, PipelinedInterleavedHandOut) {
    Connection c({}, t0);
    c.on_bytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", t0);
    ASSERT_EQ(c.next_request()->path, "/a");
    c.respond(ok("a"));
    ASSERT_EQ(c.next_request()->path, "/b");
    c.respond(ok("b"));
    EXPECT_EQ(c.take_output(), json_ok("a", true) + json_ok("b", true));
}

TEST(HttpConnection, GarbageGets400AndClose) {
    Connection c({}, t0);
    c.on_bytes("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", t0);
    EXPECT_FALSE(c.next_request());
    EXPECT_TRUE(c.wants_close());
    EXPECT_FALSE(c.wants_read());
    EXPECT_EQ(c.take_output(),
              error_bytes("400 Bad Request", "bad_request",
                          "llhttp: HPE_INVALID_METHOD: Invalid method encountered"));
    // Everything after the error is ignored.
    c.on_bytes("GET / HTTP/1.1\r\n\r\n", t0);
    EXPECT_FALSE(c.next_request());
    EXPECT_FALSE(c.has_output());
    EXPECT_EQ(c.deadline(), TimePoint::max());
}

TEST(HttpConnection, ErrorAfterAPipelinedRequestWaitsForItsAnswer) {
    Connection c({}, t0);
    c.on_bytes("GET /a HTTP/1.1\r\n\r\nBAD\x01", t0);
    auto a = c.next_request();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->path, "/a");
    EXPECT_FALSE(c.next_request());
    EXPECT_FALSE(c.has_output());
    EXPECT_FALSE(c.wants_close());
    c.respond(ok("a"));
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), json_ok("a", true) + error_bytes("400 Bad Request", "bad_request",
                                                                "llhttp: HPE_INVALID_METHOD: "
                                                                "Invalid method encountered"));
}

TEST(HttpConnection, TwoMiBContentLengthGets413BeforeTheBody) {
    Connection c({}, t0);
    c.on_bytes("POST /sessions/x/webrtc HTTP/1.1\r\nContent-Length: 2097152\r\n\r\n", t0);
    EXPECT_FALSE(c.next_request());
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(),
              error_bytes("413 Content Too Large", "payload_too_large",
                          "Content-Length 2097152 exceeds the 1048576-byte limit"));
    c.on_bytes(std::string(64 * 1024, 'x'), t0);
    EXPECT_FALSE(c.has_output());
}

TEST(HttpConnection, HeaderLimitsGet431) {
    Limits limits;
    limits.max_headers = 2;
    Connection c(limits, t0);
    c.on_bytes("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", t0);
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), error_bytes("431 Request Header Fields Too Large",
                                           "too_many_headers", "more than 2 header fields"));

    Connection big({}, t0);
    big.on_bytes("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'), t0);
    EXPECT_TRUE(big.wants_close());
    EXPECT_EQ(big.take_output(),
              error_bytes("431 Request Header Fields Too Large", "header_too_large",
                          "request header section exceeds 16384 bytes"));
}

TEST(HttpConnection, UpgradeGets501) {
    Connection c({}, t0);
    c.on_bytes("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", t0);
    EXPECT_FALSE(c.next_request());
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), error_bytes("501 Not Implemented", "unsupported",
                                           "protocol upgrade is not supported"));
}

TEST(HttpConnection, IdleTimeoutClosesSilently) {
    Connection c({}, t0);
    EXPECT_EQ(c.deadline(), t0 + seconds(10));
    c.on_timeout(t0 + seconds(10) - nanoseconds(1));
    EXPECT_FALSE(c.wants_close());
    // Empty lines are not a request (RFC 9112 §2.2): they do not hold the connection open.
    c.on_bytes("\r\n", t0 + seconds(5));
    EXPECT_EQ(c.deadline(), t0 + seconds(10));
    c.on_timeout(t0 + seconds(10));
    EXPECT_TRUE(c.wants_close());
    EXPECT_FALSE(c.has_output());
    EXPECT_EQ(c.deadline(), TimePoint::max());
    c.on_bytes("GET / HTTP/1.1\r\n\r\n", t0 + seconds(11));
    EXPECT_FALSE(c.next_request());
}

TEST(HttpConnection, SlowlorisHeadersGet408AtExactlyHeaderTimeout) {
    Connection c({}, t0);
    const TimePoint first = t0 + seconds(3);
    const std::string request = "GET / HTTP/1.1\r\nHost: bridge\r\nX-Slow: 1\r\n";
    for (size_t i = 0; i < 10; ++i) {
        const TimePoint now = first + seconds(i);
        c.on_timeout(now); // the owner's timer fires before each byte: never due
        ASSERT_FALSE(c.has_output()) << i;
        c.on_bytes(request.substr(i, 1), now);
        ASSERT_EQ(c.deadline(), first + seconds(10)) << i;
    }
    c.on_timeout(first + seconds(10) - nanoseconds(1));
    EXPECT_FALSE(c.has_output());
    EXPECT_FALSE(c.wants_close());
    c.on_timeout(first + seconds(10));
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), error_bytes("408 Request Timeout", "request_timeout",
                                           "request headers not received within 10000 ms"));
    c.on_bytes(request.substr(10), first + seconds(11));
    EXPECT_FALSE(c.has_output());
    EXPECT_FALSE(c.next_request());
}

TEST(HttpConnection, BodyTimeoutGets408) {
    Limits limits;
    limits.body_timeout = seconds(4);
    Connection c(limits, t0);
    c.on_bytes("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n", t0 + seconds(1));
    EXPECT_EQ(c.deadline(), t0 + seconds(5));
    c.on_bytes("01234", t0 + seconds(3)); // progress does not extend the body timer
    EXPECT_EQ(c.deadline(), t0 + seconds(5));
    c.on_timeout(t0 + seconds(4));
    EXPECT_FALSE(c.has_output());
    c.on_timeout(t0 + seconds(6)); // late timers still fire
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), error_bytes("408 Request Timeout", "request_timeout",
                                           "request body not received within 4000 ms"));
}

TEST(HttpConnection, CompleteRequestResetsDeadlines) {
    Limits limits;
    limits.idle_timeout = seconds(7);
    limits.header_timeout = seconds(5);
    limits.body_timeout = seconds(3);
    Connection c(limits, t0);
    EXPECT_EQ(c.deadline(), t0 + seconds(7));                    // idle
    c.on_bytes("POST /x HTTP/1.1\r\nContent-", t0 + seconds(1)); // first byte
    EXPECT_EQ(c.deadline(), t0 + seconds(6));                    // header: 1 + 5
    c.on_bytes("Length: 4\r\n\r\nab", t0 + seconds(2));          // headers complete
    EXPECT_EQ(c.deadline(), t0 + seconds(5));                    // body: 2 + 3
    c.on_bytes("cd", t0 + seconds(4));                           // complete
    EXPECT_EQ(c.deadline(), TimePoint::max());                   // the server's turn
    auto req = c.next_request();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->body, "abcd");
    EXPECT_EQ(c.deadline(), TimePoint::max());
    c.on_timeout(t0 + seconds(60)); // nothing is due while a response is owed
    EXPECT_FALSE(c.wants_close());
    c.respond(ok("{}"), t0 + seconds(61));
    EXPECT_EQ(c.take_output(), json_ok("{}", true));
    EXPECT_EQ(c.deadline(), t0 + seconds(68)); // idle again from the response
    c.on_bytes("G", t0 + seconds(62));
    EXPECT_EQ(c.deadline(), t0 + seconds(67)); // header timer from the first byte
    c.on_bytes("ET / HTTP/1.1\r\n\r\nGET /next", t0 + seconds(63));
    // The first request completed in this call and the next one began in it: its header timer
    // starts now; the complete one waiting in the queue is not in progress.
    EXPECT_EQ(c.deadline(), t0 + seconds(68));
    ASSERT_TRUE(c.next_request());
    c.respond(ok("{}"), t0 + seconds(64));
    EXPECT_EQ(c.deadline(), t0 + seconds(68)); // still the partial request's header timer
    c.on_bytes(" HTTP/1.1\r\n\r\n", t0 + seconds(65));
    EXPECT_EQ(c.deadline(), TimePoint::max());
    ASSERT_EQ(c.next_request()->path, "/next");
    c.respond(ok("{}")); // without `now`: the latest time the connection saw (65 s)
    EXPECT_EQ(c.deadline(), t0 + seconds(72));
}

TEST(HttpConnection, ConnectionCloseRequestClosesAfterItsResponse) {
    Connection c({}, t0);
    c.on_bytes("GET /bye HTTP/1.1\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n", t0);
    auto req = c.next_request();
    ASSERT_TRUE(req);
    EXPECT_FALSE(req->keep_alive);
    EXPECT_FALSE(c.next_request());
    EXPECT_FALSE(c.wants_close());
    EXPECT_FALSE(c.wants_read());
    EXPECT_EQ(c.deadline(), TimePoint::max());
    c.respond(ok("{}"));
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), json_ok("{}", false));
    EXPECT_FALSE(c.next_request());
}

TEST(HttpConnection, Http10WithoutKeepAliveCloses) {
    Connection c({}, t0);
    c.on_bytes("GET /health HTTP/1.0\r\n\r\n", t0);
    ASSERT_TRUE(c.next_request());
    c.respond(ok("{}"));
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), json_ok("{}", false));

    Connection ka({}, t0);
    ka.on_bytes("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", t0);
    ASSERT_TRUE(ka.next_request());
    ka.respond(ok("{}"));
    EXPECT_FALSE(ka.wants_close());
    EXPECT_EQ(ka.take_output(), json_ok("{}", true));
}

TEST(HttpConnection, ResponseCloseDropsLaterRequests) {
    Connection c({}, t0);
    c.on_bytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", t0);
    ASSERT_TRUE(c.next_request());
    Response r = error_response(503, "shutting_down", "bye");
    r.close = true;
    c.respond(r);
    EXPECT_TRUE(c.wants_close());
    EXPECT_FALSE(c.next_request());
    EXPECT_EQ(c.take_output(), error_bytes("503 Service Unavailable", "shutting_down", "bye"));
}

TEST(HttpConnection, HeadGetsNoBody) {
    Connection c({}, t0);
    c.on_bytes("HEAD /health HTTP/1.1\r\n\r\n", t0);
    ASSERT_TRUE(c.next_request());
    c.respond(ok(R"({"status":"ok"})"));
    EXPECT_EQ(c.take_output(), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 15\r\nConnection: keep-alive\r\n\r\n");
}

TEST(HttpConnection, ExpectContinueGets100) {
    Connection c({}, t0);
    c.on_bytes("POST /s HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", t0);
    EXPECT_EQ(c.take_output(), "HTTP/1.1 100 Continue\r\n\r\n");
    c.on_bytes("o", t0);
    EXPECT_FALSE(c.has_output());
    c.on_bytes("k", t0);
    ASSERT_EQ(c.next_request()->body, "ok");
    c.respond(ok("{}"));
    EXPECT_EQ(c.take_output(), json_ok("{}", true));
}

TEST(HttpConnection, ExpectContinueWaitsForEarlierResponses) {
    Connection c({}, t0);
    c.on_bytes("GET /a HTTP/1.1\r\n\r\n"
               "POST /s HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
               t0);
    EXPECT_FALSE(c.has_output());
    ASSERT_TRUE(c.next_request());
    c.respond(ok("a"));
    EXPECT_EQ(c.take_output(), json_ok("a", true) + "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST(HttpConnection, OversizedExpectContinueGets413Instead) {
    Connection c({}, t0);
    c.on_bytes("POST /s HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n", t0);
    EXPECT_EQ(c.take_output(),
              error_bytes("413 Content Too Large", "payload_too_large",
                          "Content-Length 2000000 exceeds the 1048576-byte limit"));
}

TEST(HttpConnection, FullPipelineStopsParsing) {
    Limits limits;
    limits.max_pipelined = 2;
    Connection c(limits, t0);
    std::string five;
    for (int i = 0; i < 5; ++i)
        five += "GET /" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
    c.on_bytes(five, t0);
    EXPECT_FALSE(c.wants_read());
    EXPECT_EQ(c.deadline(), TimePoint::max());
    ASSERT_EQ(c.next_request()->path, "/0");
    ASSERT_EQ(c.next_request()->path, "/1");
    EXPECT_FALSE(c.next_request());
    c.respond(ok("0"));
    ASSERT_EQ(c.next_request()->path, "/2");
    EXPECT_FALSE(c.next_request());
    c.respond(ok("1"));
    c.respond(ok("2"));
    ASSERT_EQ(c.next_request()->path, "/3");
    ASSERT_EQ(c.next_request()->path, "/4");
    EXPECT_FALSE(c.wants_read()); // two outstanding
    c.respond(ok("3"));
    EXPECT_TRUE(c.wants_read());
    c.respond(ok("4"));
    EXPECT_EQ(c.take_output(), json_ok("0", true) + json_ok("1", true) + json_ok("2", true) +
                                   json_ok("3", true) + json_ok("4", true));
    EXPECT_FALSE(c.wants_close());
}

TEST(HttpConnection, HeldBackInputIsBounded) {
    Limits limits;
    limits.max_pipelined = 1;
    limits.max_header_bytes = 100;
    limits.max_body_bytes = 100;
    Connection c(limits, t0);
    c.on_bytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", t0);
    EXPECT_FALSE(c.wants_read());
    c.on_bytes(std::string(500, 'G'), t0); // the peer ignores wants_read(): dropped
    ASSERT_EQ(c.next_request()->path, "/a");
    c.respond(ok("a"));
    ASSERT_EQ(c.next_request()->path, "/b");
    EXPECT_FALSE(c.wants_close());
    c.respond(ok("b"));
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), json_ok("a", true) + json_ok("b", false));
}

TEST(HttpConnection, PeerClosedFinishesQueuedRequests) {
    Connection c({}, t0);
    c.on_bytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /partial", t0);
    c.on_peer_closed();
    EXPECT_FALSE(c.wants_close());
    EXPECT_FALSE(c.wants_read());
    EXPECT_EQ(c.deadline(), TimePoint::max());
    ASSERT_EQ(c.next_request()->path, "/a");
    c.respond(ok("a"));
    ASSERT_EQ(c.next_request()->path, "/b");
    EXPECT_FALSE(c.next_request());
    c.respond(ok("b"));
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(), json_ok("a", true) + json_ok("b", false));
}

TEST(HttpConnection, PeerClosedWhileIdle) {
    Connection c({}, t0);
    c.on_peer_closed();
    EXPECT_TRUE(c.wants_close());
    EXPECT_FALSE(c.has_output());
}

TEST(HttpConnection, TimeoutBehindAnUnansweredRequestWaitsForIt) {
    Connection c({}, t0);
    c.on_bytes("GET /a HTTP/1.1\r\n\r\nGET /slow", t0);
    ASSERT_TRUE(c.next_request());
    EXPECT_EQ(c.deadline(), t0 + seconds(10));
    c.on_timeout(t0 + seconds(10));
    EXPECT_FALSE(c.has_output());
    EXPECT_FALSE(c.wants_close());
    c.respond(ok("a"));
    EXPECT_TRUE(c.wants_close());
    EXPECT_EQ(c.take_output(),
              json_ok("a", true) + error_bytes("408 Request Timeout", "request_timeout",
                                               "request headers not received within 10000 ms"));
}

TEST(HttpConnection, InterimStatusFromTheRouterIsSentAs500) {
    Connection c({}, t0);
    c.on_bytes("GET / HTTP/1.1\r\n\r\n", t0);
    ASSERT_TRUE(c.next_request());
    Response r;
    r.status = 101;
    c.respond(r);
    EXPECT_EQ(c.take_output(), "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                               "Connection: keep-alive\r\n\r\n");
}

TEST(HttpConnection, DisabledTimeoutNeverOverflows) {
    Limits limits;
    limits.idle_timeout = Clock::duration::max();
    Connection c(limits, t0);
    EXPECT_EQ(c.deadline(), TimePoint::max());
}

} // namespace
} // namespace wabridge::http

#include "wabridge/net/http/request_parser.hpp"

#include <gtest/gtest.h>
#include <random>

namespace wabridge::http {
namespace {

// Feeds `text` in one call and expects success.
std::vector<Request> parse_ok(const std::string& text, const Limits& limits = {}) {
    RequestParser p(limits);
    std::vector<Request> out;
    auto r = p.feed(text, out);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    EXPECT_FALSE(p.in_progress());
    return out;
}

ParseError parse_error(const std::string& text, const Limits& limits = {}) {
    RequestParser p(limits);
    std::vector<Request> out;
    auto r = p.feed(text, out);
    EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
    if (r.ok()) return {ParseErrorKind::bad_request, ""};
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
    return r.error();
}

TEST(HttpRequestParser, SimpleGet) {
    auto out = parse_ok("GET /health HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\n\r\n");
    ASSERT_EQ(out.size(), 1u);
    const Request& r = out[0];
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/health");
    EXPECT_EQ(r.path, "/health");
    EXPECT_EQ(r.query, "");
    EXPECT_EQ(r.version_minor, 1);
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(r.headers[0].name, "Host");
    EXPECT_EQ(r.headers[0].value, "localhost:8080");
    EXPECT_EQ(r.headers[1].name, "Accept");
    EXPECT_EQ(r.headers[1].value, "*/*");
    EXPECT_EQ(r.body, "");
    EXPECT_TRUE(r.keep_alive);
}

TEST(HttpRequestParser, PostWithContentLength) {
    auto out = parse_ok("POST /sessions/abc/webrtc HTTP/1.1\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: 13\r\n"
                        "\r\n"
                        R"({"sdp":"v=0"})");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].method, "POST");
    EXPECT_EQ(out[0].path, "/sessions/abc/webrtc");
    EXPECT_EQ(out[0].body, R"({"sdp":"v=0"})");
}

TEST(HttpRequestParser, ChunkedBodyWithTrailerDropped) {
    auto out = parse_ok("POST /bridge/start HTTP/1.1\r\n"
                        "Transfer-Encoding: chunked\r\n"
                        "\r\n"
                        "4\r\nWiki\r\n"
                        "5;ext=1\r\npedia\r\n"
                        "0\r\n"
                        "X-Trailer: t\r\n"
                        "\r\n");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].body, "Wikipedia");
    // RFC 9110 §6.5.1: trailer fields are not merged into the header section.
    ASSERT_EQ(out[0].headers.size(), 1u);
    EXPECT_EQ(out[0].headers[0].name, "Transfer-Encoding");
    EXPECT_EQ(out[0].header("X-Trailer"), nullptr);
}

TEST(HttpRequestParser, TwoPipelinedInOneFeed) {
    auto out = parse_ok("GET /a HTTP/1.1\r\n\r\n"
                        "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz");
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].path, "/a");
    EXPECT_EQ(out[1].path, "/b");
    EXPECT_EQ(out[1].body, "xyz");
}

TEST(HttpRequestParser, ThreePipelinedInOneFeed) {
    auto out =
        parse_ok("GET /1 HTTP/1.1\r\n\r\n"
                 "DELETE /sessions/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                 "POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n");
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].method, "GET");
    EXPECT_EQ(out[1].method, "DELETE");
    EXPECT_EQ(out[1].path, "/sessions/x");
    EXPECT_EQ(out[2].method, "POST");
    EXPECT_EQ(out[2].body, "z");
}

TEST(HttpRequestParser, OneByteFeeds) {
    const std::string text = "POST /sessions/call-1/webrtc?trace=1 HTTP/1.1\r\n"
                             "Host: bridge\r\n"
                             "X-Long-Header-Name: some value with spaces   \r\n"
                             "Content-Length: 5\r\n"
                             "\r\n"
                             "hello"
                             "GET /next HTTP/1.1\r\n\r\n";
    RequestParser p({});
    std::vector<Request> out;
    const size_t first_end = text.find("GET /next");
    for (size_t i = 0; i < text.size(); ++i) {
        ASSERT_TRUE(p.feed(text.substr(i, 1), out).ok()) << "at byte " << i;
        if (i + 1 < first_end) {
            EXPECT_TRUE(out.empty());
            EXPECT_TRUE(p.in_progress());
        }
        if (i + 1 == first_end) {
            EXPECT_EQ(out.size(), 1u);
            EXPECT_FALSE(p.in_progress());
        }
    }
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].target, "/sessions/call-1/webrtc?trace=1");
    EXPECT_EQ(out[0].path, "/sessions/call-1/webrtc");
    EXPECT_EQ(out[0].query, "trace=1");
    ASSERT_EQ(out[0].headers.size(), 3u);
    EXPECT_EQ(out[0].headers[1].name, "X-Long-Header-Name");
    EXPECT_EQ(out[0].headers[1].value, "some value with spaces");
    EXPECT_EQ(out[0].body, "hello");
    EXPECT_EQ(out[1].path, "/next");
}

TEST(HttpRequestParser, InProgressAndHeadersComplete) {
    RequestParser p({});
    std::vector<Request> out;
    EXPECT_FALSE(p.in_progress());
    ASSERT_TRUE(p.feed("\r\n", out).ok()); // RFC 9112 §2.2: empty lines before a request
    EXPECT_FALSE(p.in_progress());
    ASSERT_TRUE(p.feed("PO", out).ok());
    EXPECT_TRUE(p.in_progress());
    EXPECT_FALSE(p.headers_complete());
    ASSERT_TRUE(p.feed("ST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n", out).ok());
    EXPECT_TRUE(p.in_progress());
    EXPECT_TRUE(p.headers_complete());
    ASSERT_TRUE(p.feed("a", out).ok());
    EXPECT_TRUE(out.empty());
    ASSERT_TRUE(p.feed("b", out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(p.in_progress());
    EXPECT_FALSE(p.headers_complete());
}

TEST(HttpRequestParser, PathAndQuerySplit) {
    auto out = parse_ok("GET /a/b%20c?x=1&y=%3F HTTP/1.1\r\n\r\n"
                        "GET /only? HTTP/1.1\r\n\r\n"
                        "GET /?q HTTP/1.1\r\n\r\n"
                        "GET http://example.com:8080/abs/path?k=v HTTP/1.1\r\n\r\n"
                        "GET http://example.com HTTP/1.1\r\n\r\n"
                        "OPTIONS * HTTP/1.1\r\n\r\n"
                        "GET /frag?a=b#c HTTP/1.1\r\n\r\n");
    ASSERT_EQ(out.size(), 7u);
    EXPECT_EQ(out[0].path, "/a/b%20c");
    EXPECT_EQ(out[0].query, "x=1&y=%3F");
    EXPECT_EQ(out[1].path, "/only");
    EXPECT_EQ(out[1].query, "");
    EXPECT_EQ(out[2].path, "/");
    EXPECT_EQ(out[2].query, "q");
    EXPECT_EQ(out[3].target, "http://example.com:8080/abs/path?k=v");
    EXPECT_EQ(out[3].path, "/abs/path");
    EXPECT_EQ(out[3].query, "k=v");
    EXPECT_EQ(out[4].path, "/");
    EXPECT_EQ(out[5].method, "OPTIONS");
    EXPECT_EQ(out[5].path, "*");
    EXPECT_EQ(out[6].path, "/frag");
    EXPECT_EQ(out[6].query, "a=b");
}

TEST(HttpRequestParser, HeaderLookupIsCaseInsensitive) {
    auto out = parse_ok("GET / HTTP/1.1\r\nauthorization: Bearer t\r\nX-Dup: 1\r\nx-dup: 2\r\n"
                        "X-Empty:\r\n\r\n");
    ASSERT_EQ(out.size(), 1u);
    ASSERT_NE(out[0].header("Authorization"), nullptr);
    EXPECT_EQ(*out[0].header("AUTHORIZATION"), "Bearer t");
    EXPECT_EQ(*out[0].header("x-DUP"), "1");
    ASSERT_NE(out[0].header("x-empty"), nullptr);
    EXPECT_EQ(*out[0].header("x-empty"), "");
    EXPECT_EQ(out[0].header("Host"), nullptr);
}

TEST(HttpRequestParser, Http10IsNotKeepAlive) {
    auto out = parse_ok("GET / HTTP/1.0\r\n\r\n");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].version_minor, 0);
    EXPECT_FALSE(out[0].keep_alive);

    out = parse_ok("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].keep_alive);
}

TEST(HttpRequestParser, ConnectionCloseIsNotKeepAliveAndEndsParsing) {
    RequestParser p({});
    std::vector<Request> out;
    ASSERT_TRUE(
        p.feed("GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n", out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].keep_alive);
    EXPECT_TRUE(p.closed());
    ASSERT_TRUE(p.feed("GET /c HTTP/1.1\r\n\r\n", out).ok());
    EXPECT_EQ(out.size(), 1u); // RFC 9112 §9.6: nothing after the closing request
    EXPECT_FALSE(p.in_progress());
}

TEST(HttpRequestParser, GarbageIsBadRequest) {
    ParseError e = parse_error("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    EXPECT_EQ(e.kind, ParseErrorKind::bad_request);
    EXPECT_EQ(e.message, "llhttp: HPE_INVALID_METHOD: Invalid method encountered");

    e = parse_error("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n");
    EXPECT_EQ(e.kind, ParseErrorKind::bad_request);
    EXPECT_EQ(e.message, "invalid character in a header field name");
    // RFC 9112 §5.1: whitespace before the colon must be refused, not trimmed.
    EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nContent-Length : 3\r\n\r\nabc").kind,
              ParseErrorKind::bad_request);
    EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "0\r\nBad Trailer: x\r\n\r\n")
                  .kind,
              ParseErrorKind::bad_request);
    EXPECT_EQ(parse_error("GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n").kind, ParseErrorKind::bad_request);
    EXPECT_EQ(parse_error("GET / HTTP/9.9\r\n\r\n").kind, ParseErrorKind::bad_request);
    // RFC 9112 §6.3: both framings at once is a smuggling attempt.
    EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n"
                          "\r\n0\r\n\r\n")
                  .kind,
              ParseErrorKind::bad_request);
    EXPECT_EQ(
        parse_error("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").kind,
        ParseErrorKind::bad_request);
    EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").kind,
              ParseErrorKind::bad_request);
    EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").kind,
              ParseErrorKind::bad_request);
}

TEST(HttpRequestParser, ErrorIsSticky) {
    RequestParser p({});
    std::vector<Request> out;
    ASSERT_FALSE(p.feed("NOPE\r\n", out).ok());
    EXPECT_TRUE(p.failed());
    auto again = p.feed("GET / HTTP/1.1\r\n\r\n", out);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, ParseErrorKind::bad_request);
    EXPECT_TRUE(out.empty());
}

TEST(HttpRequestParser, RequestsBeforeAnErrorAreKept) {
    RequestParser p({});
    std::vector<Request> out;
    auto r = p.feed("GET /ok HTTP/1.1\r\n\r\n\x01garbage", out);
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].path, "/ok");
}

TEST(HttpRequestParser, HeaderBytesOverLimit) {
    Limits limits;
    limits.max_header_bytes = 100;
    // Target 1 + "X-A" 3 + 80 + 4 = 88: fits.
    auto out = parse_ok("GET / HTTP/1.1\r\nX-A: " + std::string(80, 'a') + "\r\n\r\n", limits);
    EXPECT_EQ(out.size(), 1u);
    // 1 + 3 + 92 + 4 = 100: exactly at the limit.
    out = parse_ok("GET / HTTP/1.1\r\nX-A: " + std::string(92, 'a') + "\r\n\r\n", limits);
    EXPECT_EQ(out.size(), 1u);
    ParseError e =
        parse_error("GET / HTTP/1.1\r\nX-A: " + std::string(93, 'a') + "\r\n\r\n", limits);
    EXPECT_EQ(e.kind, ParseErrorKind::header_too_large);
    EXPECT_EQ(e.message, "request header section exceeds 100 bytes");
    EXPECT_EQ(parse_error("GET /" + std::string(100, 'u') + " HTTP/1.1\r\n\r\n", limits).kind,
              ParseErrorKind::header_too_large);
}

TEST(HttpRequestParser, EndlessHeaderFailsWithoutTheEnd) {
    // The limit is hit while the field streams in: no CRLF ever needs to arrive.
    RequestParser p({});
    std::vector<Request> out;
    ASSERT_TRUE(p.feed("GET / HTTP/1.1\r\nX: ", out).ok());
    const std::string chunk(1000, 'a');
    bool failed = false;
    for (int i = 0; i < 100 && !failed; ++i) {
        auto r = p.feed(chunk, out);
        if (!r.ok()) {
            EXPECT_EQ(r.error().kind, ParseErrorKind::header_too_large);
            EXPECT_EQ(i, 16); // 16 KiB default: the 17th kilobyte crosses it
            failed = true;
        }
    }
    EXPECT_TRUE(failed);
}

TEST(HttpRequestParser, TooManyHeaders) {
    std::string head = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 100; ++i)
        head += "X-" + std::to_string(i) + ": v\r\n";
    auto out = parse_ok(head + "\r\n");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].headers.size(), 100u);
    ParseError e = parse_error(head + "X-100: v\r\n\r\n");
    EXPECT_EQ(e.kind, ParseErrorKind::too_many_headers);
    EXPECT_EQ(e.message, "more than 100 header fields");
}

TEST(HttpRequestParser, ContentLengthOverLimitFailsBeforeTheBody) {
    RequestParser p({});
    std::vector<Request> out;
    auto r = p.feed("POST /sessions/x/webrtc HTTP/1.1\r\nContent-Length: 2097152\r\n\r\n", out);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ParseErrorKind::body_too_large);
    EXPECT_EQ(r.error().message, "Content-Length 2097152 exceeds the 1048576-byte limit");
    EXPECT_TRUE(out.empty());
}

TEST(HttpRequestParser, ContentLengthAtLimitIsAccepted) {
    Limits limits;
    limits.max_body_bytes = 10;
    auto out = parse_ok("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", limits);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].body, "0123456789");
    EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", limits).kind,
              ParseErrorKind::body_too_large);
    // Far beyond any limit, and beyond 64 bits: never trusted.
    EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n").kind,
              ParseErrorKind::body_too_large);
    EXPECT_EQ(
        parse_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").kind,
        ParseErrorKind::bad_request);
}

TEST(HttpRequestParser, ChunkedBodyOverLimit) {
    Limits limits;
    limits.max_body_bytes = 10;
    auto out = parse_ok("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
                        limits);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].body, "0123456789");

    // The 11th byte: refused at the chunk header, before its data.
    RequestParser p(limits);
    std::vector<Request> none;
    ASSERT_TRUE(
        p.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n", none).ok());
    auto r = p.feed("6\r\n", none);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ParseErrorKind::body_too_large);
    EXPECT_EQ(r.error().message, "chunked body exceeds the 10-byte limit");

    // Many small chunks add up.
    std::string many = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 11; ++i)
        many += "1\r\nx\r\n";
    EXPECT_EQ(parse_error(many, limits).kind, ParseErrorKind::body_too_large);
}

TEST(HttpRequestParser, UpgradeAndConnectAreUnsupported) {
    ParseError e =
        parse_error("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    EXPECT_EQ(e.kind, ParseErrorKind::unsupported);
    EXPECT_EQ(e.message, "protocol upgrade is not supported");
    e = parse_error("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    EXPECT_EQ(e.kind, ParseErrorKind::unsupported);
    EXPECT_EQ(e.message, "CONNECT is not supported");
    // The HTTP/2 connection preface (RFC 9113 §3.4).
    EXPECT_EQ(parse_error("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").kind, ParseErrorKind::unsupported);
    e = parse_error("GET / HTTP/2.0\r\n\r\n");
    EXPECT_EQ(e.kind, ParseErrorKind::unsupported);
    EXPECT_EQ(e.message, "HTTP/2.0 is not supported");
    // An Upgrade field without "Connection: upgrade" asks for nothing (RFC 9110 §7.8).
    auto out = parse_ok("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n");
    EXPECT_EQ(out.size(), 1u);
}

TEST(HttpRequestParser, FeedSomeStopsAfterMaxRequests) {
    RequestParser p({});
    std::vector<Request> out;
    const std::string text = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTT";
    auto r = p.feed_some(text, out, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 19u);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(p.in_progress());
    r = p.feed_some(std::string_view(text).substr(19), out, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 0u);
    r = p.feed_some(std::string_view(text).substr(19), out, 5);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, text.size() - 19);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].path, "/2");
    EXPECT_TRUE(p.in_progress());
    ASSERT_TRUE(p.feed("P/1.1\r\n\r\n", out).ok());
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[2].path, "/3");
}

TEST(HttpRequestParser, ExpectsContinue) {
    RequestParser p({});
    std::vector<Request> out;
    ASSERT_TRUE(
        p.feed("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", out).ok());
    EXPECT_TRUE(p.expects_continue());
    ASSERT_TRUE(p.feed("a", out).ok());
    EXPECT_FALSE(p.expects_continue()); // RFC 9110 §10.1.1: some content already arrived
    ASSERT_TRUE(p.feed("bc", out).ok());
    EXPECT_FALSE(p.expects_continue());

    RequestParser p10({});
    ASSERT_TRUE(
        p10.feed("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", out).ok());
    EXPECT_FALSE(p10.expects_continue()); // an HTTP/1.0 client ignores it

    RequestParser no_body({});
    ASSERT_TRUE(no_body.feed("GET / HTTP/1.1\r\nExpect: 100-continue\r\n", out).ok());
    EXPECT_FALSE(no_body.expects_continue());
}

TEST(HttpRequestParser, MethodNames) {
    auto out = parse_ok("PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                        "HEAD / HTTP/1.1\r\n\r\n"
                        "PATCH / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                        "OPTIONS / HTTP/1.1\r\n\r\n");
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].method, "PUT");
    EXPECT_EQ(out[1].method, "HEAD");
    EXPECT_EQ(out[2].method, "PATCH");
    EXPECT_EQ(out[3].method, "OPTIONS");
}

TEST(HttpRequestParser, ObsFoldBecomesSpace) {
    // RFC 9112 §5.2: a server may replace obs-fold with SP.
    auto out = parse_ok("GET / HTTP/1.1\r\nX-F: a\r\n  b\r\n\r\n");
    ASSERT_EQ(out.size(), 1u);
    ASSERT_NE(out[0].header("X-F"), nullptr);
    EXPECT_NE(out[0].header("X-F")->find('b'), std::string::npos);
    EXPECT_EQ(out[0].header("X-F")->find('\r'), std::string::npos);
    EXPECT_EQ(out[0].header("X-F")->find('\n'), std::string::npos);
}

TEST(HttpRequestParser, RandomSplitsGiveTheSameRequests) {
    const std::string stream = "POST /sessions/a/webrtc?x=1 HTTP/1.1\r\nHost: h\r\n"
                               "Content-Length: 5\r\n\r\nhello"
                               "GET /health HTTP/1.1\r\nX-A:   padded  \r\n\r\n"
                               "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabc\r\n2\r\nde\r\n0\r\nT: x\r\n\r\n"
                               "DELETE /sessions/a HTTP/1.1\r\nConnection: close\r\n\r\n";
    const std::vector<Request> whole = parse_ok(stream);
    ASSERT_EQ(whole.size(), 4u);
    std::mt19937 rng(1234);
    for (int round = 0; round < 200; ++round) {
        RequestParser p({});
        std::vector<Request> out;
        size_t at = 0;
        while (at < stream.size()) {
            const size_t n = std::uniform_int_distribution<size_t>(1, 40)(rng);
            ASSERT_TRUE(p.feed(std::string_view(stream).substr(at, n), out).ok());
            at += n;
        }
        ASSERT_EQ(out.size(), whole.size()) << "round " << round;
        for (size_t i = 0; i < out.size(); ++i) {
            EXPECT_EQ(out[i].method, whole[i].method);
            EXPECT_EQ(out[i].target, whole[i].target);
            EXPECT_EQ(out[i].body, whole[i].body);
            EXPECT_EQ(out[i].keep_alive, whole[i].keep_alive);
            ASSERT_EQ(out[i].headers.size(), whole[i].headers.size());
            for (size_t h = 0; h < out[i].headers.size(); ++h) {
                EXPECT_EQ(out[i].headers[h].name, whole[i].headers[h].name);
                EXPECT_EQ(out[i].headers[h].value, whole[i].headers[h].value);
            }
        }
    }
    EXPECT_EQ(*whole[1].header("x-a"), "padded");
    EXPECT_FALSE(whole[3].keep_alive);
}

TEST(HttpRequestParser, RandomBytesNeverGrowPastTheLimits) {
    Limits limits;
    limits.max_header_bytes = 512;
    limits.max_body_bytes = 512;
    std::mt19937 rng(99);
    const std::string prefix = "POST / HTTP/1.1\r\n";
    for (int round = 0; round < 300; ++round) {
        RequestParser p(limits);
        std::vector<Request> out;
        std::string data = round % 2 ? prefix : std::string();
        const size_t n = std::uniform_int_distribution<size_t>(1, 4096)(rng);
        for (size_t i = 0; i < n; ++i) {
            data += static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
        }
        auto r = p.feed(data, out);
        for (const Request& q : out) {
            EXPECT_LE(q.body.size(), limits.max_body_bytes);
            EXPECT_LE(q.target.size(), limits.max_header_bytes);
        }
        if (!r.ok()) {
            EXPECT_FALSE(r.error().message.empty());
            EXPECT_EQ(r.error().message.find_first_of("\r\n"), std::string::npos);
        }
    }
}

} // namespace
} // namespace wabridge::http

// ResponseParser: status line, headers, the three body framings, keep-alive, interim responses,
// the byte offset where a 101 head ends, limits, and errors.
#include "wabridge/net/http/response_parser.hpp"

#include <gtest/gtest.h>

namespace wabridge::http {
namespace {

// Feeds `text` in one call; expects one complete response that used `expect_used` bytes.
ParsedResponse parse_one(ResponseParser& p, std::string_view text, size_t expect_used) {
    auto r = p.feed(text);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return {};
    EXPECT_EQ(r.value(), expect_used);
    EXPECT_TRUE(p.done());
    return p.take();
}

ParseError parse_error(std::string_view text, const ResponseLimits& limits = {}) {
    ResponseParser p(limits);
    auto r = p.feed(text);
    EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
    if (r.ok()) return {ParseErrorKind::bad_request, ""};
    EXPECT_TRUE(p.failed());
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
    // Sticky: the next feed fails the same way.
    auto again = p.feed("HTTP/1.1 200 OK\r\n\r\n");
    EXPECT_FALSE(again.ok());
    return r.error();
}

TEST(HttpResponseParser, ContentLengthBodyAndHeaders) {
    ResponseParser p;
    const std::string text = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: application/json\r\n"
                             "X-Request-Id:  req_1 \t\r\n"
                             "Content-Length: 11\r\n"
                             "\r\n"
                             "{\"ok\":true}";
    ParsedResponse r = parse_one(p, text, text.size());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.reason, "OK");
    EXPECT_EQ(r.version_minor, 1);
    ASSERT_EQ(r.headers.size(), 3u);
    EXPECT_EQ(r.headers[1].name, "X-Request-Id");
    EXPECT_EQ(r.headers[1].value, "req_1"); // OWS stripped both sides
    ASSERT_NE(r.header("content-type"), nullptr);
    EXPECT_EQ(*r.header("CONTENT-TYPE"), "application/json");
    EXPECT_EQ(r.body, "{\"ok\":true}");
    EXPECT_TRUE(r.keep_alive);
    EXPECT_FALSE(r.upgraded);
    EXPECT_FALSE(p.closed());
}

TEST(HttpResponseParser, ChunkedBodyTrailerDropped) {
    ResponseParser p;
    const std::string text = "HTTP/1.1 200 OK\r\n"
                             "Transfer-Encoding: chunked\r\n"
                             "\r\n"
                             "4\r\nWiki\r\n"
                             "5;name=v\r\npedia\r\n"
                             "0\r\n"
                             "X-Checksum: abc\r\n"
                             "\r\n";
    ParsedResponse r = parse_one(p, text, text.size());
    EXPECT_EQ(r.body, "Wikipedia");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.header("X-Checksum"), nullptr);
    EXPECT_TRUE(r.keep_alive);
}

TEST(HttpResponseParser, BodyUntilCloseCompletesOnFinish) {
    ResponseParser p;
    const std::string text = "HTTP/1.1 401 Unauthorized\r\n"
                             "Content-Type: text/plain\r\n"
                             "\r\n"
                             "bad key";
    auto r = p.feed(text);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), text.size());
    EXPECT_FALSE(p.done());
    EXPECT_TRUE(p.headers_complete());
    EXPECT_EQ(p.current().status, 401);
    EXPECT_EQ(p.current().body, "bad key");
    auto more = p.feed(" more");
    ASSERT_TRUE(more.ok());
    EXPECT_EQ(more.value(), 5u);
    ASSERT_TRUE(p.finish().ok());
    ASSERT_TRUE(p.done());
    ParsedResponse resp = p.take();
    EXPECT_EQ(resp.status, 401);
    EXPECT_EQ(resp.reason, "Unauthorized");
    EXPECT_EQ(resp.body, "bad key more");
    EXPECT_FALSE(resp.keep_alive);
    EXPECT_TRUE(p.closed());
    auto after = p.feed("HTTP/1.1 200 OK\r\n\r\n");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after.value(), 0u);
}

TEST(HttpResponseParser, SwitchingProtocolsLeavesFollowingBytesUntouched) {
    ResponseParser p;
    const std::string head = "HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                             "\r\n";
    const std::string frames("\x81\x05Hello\x89\x00", 9);
    auto r = p.feed(head + frames);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.value(), head.size());
    ASSERT_TRUE(p.done());
    ParsedResponse resp = p.take();
    EXPECT_EQ(resp.status, 101);
    EXPECT_TRUE(resp.upgraded);
    EXPECT_FALSE(resp.keep_alive);
    EXPECT_EQ(resp.body, "");
    EXPECT_EQ(*resp.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_TRUE(p.closed());
    // Nothing more is parsed as HTTP.
    auto after = p.feed(frames);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after.value(), 0u);
}

TEST(HttpResponseParser, SwitchingProtocolsWithoutUpgradeHeadersStillEndsAtHead) {
    // llhttp alone would treat this 101 as interim and parse the frame as a status line.
    ResponseParser p;
    const std::string head = "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 3\r\n\r\n";
    auto r = p.feed(head + "\x81\x00");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), head.size());
    EXPECT_TRUE(p.done());
    EXPECT_TRUE(p.current().upgraded);
    EXPECT_EQ(p.current().body, "");
}

TEST(HttpResponseParser, SwitchingProtocolsOneByteAtATime) {
    ResponseParser p;
    const std::string head = "HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n";
    const std::string text = head + "\x82\x01Z";
    size_t pos = 0;
    while (pos < text.size() && !p.done()) {
        auto r = p.feed(std::string_view(text).substr(pos, 1));
        ASSERT_TRUE(r.ok()) << r.error().message;
        pos += r.value();
    }
    EXPECT_EQ(pos, head.size());
    EXPECT_EQ(p.take().status, 101);
}

TEST(HttpResponseParser, InterimResponsesSkipped) {
    ResponseParser p;
    const std::string text = "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                             "HTTP/1.1 204 No Content\r\n\r\n";
    ParsedResponse r = parse_one(p, text, text.size());
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(r.headers.size(), 0u);
    EXPECT_EQ(p.interim_responses(), 2u);
}

TEST(HttpResponseParser, KeepAliveResponsesOneAtATime) {
    ResponseParser p;
    const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab";
    const std::string second = "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx";
    const std::string both = first + second;
    auto r = p.feed(both);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), first.size());
    // A completed response blocks further parsing until taken.
    auto blocked = p.feed(std::string_view(both).substr(first.size()));
    ASSERT_TRUE(blocked.ok());
    EXPECT_EQ(blocked.value(), 0u);
    EXPECT_EQ(p.take().body, "ab");
    ParsedResponse r2 = parse_one(p, std::string_view(both).substr(first.size()), second.size());
    EXPECT_EQ(r2.status, 404);
    EXPECT_EQ(r2.body, "x");
}

TEST(HttpResponseParser, HeadResponseHasNoBody) {
    ResponseParser p;
    p.expect_head_response();
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    const std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nq";
    auto r = p.feed(head + next);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), head.size());
    ParsedResponse resp = p.take();
    EXPECT_EQ(resp.body, "");
    EXPECT_TRUE(resp.keep_alive);
    // take() cleared the HEAD expectation: the next response has its body.
    EXPECT_EQ(parse_one(p, next, next.size()).body, "q");
}

TEST(HttpResponseParser, ConnectionCloseEndsConnection) {
    ResponseParser p;
    const std::string text = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    ParsedResponse r = parse_one(p, text, text.size());
    EXPECT_FALSE(r.keep_alive);
    EXPECT_TRUE(p.closed());
}

TEST(HttpResponseParser, Http10DefaultsToClose) {
    ResponseParser p;
    const std::string text = "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nk";
    ParsedResponse r = parse_one(p, text, text.size());
    EXPECT_EQ(r.version_minor, 0);
    EXPECT_FALSE(r.keep_alive);
}

TEST(HttpResponseParser, ByteAtATimeMatchesOneFeed) {
    const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nA: b\r\n\r\n"
                             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    ResponseParser p;
    for (size_t i = 0; i < text.size(); ++i) {
        auto r = p.feed(std::string_view(text).substr(i, 1));
        ASSERT_TRUE(r.ok()) << i;
        ASSERT_EQ(r.value(), 1u) << i;
        EXPECT_EQ(p.done(), i + 1 == text.size()) << i;
    }
    ParsedResponse r = p.take();
    EXPECT_EQ(r.body, "abcde");
    EXPECT_EQ(*r.header("a"), "b");
}

TEST(HttpResponseParser, IncompleteAtCloseIsError) {
    ResponseParser p;
    ASSERT_TRUE(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").ok());
    auto f = p.finish();
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().message, "incomplete response");
    EXPECT_FALSE(p.done());

    ResponseParser mid_head;
    ASSERT_TRUE(mid_head.feed("HTTP/1.1 200 OK\r\nConte").ok());
    EXPECT_FALSE(mid_head.finish().ok());

    ResponseParser nothing;
    EXPECT_TRUE(nothing.finish().ok());
    EXPECT_FALSE(nothing.done());
}

TEST(HttpResponseParser, HeaderSectionLimit) {
    ResponseLimits limits;
    limits.max_header_bytes = 64;
    std::string text = "HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n";
    EXPECT_EQ(parse_error(text, limits).kind, ParseErrorKind::header_too_large);
    // Exactly at the limit passes: "No Content" (10) + 4 + "X-Long" (6) + value (44) = 64.
    ResponseParser p(limits);
    std::string fits = "HTTP/1.1 204 No Content\r\nX-Long: " + std::string(44, 'a') + "\r\n\r\n";
    ParsedResponse r = parse_one(p, fits, fits.size());
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].value.size(), 44u);
    // One byte more fails.
    EXPECT_EQ(parse_error("HTTP/1.1 204 No Content\r\nX-Long: " + std::string(45, 'a') + "\r\n\r\n",
                          limits)
                  .kind,
              ParseErrorKind::header_too_large);
}

TEST(HttpResponseParser, HeaderCountLimit) {
    ResponseLimits limits;
    limits.max_headers = 3;
    EXPECT_EQ(parse_error("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits).kind,
              ParseErrorKind::too_many_headers);
}

TEST(HttpResponseParser, DeclaredBodyOverLimitRefusedBeforeBody) {
    ResponseLimits limits;
    limits.max_body_bytes = 10;
    ParseError e = parse_error("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", limits);
    EXPECT_EQ(e.kind, ParseErrorKind::body_too_large);
    EXPECT_EQ(e.message, "Content-Length 11 exceeds the 10-byte limit");
    EXPECT_EQ(
        parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n", limits).kind,
        ParseErrorKind::body_too_large);
    EXPECT_EQ(parse_error("HTTP/1.1 200 OK\r\n\r\n" + std::string(11, 'z'), limits).kind,
              ParseErrorKind::body_too_large);
    // A 64-bit Content-Length is only a number, never an allocation.
    EXPECT_EQ(parse_error("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n").kind,
              ParseErrorKind::body_too_large);
}

TEST(HttpResponseParser, TruncatedBodyKeepsPrefixAndParsesOn) {
    ResponseLimits limits;
    limits.max_body_bytes = 4;
    limits.truncate_body = true;
    ResponseParser p(limits);
    const std::string text = "HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\n0123456789";
    ParsedResponse r = parse_one(p, text, text.size());
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, "0123");
    EXPECT_TRUE(r.body_truncated);
    EXPECT_TRUE(r.keep_alive);
}

TEST(HttpResponseParser, MalformedInputs) {
    EXPECT_EQ(parse_error("HTTP/1.1 2x0 OK\r\n\r\n").kind, ParseErrorKind::bad_request);
    EXPECT_EQ(parse_error("GET / HTTP/1.1\r\n\r\n").kind, ParseErrorKind::bad_request);
    EXPECT_EQ(parse_error("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n").message,
              "invalid character in a header field name");
    EXPECT_EQ(parse_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").kind,
              ParseErrorKind::bad_request);
    EXPECT_EQ(parse_error("HTTP/2.0 200 OK\r\n\r\n").kind, ParseErrorKind::unsupported);
    const ParseError e = parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    EXPECT_EQ(e.message.rfind("llhttp: HPE_", 0), 0u) << e.message;
}

} // namespace
} // namespace wabridge::http

#include "wabridge/net/http/message.hpp"

#include <gtest/gtest.h>

namespace wabridge::http {
namespace {

TEST(HttpMessage, Serializes200JsonKeepAlive) {
    Response r;
    r.body = R"({"ok":true})";
    EXPECT_EQ(serialize(r, true), "HTTP/1.1 200 OK\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Content-Length: 11\r\n"
                                  "Connection: keep-alive\r\n"
                                  "\r\n"
                                  R"({"ok":true})");
}

TEST(HttpMessage, Serializes503WithRetryAfterAndClose) {
    Response r = error_response(503, "at_capacity", "too many sessions");
    r.headers.push_back({"Retry-After", "5"});
    EXPECT_EQ(serialize(r, false),
              "HTTP/1.1 503 Service Unavailable\r\n"
              "Content-Type: application/json\r\n"
              "Content-Length: 78\r\n"
              "Connection: close\r\n"
              "Retry-After: 5\r\n"
              "\r\n"
              R"({"success":false,"error":{"code":"at_capacity","message":"too many sessions"}})");
}

TEST(HttpMessage, CloseFlagIsTheCallersToApply) {
    // serialize() writes what it is told; Connection folds Response::close into keep_alive.
    Response r;
    r.close = true;
    r.body = "x";
    r.content_type = "text/plain";
    EXPECT_EQ(serialize(r, true), "HTTP/1.1 200 OK\r\n"
                                  "Content-Type: text/plain\r\n"
                                  "Content-Length: 1\r\n"
                                  "Connection: keep-alive\r\n"
                                  "\r\n"
                                  "x");
}

TEST(HttpMessage, Empty204HasNoContentHeaders) {
    // RFC 9110 §8.6: no Content-Length in a 204; no content, so no Content-Type either.
    Response r;
    r.status = 204;
    EXPECT_EQ(serialize(r, true), "HTTP/1.1 204 No Content\r\n"
                                  "Connection: keep-alive\r\n"
                                  "\r\n");
    r.body = "ignored"; // RFC 9110 §15.3.5: a 204 cannot carry content
    EXPECT_EQ(serialize(r, true), "HTTP/1.1 204 No Content\r\n"
                                  "Connection: keep-alive\r\n"
                                  "\r\n");
}

TEST(HttpMessage, EmptyBodyStillHasExactContentLength) {
    Response r;
    r.status = 202;
    EXPECT_EQ(serialize(r, false), "HTTP/1.1 202 Accepted\r\n"
                                   "Content-Length: 0\r\n"
                                   "Connection: close\r\n"
                                   "\r\n");
    r.content_type.clear();
    r.body = "abc";
    EXPECT_EQ(serialize(r, false), "HTTP/1.1 202 Accepted\r\n"
                                   "Content-Length: 3\r\n"
                                   "Connection: close\r\n"
                                   "\r\n"
                                   "abc");
}

TEST(HttpMessage, DropsHeaderInjection) {
    Response r;
    r.status = 401;
    r.body = "{}";
    r.headers = {
        {"X-Evil", "a\r\nSet-Cookie: x=1"},
        {"X-Lf", "a\nb"},
        {"X-Cr", "a\rb"},
        {"X-Nul", std::string("a\0b", 3)},
        {"Bad Name", "v"},
        {"Bad:Name", "v"},
        {"", "v"},
        {"Content-Length", "0"},
        {"connection", "keep-alive"},
        {"Transfer-Encoding", "chunked"},
        {"WWW-Authenticate", "Bearer realm=\"wabridge\""},
        {"X-Tab", "a\tb"},
    };
    EXPECT_EQ(serialize(r, true), "HTTP/1.1 401 Unauthorized\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Content-Length: 2\r\n"
                                  "Connection: keep-alive\r\n"
                                  "WWW-Authenticate: Bearer realm=\"wabridge\"\r\n"
                                  "X-Tab: a\tb\r\n"
                                  "\r\n"
                                  "{}");
}

TEST(HttpMessage, DropsContentTypeWithControlCharacters) {
    Response r;
    r.body = "x";
    r.content_type = "text/plain\r\nX-Injected: 1";
    EXPECT_EQ(serialize(r, true), "HTTP/1.1 200 OK\r\n"
                                  "Content-Length: 1\r\n"
                                  "Connection: keep-alive\r\n"
                                  "\r\n"
                                  "x");
}

TEST(HttpMessage, HeadResponseKeepsTheLengthButNotTheBody) {
    Response r;
    r.body = R"({"status":"ok"})";
    EXPECT_EQ(serialize_head(r, true), "HTTP/1.1 200 OK\r\n"
                                       "Content-Type: application/json\r\n"
                                       "Content-Length: 15\r\n"
                                       "Connection: keep-alive\r\n"
                                       "\r\n");
}

TEST(HttpMessage, InvalidStatusIsSentAs500) {
    Response r;
    r.status = 42;
    r.content_type.clear();
    EXPECT_EQ(serialize(r, false), "HTTP/1.1 500 Internal Server Error\r\n"
                                   "Content-Length: 0\r\n"
                                   "Connection: close\r\n"
                                   "\r\n");
    r.status = 600;
    EXPECT_EQ(serialize(r, false).substr(0, 17), "HTTP/1.1 500 Inte");
}

TEST(HttpMessage, UnregisteredStatusHasEmptyReason) {
    Response r;
    r.status = 299;
    r.content_type.clear();
    EXPECT_EQ(serialize(r, true), "HTTP/1.1 299 \r\n"
                                  "Content-Length: 0\r\n"
                                  "Connection: keep-alive\r\n"
                                  "\r\n");
}

TEST(HttpMessage, ErrorResponseExactJson) {
    Response r = error_response(404, "session_not_found", "no session \"abc\"");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_TRUE(r.headers.empty());
    EXPECT_FALSE(r.close);
    EXPECT_EQ(
        r.body,
        R"({"success":false,"error":{"code":"session_not_found","message":"no session \"abc\""}})");
}

TEST(HttpMessage, ErrorResponseEscapesControlsAndReplacesBadUtf8) {
    Response r = error_response(400, "bad_request", std::string("a\nb\xff", 4));
    EXPECT_EQ(r.body, "{\"success\":false,\"error\":{\"code\":\"bad_request\",\"message\":"
                      "\"a\\nb\xEF\xBF\xBD\"}}");
}

TEST(HttpMessage, ReasonPhrases) {
    EXPECT_EQ(reason_phrase(100), "Continue");
    EXPECT_EQ(reason_phrase(200), "OK");
    EXPECT_EQ(reason_phrase(201), "Created");
    EXPECT_EQ(reason_phrase(204), "No Content");
    EXPECT_EQ(reason_phrase(400), "Bad Request");
    EXPECT_EQ(reason_phrase(401), "Unauthorized");
    EXPECT_EQ(reason_phrase(404), "Not Found");
    EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
    EXPECT_EQ(reason_phrase(408), "Request Timeout");
    EXPECT_EQ(reason_phrase(409), "Conflict");
    EXPECT_EQ(reason_phrase(413), "Content Too Large");
    EXPECT_EQ(reason_phrase(415), "Unsupported Media Type");
    EXPECT_EQ(reason_phrase(422), "Unprocessable Content");
    EXPECT_EQ(reason_phrase(429), "Too Many Requests");
    EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
    EXPECT_EQ(reason_phrase(500), "Internal Server Error");
    EXPECT_EQ(reason_phrase(501), "Not Implemented");
    EXPECT_EQ(reason_phrase(503), "Service Unavailable");
    EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
    EXPECT_EQ(reason_phrase(299), "");
    EXPECT_EQ(reason_phrase(-1), "");
}

TEST(HttpMessage, IsToken) {
    EXPECT_TRUE(is_token("Content-Type"));
    EXPECT_TRUE(is_token("X-A_b.c~!#$%&'*+^`|"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("Bad Name"));
    EXPECT_FALSE(is_token("Host:"));
    EXPECT_FALSE(is_token("a\tb"));
    EXPECT_FALSE(is_token("\xc3\xa9"));
}

TEST(HttpMessage, StatusHasContent) {
    EXPECT_FALSE(status_has_content(100));
    EXPECT_FALSE(status_has_content(101));
    EXPECT_TRUE(status_has_content(200));
    EXPECT_FALSE(status_has_content(204));
    EXPECT_FALSE(status_has_content(304));
    EXPECT_TRUE(status_has_content(404));
}

TEST(HttpMessage, HeaderLookupIsCaseInsensitiveFirstMatch) {
    Request r;
    r.headers = {{"Content-Type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
    ASSERT_NE(r.header("content-type"), nullptr);
    EXPECT_EQ(*r.header("CONTENT-TYPE"), "application/json");
    EXPECT_EQ(*r.header("x-A"), "1");
    EXPECT_EQ(r.header("X-B"), nullptr);
    EXPECT_EQ(r.header(""), nullptr);
}

} // namespace
} // namespace wabridge::http

// The opening handshake: the RFC 6455 §1.3 key/accept example, the exact request bytes, input
// validation, and every check on the server's response.
#include "wabridge/net/ws/handshake.hpp"

#include <gtest/gtest.h>

namespace wabridge::ws {
namespace {

// RFC 6455 §1.3: the key "dGhlIHNhbXBsZSBub25jZQ==" is the base64 of "the sample nonce".
std::array<uint8_t, 16> rfc_nonce() {
    const std::string_view s = "the sample nonce";
    std::array<uint8_t, 16> n{};
    for (size_t i = 0; i < n.size(); ++i)
        n[i] = static_cast<uint8_t>(s[i]);
    return n;
}

HandshakeRequest openai_request() {
    HandshakeRequest r;
    r.host = "api.openai.com";
    r.target = "/v1/realtime?model=gpt-realtime";
    r.headers = {{"Authorization", "Bearer sk-secret-123"}};
    return r;
}

PreparedHandshake prepared(std::vector<std::string> protocols = {}) {
    HandshakeRequest r = openai_request();
    r.subprotocols = std::move(protocols);
    auto h = build_handshake(r, rfc_nonce());
    EXPECT_TRUE(h.ok());
    return h.ok() ? h.value() : PreparedHandshake{};
}

http::ParsedResponse switching(std::vector<http::Header> headers) {
    http::ParsedResponse r;
    r.status = 101;
    r.reason = "Switching Protocols";
    r.headers = std::move(headers);
    r.upgraded = true;
    return r;
}

http::ParsedResponse good_response() {
    return switching({{"Upgrade", "websocket"},
                      {"Connection", "Upgrade"},
                      {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}});
}

HandshakeError expect_invalid(const http::ParsedResponse& r, HandshakeErrorKind kind,
                              const PreparedHandshake& h = prepared()) {
    auto v = validate_response(r, h);
    EXPECT_FALSE(v.ok());
    if (v.ok()) return {};
    EXPECT_EQ(v.error().kind, kind) << v.error().message;
    EXPECT_EQ(v.error().status, r.status);
    return v.error();
}

TEST(WsHandshake, Rfc13KeyAndAccept) {
    EXPECT_EQ(make_key(rfc_nonce()), "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(accept_for_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(kAcceptGuid, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"); // §1.3
    // A different key gives a different accept.
    std::array<uint8_t, 16> zeros{};
    EXPECT_EQ(make_key(zeros), "AAAAAAAAAAAAAAAAAAAAAA==");
    EXPECT_NE(accept_for_key(make_key(zeros)), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshake, Base64Rfc4648Vectors) {
    auto b64 = [](std::string_view s) {
        return base64_encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    };
    EXPECT_EQ(b64(""), "");
    EXPECT_EQ(b64("f"), "Zg==");
    EXPECT_EQ(b64("fo"), "Zm8=");
    EXPECT_EQ(b64("foo"), "Zm9v");
    EXPECT_EQ(b64("foob"), "Zm9vYg==");
    EXPECT_EQ(b64("fooba"), "Zm9vYmE=");
    EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
}

TEST(WsHandshake, RequestBytes) {
    auto h = build_handshake(openai_request(), rfc_nonce());
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(h->key, "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(h->request, "GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\n"
                          "Host: api.openai.com\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "Authorization: Bearer sk-secret-123\r\n"
                          "\r\n");
}

TEST(WsHandshake, RequestWithPortAndSubprotocols) {
    HandshakeRequest r;
    r.host = "[::1]:8081";
    r.target = "/";
    r.subprotocols = {"realtime", "chat.v2"};
    auto h = build_handshake(r, rfc_nonce());
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->request, "GET / HTTP/1.1\r\n"
                          "Host: [::1]:8081\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Protocol: realtime, chat.v2\r\n"
                          "\r\n");
    EXPECT_EQ(h->subprotocols, (std::vector<std::string>{"realtime", "chat.v2"}));
}

TEST(WsHandshake, InvalidRequestsNeverEchoHeaderValues) {
    auto invalid = [](HandshakeRequest r) {
        auto h = build_handshake(r, rfc_nonce());
        EXPECT_FALSE(h.ok());
        if (h.ok()) return std::string();
        EXPECT_EQ(h.error().kind, HandshakeErrorKind::invalid_request);
        return h.error().message;
    };
    HandshakeRequest r = openai_request();
    r.host = "";
    EXPECT_EQ(invalid(r), "invalid host");
    r.host = "evil\r\nX: y";
    EXPECT_EQ(invalid(r), "invalid host");
    r.host = "user@host";
    EXPECT_EQ(invalid(r), "invalid host");
    r = openai_request();
    r.target = "v1/realtime";
    EXPECT_EQ(invalid(r), "invalid request target");
    r.target = "/a b";
    EXPECT_EQ(invalid(r), "invalid request target");
    r.target = "/a#frag";
    EXPECT_EQ(invalid(r), "invalid request target");
    r = openai_request();
    r.headers = {{"Authorization", "Bearer sk-secret-123\r\nX-Injected: 1"}};
    const std::string msg = invalid(r);
    EXPECT_EQ(msg, "invalid value for header Authorization");
    EXPECT_EQ(msg.find("sk-secret"), std::string::npos);
    r.headers = {{"Bad Name", "x"}};
    EXPECT_EQ(invalid(r), "invalid header field name");
    for (const char* reserved : {"Host", "sec-websocket-key", "Connection", "Upgrade",
                                 "Sec-WebSocket-Extensions", "Content-Length"}) {
        r.headers = {{reserved, "x"}};
        EXPECT_EQ(invalid(r), std::string("header ") + reserved + " is set by the handshake");
    }
    r = openai_request();
    r.subprotocols = {"bad proto"};
    EXPECT_EQ(invalid(r), "invalid subprotocol");
}

TEST(WsHandshake, ValidResponse) {
    auto v = validate_response(good_response(), prepared());
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->subprotocol, "");
}

TEST(WsHandshake, UpgradeAndConnectionAreCaseInsensitiveTokens) {
    auto r = switching({{"upgrade", "WebSocket"},
                        {"connection", "keep-alive"},
                        {"Connection", "x, UPGRADE "},
                        {"sec-websocket-accept", " s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                        {"Sec-WebSocket-Extensions", ""}});
    EXPECT_TRUE(validate_response(r, prepared()).ok());
}

TEST(WsHandshake, NonSwitchingStatusIsRejectedWithBody) {
    http::ParsedResponse r;
    r.status = 401;
    r.reason = "Unauthorized";
    r.body = R"({"error":{"code":"invalid_api_key"}})";
    HandshakeError e = expect_invalid(r, HandshakeErrorKind::rejected);
    EXPECT_EQ(e.status, 401);
    EXPECT_EQ(e.body, r.body);
    EXPECT_EQ(e.message, "server answered 401 Unauthorized instead of 101");
    // Only the first 4 KiB of a body are kept; the reason phrase is made printable.
    r.status = 502;
    r.reason = "Bad\x01Gateway";
    r.body = std::string(10000, 'b');
    e = expect_invalid(r, HandshakeErrorKind::rejected);
    EXPECT_EQ(e.body.size(), kMaxErrorBody);
    EXPECT_EQ(e.message, "server answered 502 Bad?Gateway instead of 101");
    // A 200 is a refusal too (e.g. a proxy's page).
    r.status = 200;
    EXPECT_EQ(expect_invalid(r, HandshakeErrorKind::rejected).status, 200);
}

TEST(WsHandshake, MissingOrWrongUpgrade) {
    auto r = good_response();
    r.headers.erase(r.headers.begin());
    expect_invalid(r, HandshakeErrorKind::bad_upgrade);
    r = good_response();
    r.headers[0].value = "h2c";
    expect_invalid(r, HandshakeErrorKind::bad_upgrade);
    r.headers[0].value = "websocket, h2c";
    expect_invalid(r, HandshakeErrorKind::bad_upgrade);
}

TEST(WsHandshake, MissingConnectionUpgradeToken) {
    auto r = good_response();
    r.headers[1].value = "keep-alive";
    expect_invalid(r, HandshakeErrorKind::bad_connection);
    r.headers[1].value = "upgraded";
    expect_invalid(r, HandshakeErrorKind::bad_connection);
}

TEST(WsHandshake, WrongOrMissingAccept) {
    auto r = good_response();
    r.headers[2].value = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo"; // one character short
    EXPECT_EQ(expect_invalid(r, HandshakeErrorKind::bad_accept).message,
              "Sec-WebSocket-Accept does not match the key");
    r.headers[2].value = "S3PPLMBITXAQ9KYGZZHZRBK+XOO="; // base64 is case-sensitive
    expect_invalid(r, HandshakeErrorKind::bad_accept);
    r = good_response();
    r.headers.pop_back();
    EXPECT_EQ(expect_invalid(r, HandshakeErrorKind::bad_accept).message,
              "101 without Sec-WebSocket-Accept");
    r = good_response();
    r.headers.push_back(r.headers[2]);
    expect_invalid(r, HandshakeErrorKind::bad_accept);
    // The accept of another key.
    std::array<uint8_t, 16> other{};
    other[0] = 1;
    HandshakeRequest req = openai_request();
    auto h = build_handshake(req, other);
    ASSERT_TRUE(h.ok());
    expect_invalid(good_response(), HandshakeErrorKind::bad_accept, h.value());
}

TEST(WsHandshake, UnofferedExtensionOrSubprotocol) {
    auto r = good_response();
    r.headers.push_back({"Sec-WebSocket-Extensions", "permessage-deflate"});
    expect_invalid(r, HandshakeErrorKind::unexpected_extension);

    r = good_response();
    r.headers.push_back({"Sec-WebSocket-Protocol", "chat"});
    expect_invalid(r, HandshakeErrorKind::unexpected_subprotocol);
    expect_invalid(r, HandshakeErrorKind::unexpected_subprotocol, prepared({"realtime"}));
    auto ok = validate_response(r, prepared({"realtime", "chat"}));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->subprotocol, "chat");
    r.headers.back().value = "realtime, chat";
    expect_invalid(r, HandshakeErrorKind::unexpected_subprotocol, prepared({"realtime", "chat"}));
}

} // namespace
} // namespace wabridge::ws

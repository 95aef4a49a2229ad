// The client's opening handshake (RFC 6455 §4.1, §4.2.2): the HTTP/1.1 Upgrade request with a
// fresh Sec-WebSocket-Key, and the checks on the server's response, down to
// Sec-WebSocket-Accept = base64(SHA-1(key + GUID)). Pure functions: the random nonce comes from the
// caller, bytes come out. Header values (the caller's Authorization) never appear in errors.
#pragma once

#include "wabridge/net/http/message.hpp"
#include "wabridge/net/http/response_parser.hpp"
#include "wabridge/util/result.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::ws {

// The GUID every server appends to the key (§1.3, §4.2.2).
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// Up to this much of a refusal's body is kept in HandshakeError::body.
constexpr size_t kMaxErrorBody = 4096;

enum class HandshakeErrorKind {
    invalid_request,        // build_handshake: a field would not make a valid request
    malformed_response,     // the response is not parseable HTTP/1.1
    rejected,               // status other than 101: `status` and `body` say why
    bad_upgrade,            // no "Upgrade: websocket" (§4.1 item 2 of the response checks)
    bad_connection,         // no "upgrade" token in Connection (item 3)
    bad_accept,             // Sec-WebSocket-Accept missing or wrong (item 4)
    unexpected_extension,   // an extension the client did not offer (item 5)
    unexpected_subprotocol, // a subprotocol the client did not offer (item 6)
    incomplete,             // the connection ended before the response did
};

struct HandshakeError {
    HandshakeErrorKind kind = HandshakeErrorKind::malformed_response;
    std::string message; // one line
    int status = 0;      // the HTTP status, when a status line was read
    std::string body;    // rejected only: up to kMaxErrorBody bytes of the response body
};

struct HandshakeRequest {
    std::string host;                      // the Host value: "api.openai.com" or "[::1]:8080"
    std::string target;                    // origin-form path and query: "/v1/realtime?model=m"
    std::vector<http::Header> headers;     // extra fields in order, e.g. Authorization
    std::vector<std::string> subprotocols; // offered in Sec-WebSocket-Protocol (may be empty)
};

// What the client keeps to check the response, and the bytes to write.
struct PreparedHandshake {
    std::string request; // the complete HTTP/1.1 request, ready to write
    std::string key;     // Sec-WebSocket-Key as sent (24 base64 characters)
    std::vector<std::string> subprotocols;
};

// Base64 (RFC 4648 §4) with padding.
std::string base64_encode(const uint8_t* data, size_t size);

// §4.1: the key is the base64 of 16 random bytes; the caller draws them from the CSPRNG.
std::string make_key(const std::array<uint8_t, 16>& nonce);

// §4.2.2 item 5.4: base64(SHA-1(key + GUID)), computed with OpenSSL's EVP.
std::string accept_for_key(std::string_view key);

// §4.1: "GET <target> HTTP/1.1", Host, Upgrade: websocket, Connection: Upgrade,
// Sec-WebSocket-Key, Sec-WebSocket-Version: 13, Sec-WebSocket-Protocol when subprotocols are
// offered, then the extra headers. invalid_request when the host or target is empty or holds a
// space or control character, the target is not origin-form, a header name is not a token, a value
// holds CR, LF or another control character, a subprotocol is not a token, or an extra header
// would replace one the handshake writes itself.
Result<PreparedHandshake, HandshakeError> build_handshake(const HandshakeRequest& request,
                                                          const std::array<uint8_t, 16>& nonce);

// The accepted connection's parameters.
struct HandshakeResult {
    std::string subprotocol; // "" when the server chose none
};

// §4.1 (the client's checks on the server's handshake). A status other than 101 is `rejected`
// with the status and up to kMaxErrorBody bytes of body.
Result<HandshakeResult, HandshakeError> validate_response(const http::ParsedResponse& response,
                                                          const PreparedHandshake& handshake);

} // namespace wabridge::ws

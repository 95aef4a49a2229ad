// RFC 6455 §4.1 / §4.2.2 opening handshake, client side (see handshake.hpp).
#include "wabridge/net/ws/handshake.hpp"

#include "wabridge/util/text.hpp"

#include <climits>
#include <openssl/evp.h>

namespace wabridge::ws {

namespace {

bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ows(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back()))
        s.remove_suffix(1);
    return s;
}

// Printable ASCII only, no spaces: what a Host value or origin-form target may hold unescaped.
bool is_visible_ascii(std::string_view s) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7F) return false;
    }
    return true;
}

// Fields the handshake writes itself, or that would change the request's framing or the
// negotiation the response is checked against.
bool is_reserved(std::string_view name) {
    for (std::string_view r : {"host", "upgrade", "connection", "sec-websocket-key",
                               "sec-websocket-version", "sec-websocket-protocol",
                               "sec-websocket-extensions", "content-length", "transfer-encoding"}) {
        if (text::iequals(name, r)) return true;
    }
    return false;
}

// The comma-separated elements (RFC 9110 §5.6.1) of every field named `name`, trimmed, without
// empty ones.
std::vector<std::string_view> list_elements(const http::ParsedResponse& r, std::string_view name) {
    std::vector<std::string_view> out;
    for (std::string_view value : r.header_values(name)) {
        for (std::string_view element : text::split(value, ',')) {
            element = trim(element);
            if (!element.empty()) out.push_back(element);
        }
    }
    return out;
}

// A status line's reason phrase is peer text headed for logs: printable ASCII, bounded.
std::string printable(std::string_view s, size_t max) {
    std::string out;
    for (char c : s.substr(0, max)) {
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u >= 0x7F) ? '?' : c;
    }
    return out;
}

HandshakeError error(HandshakeErrorKind kind, std::string message, int status = 0) {
    return HandshakeError{kind, std::move(message), status, {}};
}

} // namespace

std::string base64_encode(const uint8_t* data, size_t size) {
    if (size > static_cast<size_t>(INT_MAX / 4 * 3 - 3)) return {};
    std::string out(4 * ((size + 2) / 3) + 1, '\0'); // EVP_EncodeBlock writes a trailing NUL
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
}

std::string make_key(const std::array<uint8_t, 16>& nonce) {
    return base64_encode(nonce.data(), nonce.size());
}

std::string accept_for_key(std::string_view key) {
    std::string input(key);
    input += kAcceptGuid;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    // One-shot EVP digest: no context handle outlives the call.
    if (EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr) != 1) {
        return {}; // never equal to a server's value, so the handshake fails closed
    }
    return base64_encode(digest, digest_len);
}

Result<PreparedHandshake, HandshakeError> build_handshake(const HandshakeRequest& request,
                                                          const std::array<uint8_t, 16>& nonce) {
    using K = HandshakeErrorKind;
    if (request.host.empty() || !is_visible_ascii(request.host) ||
        request.host.find_first_of("/?#@") != std::string::npos) {
        return err(error(K::invalid_request, "invalid host"));
    }
    // §3: the resource name is origin-form: "/" path [ "?" query ], no fragment.
    if (request.target.empty() || request.target.front() != '/' ||
        !is_visible_ascii(request.target) || request.target.find('#') != std::string::npos) {
        return err(error(K::invalid_request, "invalid request target"));
    }
    for (const std::string& p : request.subprotocols) {
        if (!http::is_token(p)) return err(error(K::invalid_request, "invalid subprotocol"));
    }
    for (const http::Header& h : request.headers) {
        if (!http::is_token(h.name)) {
            return err(error(K::invalid_request, "invalid header field name"));
        }
        if (is_reserved(h.name)) {
            return err(error(K::invalid_request, "header " + h.name + " is set by the handshake"));
        }
        // The value is not quoted: it may be a credential.
        if (!http::is_field_value(h.value)) {
            return err(error(K::invalid_request, "invalid value for header " + h.name));
        }
    }

    PreparedHandshake out;
    out.key = make_key(nonce);
    out.subprotocols = request.subprotocols;
    std::string& r = out.request;
    r.reserve(256 + request.target.size());
    r += "GET ";
    r += request.target;
    r += " HTTP/1.1\r\nHost: ";
    r += request.host;
    r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    r += out.key;
    r += "\r\nSec-WebSocket-Version: 13\r\n";
    if (!request.subprotocols.empty()) {
        r += "Sec-WebSocket-Protocol: ";
        for (size_t i = 0; i < request.subprotocols.size(); ++i) {
            if (i > 0) r += ", ";
            r += request.subprotocols[i];
        }
        r += "\r\n";
    }
    for (const http::Header& h : request.headers) {
        r += h.name;
        r += ": ";
        r += trim(h.value);
        r += "\r\n";
    }
    r += "\r\n";
    return out;
}

Result<HandshakeResult, HandshakeError> validate_response(const http::ParsedResponse& response,
                                                          const PreparedHandshake& handshake) {
    using K = HandshakeErrorKind;
    const int status = response.status;
    // §4.1: "If the status code received from the server is not 101, the client handles the
    // response per HTTP procedures" -- here: a typed error with what the server said.
    if (status != 101) {
        HandshakeError e = error(K::rejected,
                                 "server answered " + std::to_string(status) +
                                     (response.reason.empty() ? "" : " ") +
                                     printable(response.reason, 80) + " instead of 101",
                                 status);
        e.body = response.body.substr(0, kMaxErrorBody);
        return err(std::move(e));
    }
    const auto upgrade = list_elements(response, "Upgrade");
    if (upgrade.size() != 1 || !text::iequals(upgrade[0], "websocket")) {
        return err(error(K::bad_upgrade, "101 without \"Upgrade: websocket\"", status));
    }
    bool connection_upgrade = false;
    for (std::string_view token : list_elements(response, "Connection")) {
        if (text::iequals(token, "upgrade")) connection_upgrade = true;
    }
    if (!connection_upgrade) {
        return err(error(K::bad_connection, "101 without \"Connection: upgrade\"", status));
    }
    const auto accept = response.header_values("Sec-WebSocket-Accept");
    if (accept.size() != 1) {
        return err(error(K::bad_accept,
                         accept.empty() ? "101 without Sec-WebSocket-Accept"
                                        : "101 with several Sec-WebSocket-Accept fields",
                         status));
    }
    const std::string expected = accept_for_key(handshake.key);
    if (expected.empty() || trim(accept[0]) != expected) {
        return err(error(K::bad_accept, "Sec-WebSocket-Accept does not match the key", status));
    }
    // §4.1 item 5: the client offered no extension, so any in use fails the connection.
    if (!list_elements(response, "Sec-WebSocket-Extensions").empty()) {
        return err(
            error(K::unexpected_extension, "server selected an extension not offered", status));
    }
    // §4.1 item 6: a subprotocol, if any, must be one the client offered.
    HandshakeResult result;
    const auto protocols = list_elements(response, "Sec-WebSocket-Protocol");
    if (protocols.size() > 1) {
        return err(
            error(K::unexpected_subprotocol, "server selected several subprotocols", status));
    }
    if (protocols.size() == 1) {
        bool offered = false;
        for (const std::string& p : handshake.subprotocols) {
            if (p == protocols[0]) offered = true;
        }
        if (!offered) {
            return err(error(K::unexpected_subprotocol, "server selected a subprotocol not offered",
                             status));
        }
        result.subprotocol = std::string(protocols[0]);
    }
    return result;
}

} // namespace wabridge::ws

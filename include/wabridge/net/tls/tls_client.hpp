// A TLS client (TLS 1.2/1.3, RFC 8446) over OpenSSL memory BIOs, sans-IO: ciphertext bytes in
// and out, plaintext bytes in and out. It owns no socket; the caller moves bytes between it and
// a TCP stream. Used for wss:// to OpenAI and, later, HTTPS to the Graph API.
//
// Verification: the peer's chain against the system CA store (or `ca_file`, e.g. a test CA),
// and the end-entity certificate against `server_name` (RFC 6125 DNS name, or an IP literal
// matched against IP SANs). `server_name` also goes out as SNI (RFC 6066 §3) unless it is an IP
// literal, where SNI is not allowed.
#pragma once

#include "wabridge/util/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wabridge::tls {

struct TlsClientOptions {
    std::string server_name; // host name or IP literal of the server
    std::string ca_file;     // PEM bundle to trust instead of the system store; "" = system
    bool verify_peer = true; // false only for diagnostics; never by default
};

class TlsClient {
public:
    // Fails only when OpenSSL cannot be set up (out of memory, an unreadable ca_file).
    static Result<TlsClient, std::string> create(const TlsClientOptions& options);
    TlsClient(TlsClient&&) noexcept;
    TlsClient& operator=(TlsClient&&) noexcept;
    ~TlsClient();

    // Starts the handshake (the ClientHello is in take_output()).
    void start();
    // Bytes read from the socket.
    void on_bytes(std::span<const uint8_t> ciphertext);
    // Application data to send; buffered until the handshake completes.
    void write(std::span<const uint8_t> plaintext);
    // Sends close_notify (RFC 8446 §6.1). Further writes are dropped.
    void close();

    // Ciphertext to write to the socket (everything produced so far).
    std::vector<uint8_t> take_output();
    // Decrypted application data received so far.
    std::vector<uint8_t> take_plaintext();

    bool connected() const;
    // The peer sent close_notify.
    bool peer_closed() const;
    // Why the connection failed (a verification error names the certificate problem).
    const std::optional<std::string>& failure() const;
    // Plaintext accepted by write() but not yet encrypted (waiting for the handshake).
    size_t pending_plaintext() const;

private:
    struct State;
    explicit TlsClient(std::unique_ptr<State> state);
    void pump();
    std::unique_ptr<State> s_;
};

} // namespace wabridge::tls

// One outgoing byte stream on the event loop, for every client the bridge runs (the OpenAI
// WebSocket, HTTPS to the Graph API and to CALL_EVENTS_URL): the name resolved on the Resolver
// thread, a non-blocking connect to each resolved address in turn until one answers, then TLS
// over memory BIOs when asked. Plaintext goes in and comes out; the protocol above (WebSocket,
// HTTP) stays sans-IO.
#pragma once

#include "wabridge/loop/event_loop.hpp"
#include "wabridge/net/resolver.hpp"
#include "wabridge/net/tcp_stream.hpp"
#include "wabridge/net/tls/tls_client.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::net {

struct ClientTarget {
    std::string host; // name or IP literal (no brackets)
    uint16_t port = 0;
    bool tls = false;
    std::string ca_file; // PEM CAs to trust instead of the system store ("" = system)
    // Addresses to use instead of resolving `host` (still the TLS name), tried in order.
    std::vector<Endpoint> endpoints;
};

class ClientStream {
public:
    struct Callbacks {
        // TCP is connected (with TLS, the handshake is under way: send() may be called now
        // and its bytes go out once the handshake is done).
        std::function<void()> on_open;
        // Decrypted bytes from the server.
        std::function<void(std::string_view)> on_data;
        // Resolution, every connect, TLS or the connection failed or ended. No callback runs
        // after it; the stream may be destroyed inside it.
        std::function<void(const std::string& why)> on_closed;
    };

    // Starts resolving at once; everything else follows through the callbacks.
    ClientStream(loop::EventLoop& loop, Resolver& resolver, ClientTarget target,
                 Callbacks callbacks);
    ~ClientStream(); // closes without a callback
    ClientStream(const ClientStream&) = delete;
    ClientStream& operator=(const ClientStream&) = delete;

    // Queues plaintext for the server (buffered until connected).
    void send(std::string_view plaintext);
    // Bytes accepted by send() that have not reached the socket yet.
    size_t pending() const;
    bool connected() const { return open_; }
    // The address connected to ("" before), e.g. "127.0.0.1:8443".
    const std::string& peer() const { return peer_; }
    // Sends TLS close_notify (if any) and what is queued, then closes the socket. No callback.
    void close();

private:
    void on_resolved(Result<std::vector<Endpoint>, std::string> endpoints);
    void try_next();
    void on_tcp_connected();
    void on_tcp_data(std::span<const uint8_t> bytes);
    void on_tcp_closed(const std::string& why);
    void flush_tls();
    void fail(std::string why); // by value: it may name a member that fail() destroys

    loop::EventLoop& loop_;
    Resolver& resolver_;
    ClientTarget target_;
    Callbacks callbacks_;
    uint64_t resolve_id_ = 0;
    std::vector<Endpoint> endpoints_;
    size_t next_endpoint_ = 0;
    std::string failures_; // why earlier addresses failed, for the final message
    std::unique_ptr<TcpStream> tcp_;
    std::optional<tls::TlsClient> tls_;
    std::string queued_; // plaintext sent before the TCP connection is up
    bool open_ = false, done_ = false;
    std::string peer_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace wabridge::net

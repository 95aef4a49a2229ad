// The HTTP server's socket side: a listening socket and its connections on the event loop.
// Parsing, limits and timeouts are the sans-IO http::Connection's; this file only moves bytes,
// arms each connection's deadline as a loop timer, and closes sockets politely.
#pragma once

#include "wabridge/app/metrics.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/net/http/connection.hpp"
#include "wabridge/util/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace wabridge::http {

class Server {
public:
    using Handler = std::function<Response(const Request&, const loop::Now&)>;

    struct Settings {
        std::string bind_address = "0.0.0.0";
        uint16_t port = 8080; // 0: any free port (tests)
        Limits limits;
        size_t max_connections = 1024;
    };

    static Result<std::unique_ptr<Server>, std::string>
    start(loop::EventLoop& loop, Settings settings, Handler handler, MetricsRegistry& metrics);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    uint16_t port() const { return port_; }
    size_t open_connections() const { return connections_.size(); }

private:
    struct Client;
    Server(loop::EventLoop& loop, Settings settings, Handler handler, MetricsRegistry& metrics,
           int listen_fd, uint16_t port);
    void on_accept();
    void refuse(int fd);
    void on_client_event(int fd, uint32_t events);
    void progress(Client& c);
    void flush(Client& c);
    void arm_timer(Client& c);
    void begin_linger(Client& c);
    void close_client(int fd);

    loop::EventLoop& loop_;
    Settings settings_;
    Handler handler_;
    int listen_fd_;
    uint16_t port_;
    std::unordered_map<int, std::unique_ptr<Client>> connections_;
    Gauge& open_gauge_;
    Counter& accepted_;
    Counter& refused_;
};

} // namespace wabridge::http

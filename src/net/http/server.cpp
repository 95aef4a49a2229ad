#include "wabridge/net/http/server.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wabridge::http {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxReadPerWakeup = 1024 * 1024; // fairness between connections
constexpr auto kLinger = std::chrono::seconds(2);

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

struct Server::Client {
    int fd;
    Connection http;
    std::string out;
    loop::TimerId timer = 0;
    loop::TimePoint armed = loop::TimePoint::max();
    bool lingering = false; // response sent, write side shut, draining input before close
    Client(int f, const Limits& limits, loop::TimePoint now)
        : fd(f)
        , http(limits, now) {}
};

Result<std::unique_ptr<Server>, std::string>
Server::start(loop::EventLoop& loop, Settings settings, Handler handler, MetricsRegistry& metrics) {
    sockaddr_storage addr{};
    socklen_t len = 0;
    int family = AF_INET;
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (inet_pton(AF_INET, settings.bind_address.c_str(), &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(settings.port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, settings.bind_address.c_str(), &a6->sin6_addr) == 1) {
        family = AF_INET6;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(settings.port);
        len = sizeof *a6;
    } else {
        return err("bind address " + settings.bind_address + " is not an IP address");
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return err(errno_text("socket"));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 1024) != 0) {
        std::string e = "cannot listen on " + settings.bind_address + ":" +
                        std::to_string(settings.port) + ": " + std::strerror(errno);
        close(fd);
        return err(e);
    }
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
    uint16_t port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                            : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    std::unique_ptr<Server> server(
        new Server(loop, std::move(settings), std::move(handler), metrics, fd, port));
    auto watched = loop.watch(fd, EPOLLIN, [s = server.get()](uint32_t) { s->on_accept(); });
    if (!watched) return err(watched.error());
    return server;
}

Server::Server(loop::EventLoop& loop, Settings settings, Handler handler, MetricsRegistry& metrics,
               int listen_fd, uint16_t port)
    : loop_(loop)
    , settings_(std::move(settings))
    , handler_(std::move(handler))
    , listen_fd_(listen_fd)
    , port_(port)
    , open_gauge_(metrics.gauge("wabridge_http_connections_open", "Open control-plane connections"))
    , accepted_(metrics.counter("wabridge_http_connections_accepted_total",
                                "Control-plane connections accepted"))
    , refused_(metrics.counter("wabridge_http_connections_refused_total",
                               "Control-plane connections refused at HTTP_MAX_CONNECTIONS")) {}

Server::~Server() {
    std::vector<int> fds;
    for (const auto& [fd, c] : connections_)
        fds.push_back(fd);
    for (int fd : fds)
        close_client(fd);
    loop_.unwatch(listen_fd_);
    close(listen_fd_);
}

void Server::on_accept() {
    for (int i = 0; i < 64; ++i) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; // EAGAIN, or a transient error such as EMFILE: retried on next wake-up
        if (connections_.size() >= settings_.max_connections) {
            refuse(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto client = std::make_unique<Client>(fd, settings_.limits, loop_.now().mono);
        Client& c = *client;
        connections_.emplace(fd, std::move(client));
        auto watched = loop_.watch(fd, EPOLLIN | EPOLLRDHUP,
                                   [this, fd](uint32_t ev) { on_client_event(fd, ev); });
        if (!watched) {
            connections_.erase(fd);
            close(fd);
            continue;
        }
        accepted_.inc();
        open_gauge_.set(static_cast<double>(connections_.size()));
        arm_timer(c);
    }
}

// Over the connection cap: say so in one JSON 503 and close (best effort, never blocks).
void Server::refuse(int fd) {
    refused_.inc();
    Response r = error_response(503, "too_many_connections",
                                "the control plane has reached HTTP_MAX_CONNECTIONS");
    r.headers.push_back({"Retry-After", "1"});
    std::string bytes = serialize(r, false);
    [[maybe_unused]] ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_WR);
    close(fd);
}

void Server::on_client_event(int fd, uint32_t events) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    Client& c = *it->second;
    const loop::Now& now = loop_.now();

    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        char buf[kReadChunk];
        size_t total = 0;
        while (total < kMaxReadPerWakeup) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                total += static_cast<size_t>(n);
                if (!c.lingering)
                    c.http.on_bytes(std::string_view(buf, static_cast<size_t>(n)), now.mono);
                continue;
            }
            if (n == 0) { // EOF
                if (c.lingering) return close_client(fd);
                c.http.on_peer_closed();
                break;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            return close_client(fd); // ECONNRESET and the like
        }
        if (c.lingering) return;
    }
    progress(c);
}

// Hands complete requests to the handler, in order, and writes what the connection produced.
void Server::progress(Client& c) {
    const loop::Now& now = loop_.now();
    while (!c.http.awaiting_response()) {
        auto request = c.http.next_request();
        if (!request) break;
        c.http.respond(handler_(*request, now), now.mono);
    }
    flush(c);
}

void Server::flush(Client& c) {
    const int fd = c.fd;
    if (c.http.has_output()) c.out += c.http.take_output();
    while (!c.out.empty()) {
        ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return close_client(fd);
    }
    if (c.out.empty() && c.http.wants_close()) return begin_linger(c);
    // Wait for writability only while bytes are pending; stop reading once closing, or while the
    // connection holds back input (too many pipelined requests unanswered).
    bool read = !c.http.wants_close() && c.http.wants_read();
    uint32_t want = (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT)) |
                    (read ? static_cast<uint32_t>(EPOLLIN) : 0u);
    loop_.modify(fd, want | EPOLLRDHUP);
    arm_timer(c);
}

// RFC 9112 §9.6: close the write side first and read until the peer closes (or briefly), so a
// client still sending does not get a reset that destroys the response we just wrote.
void Server::begin_linger(Client& c) {
    if (c.lingering) return;
    c.lingering = true;
    shutdown(c.fd, SHUT_WR);
    loop_.modify(c.fd, EPOLLIN | EPOLLRDHUP);
    if (c.timer) loop_.cancel(c.timer);
    int fd = c.fd;
    c.timer = loop_.after(kLinger, [this, fd](loop::TimePoint) { close_client(fd); });
    c.armed = loop_.now().mono + kLinger;
}

void Server::arm_timer(Client& c) {
    if (c.lingering) return;
    loop::TimePoint deadline = c.http.deadline();
    if (deadline == c.armed) return;
    if (c.timer) loop_.cancel(c.timer);
    c.timer = 0;
    c.armed = deadline;
    if (deadline == loop::TimePoint::max()) return;
    int fd = c.fd;
    c.timer = loop_.at(deadline, [this, fd](loop::TimePoint now) {
        auto it = connections_.find(fd);
        if (it == connections_.end()) return;
        Client& cl = *it->second;
        cl.timer = 0;
        cl.armed = loop::TimePoint::max();
        cl.http.on_timeout(now);
        progress(cl);
    });
}

void Server::close_client(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    if (it->second->timer) loop_.cancel(it->second->timer);
    loop_.unwatch(fd);
    close(fd);
    connections_.erase(it);
    open_gauge_.set(static_cast<double>(connections_.size()));
}

} // namespace wabridge::http

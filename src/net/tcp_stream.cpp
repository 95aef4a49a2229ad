#include "wabridge/net/tcp_stream.hpp"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wabridge::net {

Result<std::unique_ptr<TcpStream>, std::string>
TcpStream::connect(loop::EventLoop& loop, const Endpoint& to, Callbacks callbacks) {
    const int fd =
        ::socket(to.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return err("socket: " + std::string(std::strerror(errno)));
    const int one = 1;
    // Small, latency-sensitive messages (20-40 ms audio appends): no Nagle delay.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&to.address), to.length);
    if (rc != 0 && errno != EINPROGRESS) {
        const std::string why = "connect " + to.text() + ": " + std::strerror(errno);
        ::close(fd);
        return err(why);
    }
    std::unique_ptr<TcpStream> s(new TcpStream(loop, fd, std::move(callbacks)));
    TcpStream* raw = s.get();
    auto watched = loop.watch(fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP,
                              [raw](uint32_t events) { raw->on_events(events); });
    if (!watched) {
        s->fd_ = -1;
        ::close(fd);
        return err(watched.error());
    }
    return s;
}

TcpStream::TcpStream(loop::EventLoop& loop, int fd, Callbacks callbacks)
    : loop_(loop)
    , fd_(fd)
    , callbacks_(std::move(callbacks)) {}

TcpStream::~TcpStream() {
    *alive_ = false;
    close();
}

void TcpStream::close() {
    if (fd_ < 0) return;
    loop_.unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
}

void TcpStream::write(std::span<const uint8_t> bytes) {
    if (fd_ < 0) return;
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    if (connected_) flush();
}

void TcpStream::fail(const std::string& why) {
    close();
    if (callbacks_.on_closed) callbacks_.on_closed(why);
}

void TcpStream::on_events(uint32_t events) {
    std::weak_ptr<bool> alive = alive_;
    if (!connected_) {
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) return fail(std::string("connect: ") + std::strerror(error));
        if (!(events & (EPOLLOUT | EPOLLIN))) return;
        connected_ = true;
        if (callbacks_.on_connected) callbacks_.on_connected();
        if (alive.expired() || fd_ < 0) return;
        flush();
        if (alive.expired() || fd_ < 0) return;
    }
    if (events & EPOLLOUT) {
        flush();
        if (alive.expired() || fd_ < 0) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        uint8_t buf[16384];
        while (true) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                if (callbacks_.on_data) callbacks_.on_data(std::span(buf, static_cast<size_t>(n)));
                if (alive.expired() || fd_ < 0) return;
                continue;
            }
            if (n == 0) return fail("closed by peer");
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            return fail(std::string("recv: ") + std::strerror(errno));
        }
    }
}

void TcpStream::flush() {
    while (fd_ >= 0 && out_offset_ < out_.size()) {
        const ssize_t n =
            ::send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL);
        if (n > 0) {
            out_offset_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == EINTR) continue;
        return fail(std::string("send: ") + std::strerror(errno));
    }
    if (out_offset_ == out_.size()) {
        out_.clear();
        out_offset_ = 0;
    } else if (out_offset_ > 65536) {
        out_.erase(out_.begin(), out_.begin() + static_cast<long>(out_offset_));
        out_offset_ = 0;
    }
    update_interest();
}

void TcpStream::update_interest() {
    if (fd_ < 0) return;
    const bool want = !connected_ || pending_write() > 0;
    if (want == want_out_) return;
    want_out_ = want;
    loop_.modify(fd_, EPOLLIN | EPOLLRDHUP | (want ? uint32_t{EPOLLOUT} : uint32_t{0}));
}

} // namespace wabridge::net

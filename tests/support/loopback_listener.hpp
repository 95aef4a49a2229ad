// A TCP listening socket on 127.0.0.1 with a kernel-chosen port, for tests of outgoing
// connections; and the Endpoint of a loopback port.
#pragma once

#include "wabridge/net/resolver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wabridge::test {

struct LoopbackListener {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port = 0;
    LoopbackListener() {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd, 16);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~LoopbackListener() { ::close(fd); }
    LoopbackListener(const LoopbackListener&) = delete;
    LoopbackListener& operator=(const LoopbackListener&) = delete;
};

inline net::Endpoint loopback_endpoint(uint16_t port) {
    return net::resolve_now("127.0.0.1", port, true).value()[0];
}

// A port that nothing listens on any more (bound, then closed).
inline uint16_t closed_loopback_port() {
    LoopbackListener l;
    return l.port;
}

} // namespace wabridge::test

#include "wabridge/net/tcp_stream.hpp"

#include "support/loopback_listener.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wabridge::net {
namespace {

using namespace std::chrono_literals;

using Listener = test::LoopbackListener;

Endpoint loopback(uint16_t port) {
    return test::loopback_endpoint(port);
}

TEST(TcpStream, ConnectsWritesReadsAndSeesThePeerClose) {
    auto loop = std::move(loop::EventLoop::create().value());
    Listener l;
    bool connected = false;
    std::string received, closed;
    TcpStream::Callbacks cb;
    cb.on_connected = [&] { connected = true; };
    cb.on_data = [&](std::span<const uint8_t> d) { received.append(d.begin(), d.end()); };
    cb.on_closed = [&](const std::string& why) { closed = why; };
    auto s = std::move(TcpStream::connect(*loop, loopback(l.port), cb).value());
    const std::string hello = "hello over tcp";
    s->write(std::span(reinterpret_cast<const uint8_t*>(hello.data()), hello.size()));
    for (int i = 0; i < 50 && !connected; ++i)
        loop->run_once(10ms);
    ASSERT_TRUE(connected);
    const int peer = ::accept(l.fd, nullptr, nullptr);
    ASSERT_GE(peer, 0);
    char buf[64] = {};
    for (int i = 0; i < 50 && s->pending_write() > 0; ++i)
        loop->run_once(10ms);
    ASSERT_EQ(::recv(peer, buf, sizeof buf, 0), static_cast<ssize_t>(hello.size()));
    EXPECT_EQ(std::string(buf, hello.size()), hello);
    ASSERT_EQ(::send(peer, "pong", 4, 0), 4);
    for (int i = 0; i < 50 && received.size() < 4; ++i)
        loop->run_once(10ms);
    EXPECT_EQ(received, "pong");
    ::close(peer);
    for (int i = 0; i < 50 && closed.empty(); ++i)
        loop->run_once(10ms);
    EXPECT_EQ(closed, "closed by peer");
}

TEST(TcpStream, RefusedConnectIsReportedOnce) {
    auto loop = std::move(loop::EventLoop::create().value());
    uint16_t port = 0;
    {
        Listener l; // bound then closed: nothing listens on this port any more
        port = l.port;
    }
    int closes = 0;
    std::string why;
    TcpStream::Callbacks cb;
    cb.on_closed = [&](const std::string& w) {
        ++closes;
        why = w;
    };
    auto s = std::move(TcpStream::connect(*loop, loopback(port), cb).value());
    for (int i = 0; i < 50 && closes == 0; ++i)
        loop->run_once(10ms);
    EXPECT_EQ(closes, 1);
    EXPECT_NE(why.find("refused"), std::string::npos) << why;
    for (int i = 0; i < 5; ++i)
        loop->run_once(1ms);
    EXPECT_EQ(closes, 1);
}

TEST(TcpStream, DestroyingTheStreamInsideItsCallbackIsSafe) {
    auto loop = std::move(loop::EventLoop::create().value());
    Listener l;
    std::unique_ptr<TcpStream> s;
    bool data = false;
    TcpStream::Callbacks cb;
    cb.on_data = [&](std::span<const uint8_t>) {
        data = true;
        s.reset();
    };
    s = std::move(TcpStream::connect(*loop, loopback(l.port), cb).value());
    for (int i = 0; i < 20 && !s->connected(); ++i)
        loop->run_once(10ms);
    const int peer = ::accept(l.fd, nullptr, nullptr);
    ::send(peer, "xyz", 3, 0);
    ::close(peer);
    for (int i = 0; i < 20 && !data; ++i)
        loop->run_once(10ms);
    EXPECT_TRUE(data);
    EXPECT_FALSE(s);
}

} // namespace
} // namespace wabridge::net

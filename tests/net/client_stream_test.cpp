#include "wabridge/net/client_stream.hpp"

#include "support/loopback_listener.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <unistd.h>

namespace wabridge::net {
namespace {

using namespace std::chrono_literals;

using Listener = test::LoopbackListener;

uint16_t closed_port() {
    return test::closed_loopback_port();
}

Endpoint loopback(uint16_t port) {
    return test::loopback_endpoint(port);
}

TEST(ClientStream, TriesTheNextAddressWhenOneRefuses) {
    auto loop = std::move(loop::EventLoop::create().value());
    Resolver resolver(*loop);
    Listener l;
    const uint16_t dead = closed_port();
    bool opened = false;
    std::string received, closed;
    ClientStream::Callbacks cb;
    cb.on_open = [&] { opened = true; };
    cb.on_data = [&](std::string_view d) { received.append(d); };
    cb.on_closed = [&](const std::string& why) { closed = why; };
    ClientTarget target{"127.0.0.1", l.port, false, "", {loopback(dead), loopback(l.port)}};
    ClientStream s(*loop, resolver, target, cb);
    s.send("early bytes"); // queued before the connection exists
    for (int i = 0; i < 100 && !opened; ++i)
        loop->run_once(10ms);
    ASSERT_TRUE(opened) << closed;
    EXPECT_EQ(s.peer(), "127.0.0.1:" + std::to_string(l.port));
    const int peer = ::accept(l.fd, nullptr, nullptr);
    ASSERT_GE(peer, 0);
    for (int i = 0; i < 50 && s.pending() > 0; ++i)
        loop->run_once(10ms);
    char buf[64] = {};
    ASSERT_EQ(::recv(peer, buf, sizeof buf, 0), 11);
    EXPECT_EQ(std::string(buf, 11), "early bytes");
    ASSERT_EQ(::send(peer, "reply", 5, 0), 5);
    for (int i = 0; i < 50 && received.size() < 5; ++i)
        loop->run_once(10ms);
    EXPECT_EQ(received, "reply");
    EXPECT_TRUE(closed.empty());
    ::close(peer);
    for (int i = 0; i < 50 && closed.empty(); ++i)
        loop->run_once(10ms);
    EXPECT_EQ(closed, "closed by peer");
}

TEST(ClientStream, EveryAddressRefusedIsOneFailureNamingThemAll) {
    auto loop = std::move(loop::EventLoop::create().value());
    Resolver resolver(*loop);
    const uint16_t a = closed_port(), b = closed_port();
    int closes = 0, opens = 0;
    std::string why;
    ClientStream::Callbacks cb;
    cb.on_open = [&] { ++opens; };
    cb.on_closed = [&](const std::string& w) {
        ++closes;
        why = w;
    };
    ClientStream s(*loop, resolver, {"127.0.0.1", a, false, "", {loopback(a), loopback(b)}}, cb);
    for (int i = 0; i < 100 && closes == 0; ++i)
        loop->run_once(10ms);
    for (int i = 0; i < 5; ++i)
        loop->run_once(5ms);
    EXPECT_EQ(closes, 1);
    EXPECT_EQ(opens, 0);
    // Both attempts are in the message, in order.
    EXPECT_NE(why.find("refused"), std::string::npos) << why;
    EXPECT_NE(why.find(';'), std::string::npos) << why;
}

TEST(ClientStream, ResolvesANameAndCanBeDestroyedFromItsOwnCallback) {
    auto loop = std::move(loop::EventLoop::create().value());
    Resolver resolver(*loop);
    const uint16_t dead = closed_port();
    std::unique_ptr<ClientStream> s;
    std::string why;
    ClientStream::Callbacks cb;
    cb.on_closed = [&](const std::string& w) {
        why = w;
        s.reset(); // allowed: no member of the stream is touched after on_closed
    };
    s = std::make_unique<ClientStream>(*loop, resolver, ClientTarget{"localhost", dead, false, "", {}},
                                       cb);
    for (int i = 0; i < 200 && s; ++i)
        loop->run_once(10ms);
    EXPECT_EQ(s, nullptr);
    EXPECT_NE(why.find("refused"), std::string::npos) << why;
}

} // namespace
} // namespace wabridge::net

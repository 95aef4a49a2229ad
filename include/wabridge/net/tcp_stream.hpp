// An outgoing TCP connection on the event loop: non-blocking connect, buffered writes (EPOLLOUT
// only while something is pending), reads handed to a callback. The only part of the WebSocket
// client with a file descriptor; TLS and WebSocket framing sit above it, sans-IO.
#pragma once

#include "wabridge/loop/event_loop.hpp"
#include "wabridge/net/resolver.hpp"
#include "wabridge/util/result.hpp"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace wabridge::net {

class TcpStream {
public:
    struct Callbacks {
        std::function<void()> on_connected;
        std::function<void(std::span<const uint8_t>)> on_data;
        // The connection failed or ended (peer closed, reset, connect refused). After this no
        // callback runs again; the stream may be destroyed inside it.
        std::function<void(const std::string& why)> on_closed;
    };

    // Starts a non-blocking connect; the result comes through the callbacks.
    static Result<std::unique_ptr<TcpStream>, std::string>
    connect(loop::EventLoop& loop, const Endpoint& to, Callbacks callbacks);
    ~TcpStream(); // closes the socket, no callback
    TcpStream(const TcpStream&) = delete;
    TcpStream& operator=(const TcpStream&) = delete;

    // Queues bytes; they go out as the socket accepts them.
    void write(std::span<const uint8_t> bytes);
    size_t pending_write() const { return out_.size() - out_offset_; }
    bool connected() const { return connected_; }
    // Closes now (no callback).
    void close();

private:
    TcpStream(loop::EventLoop& loop, int fd, Callbacks callbacks);
    void on_events(uint32_t events);
    void flush();
    void fail(const std::string& why);
    void update_interest();

    loop::EventLoop& loop_;
    int fd_;
    Callbacks callbacks_;
    bool connected_ = false;
    bool want_out_ = true;
    std::vector<uint8_t> out_;
    size_t out_offset_ = 0;
    // Destroyed-while-dispatching guard: callbacks may delete this stream.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace wabridge::net

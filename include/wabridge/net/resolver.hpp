// Name resolution that never blocks the loop: getaddrinfo runs on one worker thread, and each
// answer is posted back to the loop (EventLoop::post, the loop's only cross-thread entry point),
// where its callback runs. A request can be cancelled; a cancelled answer is dropped on the loop
// thread, so a callback never runs after its owner cancelled it.
#pragma once

#include "wabridge/loop/event_loop.hpp"
#include "wabridge/util/result.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unordered_map>
#include <vector>

namespace wabridge::net {

struct Endpoint {
    sockaddr_storage address{};
    socklen_t length = 0;
    std::string text() const; // "127.0.0.1:8443", "[::1]:8443"
};

class Resolver {
public:
    using Callback = std::function<void(Result<std::vector<Endpoint>, std::string>)>;
    explicit Resolver(loop::EventLoop& loop);
    ~Resolver(); // stops and joins the worker; pending answers are dropped
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // TCP endpoints for host:port, IPv4 and IPv6 in getaddrinfo's order. An IP literal is
    // answered without the worker (still asynchronously, on the next loop turn).
    uint64_t resolve(const std::string& host, uint16_t port, Callback callback);
    void cancel(uint64_t id);

private:
    struct Job {
        uint64_t id;
        std::string host;
        uint16_t port;
    };
    // Callbacks waiting for answers, loop thread only. Posted answers hold it weakly, so an
    // answer that reaches the loop after the Resolver is gone finds nothing and is dropped.
    struct Pending {
        std::unordered_map<uint64_t, Callback> callbacks;
        void deliver(uint64_t id, Result<std::vector<Endpoint>, std::string> result);
    };
    void work();
    void post_answer(uint64_t id, Result<std::vector<Endpoint>, std::string> result);

    loop::EventLoop& loop_;
    std::shared_ptr<Pending> pending_ = std::make_shared<Pending>();
    uint64_t next_id_ = 1;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::thread worker_;
};

// getaddrinfo for one host:port, blocking (the worker's job; public for tests).
Result<std::vector<Endpoint>, std::string> resolve_now(const std::string& host, uint16_t port,
                                                       bool numeric_only);

} // namespace wabridge::net

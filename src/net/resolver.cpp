#include "wabridge/net/resolver.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <memory>
#include <netdb.h>

namespace wabridge::net {

std::string Endpoint::text() const {
    char host[INET6_ADDRSTRLEN] = {};
    uint16_t port = 0;
    if (address.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&address);
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        return std::string(host) + ":" + std::to_string(port);
    }
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
}

Result<std::vector<Endpoint>, std::string> resolve_now(const std::string& host, uint16_t port,
                                                       bool numeric_only) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (numeric_only ? AI_NUMERICHOST : 0);
    addrinfo* list = nullptr;
    const std::string service = std::to_string(port);
    const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
    if (rc != 0) return err("cannot resolve " + host + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(list, freeaddrinfo);
    std::vector<Endpoint> out;
    for (addrinfo* ai = list; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
        Endpoint e;
        std::memcpy(&e.address, ai->ai_addr, ai->ai_addrlen);
        e.length = ai->ai_addrlen;
        out.push_back(e);
    }
    if (out.empty()) return err("no address for " + host);
    return out;
}

Resolver::Resolver(loop::EventLoop& loop)
    : loop_(loop)
    , worker_([this] { work(); }) {}

Resolver::~Resolver() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        jobs_.clear();
    }
    wake_.notify_all();
    worker_.join();
}

uint64_t Resolver::resolve(const std::string& host, uint16_t port, Callback callback) {
    const uint64_t id = next_id_++;
    pending_->callbacks.emplace(id, std::move(callback));
    auto literal = resolve_now(host, port, true);
    if (literal) {
        post_answer(id, std::move(literal));
        return id;
    }
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back({id, host, port});
    }
    wake_.notify_one();
    return id;
}

void Resolver::cancel(uint64_t id) {
    pending_->callbacks.erase(id);
}

void Resolver::post_answer(uint64_t id, Result<std::vector<Endpoint>, std::string> result) {
    std::weak_ptr<Pending> pending = pending_;
    loop_.post([pending, id, r = std::move(result)]() mutable {
        if (auto p = pending.lock()) p->deliver(id, std::move(r));
    });
}

void Resolver::work() {
    while (true) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        // post_answer only reads pending_ (set before the thread starts) and the loop, whose
        // post() is thread-safe.
        post_answer(job.id, resolve_now(job.host, job.port, false));
    }
}

void Resolver::Pending::deliver(uint64_t id, Result<std::vector<Endpoint>, std::string> result) {
    auto it = callbacks.find(id);
    if (it == callbacks.end()) return; // cancelled
    Callback cb = std::move(it->second);
    callbacks.erase(it);
    cb(std::move(result));
}

} // namespace wabridge::net

// ClientStream: resolve, connect to each address in turn (RFC 8305's "try the next address",
// without the parallel racing), optional TLS. See client_stream.hpp.
#include "wabridge/net/client_stream.hpp"

namespace wabridge::net {

namespace {
std::span<const uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
} // namespace

ClientStream::ClientStream(loop::EventLoop& loop, Resolver& resolver, ClientTarget target,
                           Callbacks callbacks)
    : loop_(loop)
    , resolver_(resolver)
    , target_(std::move(target))
    , callbacks_(std::move(callbacks)) {
    std::weak_ptr<bool> alive = alive_;
    if (!target_.endpoints.empty()) {
        // Known addresses: connect on the next loop turn (never inside the caller's call).
        loop_.after(std::chrono::milliseconds(0), [this, alive](loop::TimePoint) {
            if (alive.expired() || done_) return;
            on_resolved(std::vector<Endpoint>(target_.endpoints));
        });
        return;
    }
    resolve_id_ = resolver_.resolve(target_.host, target_.port, [this, alive](auto endpoints) {
        if (alive.expired()) return;
        resolve_id_ = 0;
        on_resolved(std::move(endpoints));
    });
}

ClientStream::~ClientStream() {
    *alive_ = false;
    if (resolve_id_) resolver_.cancel(resolve_id_);
}

void ClientStream::on_resolved(Result<std::vector<Endpoint>, std::string> endpoints) {
    if (!endpoints) return fail(endpoints.error());
    endpoints_ = std::move(endpoints.value());
    if (endpoints_.empty()) return fail("no address for " + target_.host);
    try_next();
}

void ClientStream::try_next() {
    while (next_endpoint_ < endpoints_.size()) {
        const Endpoint& to = endpoints_[next_endpoint_++];
        TcpStream::Callbacks cb;
        cb.on_connected = [this] { on_tcp_connected(); };
        cb.on_data = [this](std::span<const uint8_t> d) { on_tcp_data(d); };
        cb.on_closed = [this](const std::string& why) { on_tcp_closed(why); };
        auto tcp = TcpStream::connect(loop_, to, std::move(cb));
        if (tcp) {
            tcp_ = std::move(tcp.value());
            peer_ = to.text();
            return;
        }
        failures_ += (failures_.empty() ? "" : "; ") + tcp.error();
    }
    fail(failures_.empty() ? "no address to connect to" : failures_);
}

void ClientStream::on_tcp_connected() {
    if (target_.tls) {
        auto tls = tls::TlsClient::create({target_.host, target_.ca_file, true});
        if (!tls) return fail(tls.error());
        tls_.emplace(std::move(tls.value()));
        tls_->start();
    }
    open_ = true;
    std::string early = std::move(queued_);
    queued_.clear();
    if (!early.empty()) send(early);
    flush_tls();
    if (callbacks_.on_open) callbacks_.on_open();
}

void ClientStream::send(std::string_view plaintext) {
    if (done_) return;
    if (!open_) {
        queued_.append(plaintext);
        return;
    }
    if (tls_) {
        tls_->write(bytes_of(plaintext));
        flush_tls();
    } else {
        tcp_->write(bytes_of(plaintext));
    }
}

void ClientStream::flush_tls() {
    if (!tls_ || !tcp_) return;
    auto cipher = tls_->take_output();
    if (!cipher.empty()) tcp_->write(cipher);
}

size_t ClientStream::pending() const {
    return queued_.size() + (tls_ ? tls_->pending_plaintext() : 0) +
           (tcp_ ? tcp_->pending_write() : 0);
}

void ClientStream::on_tcp_data(std::span<const uint8_t> bytes) {
    std::weak_ptr<bool> alive = alive_;
    if (!tls_) {
        if (callbacks_.on_data)
            callbacks_.on_data(
                std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        return;
    }
    tls_->on_bytes(bytes);
    if (const auto& f = tls_->failure()) return fail(*f);
    flush_tls(); // handshake messages, key updates
    auto plain = tls_->take_plaintext();
    if (!plain.empty() && callbacks_.on_data)
        callbacks_.on_data(
            std::string_view(reinterpret_cast<const char*>(plain.data()), plain.size()));
    if (alive.expired() || done_) return;
    if (tls_ && tls_->peer_closed()) fail("TLS close_notify");
}

void ClientStream::on_tcp_closed(const std::string& why) {
    if (!open_ && !done_ && next_endpoint_ < endpoints_.size()) {
        // The connect to this address failed: the next one may answer.
        failures_ += (failures_.empty() ? "" : "; ") + why;
        tcp_.reset();
        peer_.clear();
        return try_next();
    }
    fail(open_ ? why : (failures_.empty() ? why : failures_ + "; " + why));
}

void ClientStream::fail(std::string why) {
    if (done_) return;
    done_ = true;
    open_ = false;
    if (resolve_id_) resolver_.cancel(resolve_id_);
    resolve_id_ = 0;
    // Destroying the TcpStream from inside its own callback is allowed (it guards itself).
    tcp_.reset();
    tls_.reset();
    auto on_closed = std::move(callbacks_.on_closed);
    callbacks_ = {};
    if (on_closed) on_closed(why);
}

void ClientStream::close() {
    if (done_) return;
    done_ = true;
    if (resolve_id_) resolver_.cancel(resolve_id_);
    resolve_id_ = 0;
    if (tls_ && tcp_) {
        tls_->close();
        flush_tls();
    }
    tls_.reset();
    tcp_.reset(); // TcpStream::close: queued bytes are best effort only
    open_ = false;
    callbacks_ = {};
}

} // namespace wabridge::net

// The load bench's lean Realtime server (see realtime_load_fake.hpp).
#include "realtime_load_fake.hpp"

#include "wabridge/ai/base64.hpp"
#include "wabridge/net/ws/handshake.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wabridge::bench {

namespace {
constexpr size_t kMaxMessage = 16 * 1024 * 1024;
constexpr size_t kMaxHandshake = 16 * 1024;

bool contains(std::string_view text, std::string_view needle) {
    return text.find(needle) != std::string_view::npos;
}

// RFC 6455 §4.2.1: the client's Sec-WebSocket-Key, header names compared case-insensitively.
std::string websocket_key(std::string_view request) {
    size_t pos = 0;
    while (pos < request.size()) {
        size_t eol = request.find("\r\n", pos);
        if (eol == std::string_view::npos) break;
        std::string_view line = request.substr(pos, eol - pos);
        pos = eol + 2;
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        for (char& ch : name)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (name != "sec-websocket-key") continue;
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
            value.remove_suffix(1);
        return std::string(value);
    }
    return {};
}
} // namespace

struct RealtimeLoadFake::Conn {
    enum class Phase { handshake, configuring, before_reply, streaming, before_barge_in };
    int fd = -1;
    std::string in, out, message;
    uint8_t message_opcode = 0;
    bool watching_out = false;
    Phase phase = Phase::handshake;
    loop::TimePoint cycle_start{};
    size_t next_delta = 0;
    uint64_t reply = 0;
    loop::TimerId timer = 0;
};

RealtimeLoadFake::RealtimeLoadFake(loop::EventLoop& loop, FakeScript script)
    : loop_(loop)
    , script_(std::move(script)) {}

RealtimeLoadFake::~RealtimeLoadFake() {
    while (!conns_.empty())
        close(conns_.begin()->first);
    if (listen_fd_ >= 0) {
        loop_.unwatch(listen_fd_);
        ::close(listen_fd_);
    }
}

Result<std::unique_ptr<RealtimeLoadFake>, std::string>
RealtimeLoadFake::create(loop::EventLoop& loop, uint16_t port, FakeScript script) {
    std::unique_ptr<RealtimeLoadFake> fake(new RealtimeLoadFake(loop, std::move(script)));
    const size_t per_delta = static_cast<size_t>(24 * fake->script_.delta.count());
    const auto& pcm = fake->script_.reply_audio;
    for (size_t at = 0; at < pcm.size(); at += per_delta) {
        const size_t n = std::min(per_delta, pcm.size() - at);
        fake->delta_b64_.push_back(ai::base64_encode(std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(pcm.data() + at), n * sizeof(int16_t))));
    }
    if (fake->delta_b64_.empty()) return err(std::string("fake: no reply audio"));

    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return err(std::string("fake: socket: ") + std::strerror(errno));
    fake->listen_fd_ = fd;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1024) != 0)
        return err(std::string("fake: bind/listen: ") + std::strerror(errno));
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    fake->port_ = ntohs(a.sin_port);
    RealtimeLoadFake* self = fake.get();
    auto watched = loop.watch(fd, EPOLLIN, [self](uint32_t) { self->on_accept(); });
    if (!watched) return err("fake: " + watched.error());
    return fake;
}

void RealtimeLoadFake::on_accept() {
    while (true) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto conn = std::make_unique<Conn>();
        conn->fd = fd;
        conns_[fd] = std::move(conn);
        ++stats_.connections;
        (void)loop_.watch(fd, EPOLLIN, [this, fd](uint32_t events) {
            if (events & EPOLLOUT) on_writable(fd);
            if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(fd);
        });
    }
}

void RealtimeLoadFake::on_readable(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    char buf[65536];
    while (true) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            c.in.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return close(fd);
        break;
    }
    if (c.phase == Conn::Phase::handshake && !handshake(c)) return;
    if (c.phase != Conn::Phase::handshake) on_frames(c);
}

bool RealtimeLoadFake::handshake(Conn& c) {
    const size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (c.in.size() > kMaxHandshake) close(c.fd);
        return false;
    }
    const std::string key = websocket_key(std::string_view(c.in).substr(0, end + 2));
    if (key.empty()) {
        ++stats_.bad_frames;
        close(c.fd);
        return false;
    }
    c.in.erase(0, end + 4);
    c.out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: " +
             ws::accept_for_key(key) + "\r\n\r\n";
    c.phase = Conn::Phase::configuring;
    send_text(c, "{\"type\":\"session.created\",\"event_id\":\"" + event_id() +
                     "\",\"session\":{\"type\":\"realtime\",\"object\":\"realtime.session\","
                     "\"id\":\"sess_load\",\"model\":\"gpt-realtime\"}}");
    return true;
}

// RFC 6455 §5.2/§5.3: client frames are always masked.
void RealtimeLoadFake::on_frames(Conn& c) {
    const int fd = c.fd;
    size_t pos = 0;
    while (c.in.size() - pos >= 2) {
        const auto* p = reinterpret_cast<const uint8_t*>(c.in.data() + pos);
        const bool fin = (p[0] & 0x80) != 0;
        const uint8_t opcode = p[0] & 0x0f;
        if ((p[1] & 0x80) == 0) {
            ++stats_.bad_frames;
            return close(fd);
        }
        uint64_t length = p[1] & 0x7f;
        size_t header = 2;
        if (length == 126) header += 2;
        if (length == 127) header += 8;
        header += 4;
        if (c.in.size() - pos < header) break;
        if (length == 126) length = (uint64_t(p[2]) << 8) | p[3];
        if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = (length << 8) | p[2 + i];
        }
        if (length > kMaxMessage) {
            ++stats_.bad_frames;
            return close(fd);
        }
        if (c.in.size() - pos - header < length) break;
        const uint8_t* mask = p + header - 4;
        std::string payload(c.in.data() + pos + header, length);
        for (size_t i = 0; i < payload.size(); ++i)
            payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
        pos += header + length;

        if (opcode == 0x8) { // §5.5.1: answer the close, then drop the connection
            std::string frame = "\x88\x02\x03\xe8";
            ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
            return close(fd);
        }
        if (opcode == 0x9) { // §5.5.2 ping -> pong
            c.out.push_back(static_cast<char>(0x8a));
            c.out.push_back(static_cast<char>(payload.size()));
            c.out += payload;
            continue;
        }
        if (opcode == 0xa) continue;
        if (opcode == 0x1 || opcode == 0x2) {
            c.message = std::move(payload);
            c.message_opcode = opcode;
        } else if (opcode == 0x0) {
            c.message += payload;
        }
        if (fin && c.message_opcode == 0x1) {
            on_text(c, c.message);
            if (conns_.find(fd) == conns_.end()) return;
            c.message.clear();
        }
    }
    c.in.erase(0, pos);
    flush(c);
}

void RealtimeLoadFake::on_text(Conn& c, std::string_view text) {
    if (contains(text, "\"type\":\"input_audio_buffer.append\"")) {
        ++stats_.appends;
        const size_t at = text.find("\"audio\":\"");
        if (at != std::string_view::npos) {
            const size_t end = text.find('"', at + 9);
            if (end != std::string_view::npos) stats_.append_bytes += end - (at + 9);
        }
    } else if (contains(text, "\"type\":\"session.update\"")) {
        ++stats_.sessions_updated;
        send_text(c, "{\"type\":\"session.updated\",\"event_id\":\"" + event_id() +
                         "\",\"session\":{\"type\":\"realtime\",\"object\":\"realtime.session\","
                         "\"id\":\"sess_load\",\"model\":\"gpt-realtime\"}}");
        if (c.phase == Conn::Phase::configuring) {
            // Each conversation enters its cycle at a random point, so that N calls placed
            // within a few seconds do not all reply at the same time.
            c.phase = Conn::Phase::before_reply;
            std::uniform_int_distribution<int64_t> phase(0, script_.cycle.count() - 1);
            c.cycle_start = loop_.now().mono - std::chrono::milliseconds(phase(rng_));
            if (c.cycle_start + script_.reply_at < loop_.now().mono) c.cycle_start += script_.cycle;
            schedule(c, c.cycle_start + script_.reply_at);
        }
    } else if (contains(text, "\"type\":\"conversation.item.truncate\"")) {
        ++stats_.truncates;
    } else if (contains(text, "\"type\":\"response.cancel\"")) {
        ++stats_.cancels;
    } else {
        ++stats_.other_events;
    }
}

// RFC 6455 §5.2: one unmasked text frame, minimal length encoding.
void RealtimeLoadFake::send_text(Conn& c, std::string_view text) {
    c.out.push_back(static_cast<char>(0x81));
    const uint64_t n = text.size();
    if (n < 126) {
        c.out.push_back(static_cast<char>(n));
    } else if (n < 65536) {
        c.out.push_back(static_cast<char>(126));
        c.out.push_back(static_cast<char>(n >> 8));
        c.out.push_back(static_cast<char>(n & 0xff));
    } else {
        c.out.push_back(static_cast<char>(127));
        for (int i = 7; i >= 0; --i)
            c.out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    }
    c.out += text;
}

void RealtimeLoadFake::flush(Conn& c) {
    while (!c.out.empty()) {
        const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return close(c.fd);
    }
    const bool want = !c.out.empty();
    if (want != c.watching_out) {
        c.watching_out = want;
        loop_.modify(c.fd, want ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
    }
}

void RealtimeLoadFake::on_writable(int fd) {
    auto it = conns_.find(fd);
    if (it != conns_.end()) flush(*it->second);
}

void RealtimeLoadFake::close(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    if (it->second->timer) loop_.cancel(it->second->timer);
    loop_.unwatch(fd);
    ::close(fd);
    conns_.erase(it);
}

void RealtimeLoadFake::schedule(Conn& c, loop::TimePoint at) {
    const int fd = c.fd;
    c.timer = loop_.at(at, [this, fd](loop::TimePoint now) { on_timer(fd, now); });
}

void RealtimeLoadFake::on_timer(int fd, loop::TimePoint now) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    c.timer = 0;
    const std::string item = "item_" + std::to_string(c.reply);
    const std::string response = "resp_" + std::to_string(c.reply);
    switch (c.phase) {
    case Conn::Phase::before_reply: {
        ++c.reply;
        ++stats_.replies;
        const std::string r = "resp_" + std::to_string(c.reply);
        const std::string i = "item_" + std::to_string(c.reply);
        send_text(c, "{\"type\":\"input_audio_buffer.speech_stopped\",\"event_id\":\"" +
                         event_id() + "\",\"audio_end_ms\":0,\"item_id\":\"in_" + i + "\"}");
        send_text(c, "{\"type\":\"input_audio_buffer.committed\",\"event_id\":\"" + event_id() +
                         "\",\"previous_item_id\":null,\"item_id\":\"in_" + i + "\"}");
        send_text(c, "{\"type\":\"response.created\",\"event_id\":\"" + event_id() +
                         "\",\"response\":{\"id\":\"" + r +
                         "\",\"object\":\"realtime.response\",\"status\":\"in_progress\"}}");
        send_text(c, "{\"type\":\"response.output_item.added\",\"event_id\":\"" + event_id() +
                         "\",\"response_id\":\"" + r + "\",\"output_index\":0,\"item\":{\"id\":\"" +
                         i + "\",\"type\":\"message\",\"role\":\"assistant\"}}");
        c.phase = Conn::Phase::streaming;
        c.next_delta = 0;
        schedule(c, now);
        break;
    }
    case Conn::Phase::streaming: {
        send_text(c, "{\"type\":\"response.output_audio.delta\",\"event_id\":\"" + event_id() +
                         "\",\"response_id\":\"" + response + "\",\"item_id\":\"" + item +
                         "\",\"output_index\":0,\"content_index\":0,\"delta\":\"" +
                         delta_b64_[c.next_delta] + "\"}");
        ++stats_.deltas_sent;
        if (++c.next_delta < delta_b64_.size()) {
            schedule(c, now + script_.delta / script_.speedup);
            break;
        }
        send_text(c, "{\"type\":\"response.output_audio.done\",\"event_id\":\"" + event_id() +
                         "\",\"response_id\":\"" + response + "\",\"item_id\":\"" + item +
                         "\",\"output_index\":0,\"content_index\":0}");
        send_text(c, "{\"type\":\"response.done\",\"event_id\":\"" + event_id() +
                         "\",\"response\":{\"id\":\"" + response +
                         "\",\"object\":\"realtime.response\",\"status\":\"completed\"}}");
        c.phase = Conn::Phase::before_barge_in;
        schedule(c, c.cycle_start + script_.cycle);
        break;
    }
    case Conn::Phase::before_barge_in:
        send_text(c, "{\"type\":\"input_audio_buffer.speech_started\",\"event_id\":\"" +
                         event_id() + "\",\"audio_start_ms\":0,\"item_id\":\"in_next\"}");
        c.cycle_start += script_.cycle;
        c.phase = Conn::Phase::before_reply;
        schedule(c, c.cycle_start + script_.reply_at);
        break;
    default:
        break;
    }
    flush(c);
}

std::string RealtimeLoadFake::event_id() {
    return "event_" + std::to_string(++next_id_);
}

} // namespace wabridge::bench

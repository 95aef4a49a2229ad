// A lean OpenAI Realtime stand-in for the load bench: RFC 6455 server side on the harness's event
// loop, just enough of the GA protocol to keep a bridge busy the way a conversation does. It does
// not validate events against the schemas (tests/fakes/openai_realtime_fake.py does that for
// correctness); it counts what it gets and streams prepared reply audio.
//
// Per connection, from session.updated on, in cycles of `cycle`: at `reply_at` the caller's turn
// ends (speech_stopped, committed) and a reply starts (response.created, output_item.added, then
// `reply_audio` in deltas of `delta` audio, sent `speedup` times faster than real time, then
// output_audio.done and response.done). At the end of the cycle the caller speaks again
// (speech_started), interrupting whatever reply audio is still queued: a barge-in every cycle.
// Each connection enters its cycle at a random point, so replies are spread out in time.
#pragma once

#include "wabridge/loop/event_loop.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace wabridge::bench {

struct FakeScript {
    std::chrono::milliseconds cycle{4000};
    std::chrono::milliseconds reply_at{2000};
    std::chrono::milliseconds delta{100};
    int speedup = 4;
    std::vector<int16_t> reply_audio; // 24 kHz mono PCM16, played once per cycle
};

struct FakeStats {
    uint64_t connections = 0;
    uint64_t sessions_updated = 0;
    uint64_t appends = 0;
    uint64_t append_bytes = 0; // base64 text received in appends
    uint64_t truncates = 0;
    uint64_t cancels = 0;
    uint64_t other_events = 0;
    uint64_t deltas_sent = 0;
    uint64_t replies = 0;
    uint64_t bad_frames = 0;
};

class RealtimeLoadFake {
public:
    // Listens on 127.0.0.1:port (0: any free port).
    static Result<std::unique_ptr<RealtimeLoadFake>, std::string>
    create(loop::EventLoop& loop, uint16_t port, FakeScript script);
    ~RealtimeLoadFake();

    uint16_t port() const { return port_; }
    const FakeStats& stats() const { return stats_; }
    size_t open_connections() const { return conns_.size(); }

private:
    struct Conn;
    RealtimeLoadFake(loop::EventLoop& loop, FakeScript script);
    void on_accept();
    void on_readable(int fd);
    void on_writable(int fd);
    bool handshake(Conn& c);
    void on_frames(Conn& c);
    void on_text(Conn& c, std::string_view text);
    void send_text(Conn& c, std::string_view text);
    void flush(Conn& c);
    void close(int fd);
    void schedule(Conn& c, loop::TimePoint at);
    void on_timer(int fd, loop::TimePoint now);
    std::string event_id();

    loop::EventLoop& loop_;
    FakeScript script_;
    std::vector<std::string> delta_b64_; // reply_audio cut into deltas, base64
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::map<int, std::unique_ptr<Conn>> conns_;
    uint64_t next_id_ = 0;
    std::minstd_rand rng_{42};
    FakeStats stats_;
};

} // namespace wabridge::bench

// AI_BACKEND=openai: one call's OpenAI Realtime session over a WebSocket on the event loop.
// The protocol is RealtimeSession's (sans-IO); this class owns the I/O around it: name
// the byte stream (net::ClientStream: resolution, TCP to each address in turn, TLS for wss://),
// the WebSocket client (ws::Client), and a loop timer for the session's deadlines. It feeds the
// session's outgoing messages to the socket only while the socket keeps up (so a stalled
// socket backs up into the session's bounded uplink buffer, never into the loop).
#pragma once

#include "wabridge/ai/realtime_session.hpp"
#include "wabridge/ai/realtime_url.hpp"
#include "wabridge/app/metrics.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/media/ai_backend.hpp"
#include "wabridge/net/client_stream.hpp"
#include "wabridge/net/resolver.hpp"
#include "wabridge/net/ws/client.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace wabridge::ai {

struct OpenAiSettings {
    RealtimeUrl url;
    std::string api_key;
    std::string ca_file; // trust this PEM instead of the system store (tests, private proxies)
    RealtimeSettings session;
    int resampler_quality = 3;
    // Told of each final transcript line and each keypad digit (the call events'
    // transcript.final and dtmf); unset = nobody listens.
    std::function<void(const Transcript&)> on_transcript;
    std::function<void(char digit)> on_dtmf;
};

class OpenAiBackend final : public media::AiBackend {
public:
    using EndCallback = std::function<void(std::string_view reason)>;
    OpenAiBackend(loop::EventLoop& loop, net::Resolver& resolver, OpenAiSettings settings,
                  media::PlayoutQueue& playout, EndCallback on_end, std::string call_id,
                  MetricsRegistry& metrics);
    ~OpenAiBackend() override;

    void on_caller_audio(std::span<const int16_t> frame, loop::TimePoint arrival,
                         loop::TimePoint now) override;
    void on_dtmf(const media::DtmfDigit& digit, loop::TimePoint now) override;
    void on_packet_sent(loop::TimePoint now) override;
    void close() override;
    void describe(call::AiStats& out) const override;

    const RealtimeSession& session() const { return session_; }

private:
    void drive();
    void connect(loop::TimePoint now);
    void on_stream_open();
    void on_stream_closed(const std::string& why);
    void on_plaintext(std::string_view bytes);
    void handle(std::vector<ws::Event> events);
    void pump_outgoing();
    void flush();
    void drop_connection(uint16_t code, const std::string& reason);
    void arm_timer();
    void log_new_transcripts();
    void on_server_message(const std::string& text, loop::TimePoint now);

    loop::EventLoop& loop_;
    net::Resolver& resolver_;
    OpenAiSettings settings_;
    EndCallback on_end_;
    std::string call_id_;
    RealtimeSession session_;
    loop::TimePoint started_;

    // The connection of the moment (none while waiting to reconnect).
    std::unique_ptr<net::ClientStream> stream_;
    std::unique_ptr<ws::Client> ws_;

    loop::TimerId timer_ = 0;
    bool ended_ = false, closed_ = false;
    size_t transcripts_logged_ = 0;
    std::map<std::string, uint64_t> errors_counted_;
    MetricsRegistry& metrics_;
    Counter& reconnects_;
    uint64_t reconnects_counted_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

    // Latency accounting. Uplink: RTP arrival of the first frame in an append → the append
    // handed to the socket. Downlink: a delta that found the playout queue empty → the first
    // packet built from it (its audio is the next to play, so this is the bridge's own delay).
    media::PlayoutQueue& playout_;
    Histogram& uplink_latency_;
    Histogram& downlink_latency_;
    struct DownlinkMark {
        uint64_t first_sample; // played_samples value at which this delta's audio starts
        loop::TimePoint arrived;
    };
    std::optional<DownlinkMark> downlink_mark_;
    Histogram& uplink_added_;
    // Barge-in: when the flush happened, until the next packet (silence) goes out.
    std::optional<loop::TimePoint> flush_mark_;
    Histogram& barge_in_flush_;
    uint64_t flushed_seen_ = 0;
};

} // namespace wabridge::ai

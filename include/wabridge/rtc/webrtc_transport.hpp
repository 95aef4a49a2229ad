// One call's WebRTC transport: ICE (libnice) → DTLS (our endpoint over memory BIOs) → SRTP
// (libsrtp2) → RTP/RTCP, all on the event loop. Datagrams that libnice hands up are demuxed by
// their first byte (RFC 7983): DTLS to the endpoint, SRTP/SRTCP to libsrtp. It ends the call
// itself on ICE failure or timeout, DTLS failure or close_notify, RTCP BYE, or media timeout.
// With rtp_echo on it is the `AI_BACKEND=rtp-echo` diagnostic: each received Opus payload is
// sent back in our own RTP stream (our SSRC, sequence and timestamps). Otherwise the call's
// audio engine (media::CallAudio) gets every RTP packet and, from DTLS up until the end, one
// pacing slot every 20 ms (media::Pacer on absolute deadlines): exactly one packet per slot, AI
// audio or silence.
#pragma once

#include "wabridge/app/metrics.hpp"
#include "wabridge/call/call_media.hpp"
#include "wabridge/crypto/certificate.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/media/ai_backend.hpp"
#include "wabridge/media/call_audio.hpp"
#include "wabridge/media/pacer.hpp"
#include "wabridge/rtc/dtls_endpoint.hpp"
#include "wabridge/rtc/ice_agent.hpp"
#include "wabridge/rtc/srtp_session.hpp"
#include "wabridge/rtp/packetizer.hpp"
#include "wabridge/rtp/receiver_stats.hpp"
#include "wabridge/sdp/answer.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>

namespace wabridge::rtc {

struct TransportSettings {
    std::vector<std::string> bind_addresses; // never empty
    std::string public_ip;                   // advertised instead of same-family host addresses
    uint16_t port_min = 10000, port_max = 10100;
    std::chrono::seconds ice_timeout{10};
    std::chrono::seconds media_timeout{20};
    bool rtp_echo = false;
    media::JitterBufferSettings jitter;
    int opus_complexity = 5;
};

class WebRtcTransport final : public call::CallMedia, private IceAgent::Listener {
public:
    using EndCallback = std::function<void(std::string_view reason)>;

    // Gathers our candidates and starts ICE towards the offer's candidates. `remote` is the
    // peer's audio section (credentials, candidates, fingerprints, whether it is lite).
    static Result<std::unique_ptr<WebRtcTransport>, std::string>
    create(loop::EventLoop& loop, const Certificate& certificate, const TransportSettings& settings,
           const sdp::RemoteAudio& remote, EndCallback on_end, MetricsRegistry& metrics);
    // For a call we place (business-initiated): gathers our candidates for the offer; ICE waits
    // for apply_answer().
    static Result<std::unique_ptr<WebRtcTransport>, std::string>
    create_for_offer(loop::EventLoop& loop, const Certificate& certificate,
                     const TransportSettings& settings, EndCallback on_end,
                     MetricsRegistry& metrics);
    // The peer's answer to our offer (sdp::read_answer): starts ICE towards it, then as start().
    Result<bool, std::string> apply_answer(const sdp::NegotiatedAudio& negotiated);
    ~WebRtcTransport() override;

    // Our side for the answer: fresh ICE credentials, gathered candidates (PUBLIC_IP mapped),
    // the certificate fingerprint, our SSRC and CNAME.
    const sdp::LocalTransport& local() const { return local_; }

    // What the answer negotiated (DTLS role, payload types, bitrate). Call once, right after
    // answering. Fails only when the audio engine cannot be built (libopus refused).
    Result<bool, std::string> start(const sdp::NegotiatedAudio& negotiated);

    // The audio engine (null in rtp-echo mode, and before start()). Its playout queue is where
    // the backend puts AI audio.
    media::CallAudio* audio() { return audio_.get(); }
    // The AI side of the call; it lives as long as the transport and is closed with it.
    void attach_backend(std::unique_ptr<media::AiBackend> backend);

    call::MediaStats stats() const override;
    void close() override;

private:
    WebRtcTransport(loop::EventLoop& loop, const Certificate& certificate,
                    const TransportSettings& settings, EndCallback on_end,
                    MetricsRegistry& metrics);

    static Result<std::unique_ptr<WebRtcTransport>, std::string>
    create_agent(loop::EventLoop& loop, const Certificate& certificate,
                 const TransportSettings& settings, bool controlling, EndCallback on_end,
                 MetricsRegistry& metrics);
    void set_remote(const sdp::RemoteAudio& remote);

    void on_ice_state(IceState state) override;
    void on_ice_data(std::span<const uint8_t> datagram) override;
    void on_ice_selected_pair(const std::string& local, const std::string& remote) override;

    void start_dtls();
    void pump_dtls();
    void arm_dtls_timer();
    void on_srtp(std::span<const uint8_t> datagram, bool rtcp);
    void on_rtp(std::span<uint8_t> packet, size_t length);
    void on_rtcp(std::span<uint8_t> packet, size_t length);
    void echo(std::span<const uint8_t> payload);
    void start_pacing(loop::TimePoint now);
    void arm_pacer();
    void on_pacer(loop::TimePoint now);
    void send_rtp(std::span<uint8_t> packet, size_t length);
    void send_rtcp(bool bye);
    void schedule_rtcp();
    void check_media(loop::TimePoint now);
    void end(std::string_view reason);
    void cancel_timers();
    double ms_since_start(loop::TimePoint t) const;

    loop::EventLoop& loop_;
    const Certificate& certificate_;
    TransportSettings settings_;
    EndCallback on_end_;
    sdp::LocalTransport local_;
    std::vector<std::string> remote_fingerprints_;
    std::unique_ptr<IceAgent> ice_;
    std::unique_ptr<DtlsEndpoint> dtls_;
    std::optional<SrtpSession> srtp_in_, srtp_out_;
    std::optional<rtp::ReceiverStats> receiver_;
    std::optional<sdp::NegotiatedAudio> negotiated_;
    // Declared before backend_: the backend holds the engine's playout queue.
    std::unique_ptr<media::CallAudio> audio_;
    std::unique_ptr<media::AiBackend> backend_;
    std::optional<media::Pacer> pacer_;

    call::MediaStats stats_;
    loop::TimePoint created_;
    loop::TimePoint last_media_{};
    bool ice_connected_ = false;
    bool ended_ = false;
    bool closed_ = false;
    // setup_timer_ bounds ICE, then the DTLS handshake (TransportSettings::ice_timeout each).
    loop::TimerId dtls_timer_ = 0, setup_timer_ = 0, media_timer_ = 0, rtcp_timer_ = 0,
                  pacer_timer_ = 0;

    // Our outgoing stream in rtp-echo mode (the audio engine has its own); RFC 3550 §5.1:
    // random initial sequence and timestamp.
    std::optional<rtp::Packetizer> echo_out_;
    uint16_t first_seq_ = 0;
    uint32_t first_ts_ = 0;
    const rtp::Packetizer* out_stream() const;
    std::minstd_rand rng_;

    Counter& auth_failures_;
    Counter& replays_;
    Counter& malformed_;
    Counter& fingerprint_mismatches_;

    // Process-wide audio counters, fed with each call's increments at every RTCP report and at
    // close (so they move while calls run, not just when they end).
    void publish_audio_metrics();
    std::optional<call::AudioStats> audio_stats() const;
    call::AudioStats published_{};
    Counter& audio_lost_;
    Counter& audio_late_;
    Counter& audio_fec_;
    Counter& audio_concealed_ms_;
    Counter& pacer_skipped_;
    Histogram& pacer_lateness_; // every tick, process-wide (issue 8's slot criterion)
    Counter& dtmf_digits_;
};

} // namespace wabridge::rtc

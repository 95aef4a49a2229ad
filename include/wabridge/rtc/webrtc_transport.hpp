// One call's WebRTC transport: ICE (libnice) → DTLS (our endpoint over memory BIOs) → SRTP
// (libsrtp2) → RTP/RTCP, all on the event loop. Datagrams that libnice hands up are demuxed by
// their first byte (RFC 7983): DTLS to the endpoint, SRTP/SRTCP to libsrtp. It ends the call
// itself on ICE failure or timeout, DTLS failure or close_notify, RTCP BYE, or media timeout.
// With rtp_echo on it is the `AI_BACKEND=rtp-echo` diagnostic: each received Opus payload is
// sent back in our own RTP stream (our SSRC, sequence and timestamps).
#pragma once

#include "wabridge/app/metrics.hpp"
#include "wabridge/call/call_media.hpp"
#include "wabridge/crypto/certificate.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/rtc/dtls_endpoint.hpp"
#include "wabridge/rtc/ice_agent.hpp"
#include "wabridge/rtc/srtp_session.hpp"
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
};

class WebRtcTransport final : public call::CallMedia, private IceAgent::Listener {
public:
    using EndCallback = std::function<void(std::string_view reason)>;

    // Gathers our candidates and starts ICE towards the offer's candidates. `remote` is the
    // peer's audio section (credentials, candidates, fingerprints, whether it is lite).
    static Result<std::unique_ptr<WebRtcTransport>, std::string>
    create(loop::EventLoop& loop, GMainContext* context, const Certificate& certificate,
           const TransportSettings& settings, const sdp::RemoteAudio& remote, EndCallback on_end,
           MetricsRegistry& metrics);
    ~WebRtcTransport() override;

    // Our side for the answer: fresh ICE credentials, gathered candidates (PUBLIC_IP mapped),
    // the certificate fingerprint, our SSRC and CNAME.
    const sdp::LocalTransport& local() const { return local_; }

    // What the answer negotiated (DTLS role, payload types). Call once, right after answering.
    void start(const sdp::NegotiatedAudio& negotiated);

    call::MediaStats stats() const override;
    void close() override;

private:
    WebRtcTransport(loop::EventLoop& loop, const Certificate& certificate,
                    const TransportSettings& settings, EndCallback on_end,
                    MetricsRegistry& metrics);

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

    call::MediaStats stats_;
    loop::TimePoint created_;
    loop::TimePoint last_media_{};
    bool ice_connected_ = false;
    bool ended_ = false;
    bool closed_ = false;
    // setup_timer_ bounds ICE, then the DTLS handshake (TransportSettings::ice_timeout each).
    loop::TimerId dtls_timer_ = 0, setup_timer_ = 0, media_timer_ = 0, rtcp_timer_ = 0;

    // Our outgoing stream (RFC 3550 §5.1: random initial sequence and timestamp).
    uint16_t out_seq_ = 0;
    uint32_t out_ts_ = 0;
    bool out_started_ = false;
    uint32_t sent_packets_ = 0, sent_octets_ = 0;
    std::minstd_rand rng_;

    Counter& auth_failures_;
    Counter& replays_;
    Counter& malformed_;
    Counter& fingerprint_mismatches_;
};

} // namespace wabridge::rtc

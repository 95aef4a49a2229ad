// One WhatsApp-shaped caller for the load bench, built from the project's own transport pieces:
// an ICE-lite controlled libnice agent (as Meta's relay is, RFC 8445 §2.5), the DTLS server
// (we offer actpass and the bridge answers active, RFC 5763 §5), SRTP both ways, and an RTP
// stream of pre-encoded Opus frames (PT 111, 20 ms) so that the caller costs no codec work.
// Correctness against independent peers is proven by the integration tests; this is for load.
#pragma once

#include "wabridge/crypto/certificate.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/rtc/dtls_endpoint.hpp"
#include "wabridge/rtc/ice_agent.hpp"
#include "wabridge/rtc/srtp_session.hpp"
#include "wabridge/rtp/packetizer.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wabridge::bench {

// What every caller plays, cyclically: one Opus payload per 20 ms.
struct CallerScript {
    std::vector<std::vector<uint8_t>> frames;
};

struct LiteCallStats {
    double answer_ms = -1;       // POST sent -> answer in hand (set by the harness)
    double connect_ms = -1;      // answer in hand -> DTLS connected (ICE + DTLS)
    uint64_t sent = 0;           // RTP packets sent
    uint64_t received = 0;       // RTP packets received and authenticated
    uint64_t received_ai = 0;    // of those, payloads larger than cached silence
    uint64_t srtp_failures = 0;  // unprotect failures
    uint64_t other = 0;          // RTCP and anything else after DTLS
    double max_gap_ms = 0;       // largest gap between received RTP packets
    uint64_t gaps_over_40ms = 0; // gaps of more than two packet times
};

class LiteCall final : private rtc::IceAgent::Listener {
public:
    // Binds the host candidate on `bind_address` within [port_min, port_max].
    static Result<std::unique_ptr<LiteCall>, std::string>
    create(loop::EventLoop& loop, const Certificate& certificate, const CallerScript& script,
           const std::string& bind_address, uint16_t port_min, uint16_t port_max);
    ~LiteCall() override;

    // Our WhatsApp-shaped offer: ice-lite, actpass, Opus 111 with WhatsApp's fmtp, DTMF 126.
    const std::string& offer() const { return offer_; }
    // The bridge's answer: starts accepting its checks and its DTLS ClientHello.
    Result<bool, std::string> apply_answer(const std::string& answer_sdp, loop::TimePoint now);
    // Stops sending (the harness DELETEs the session afterwards).
    void stop();

    bool connected() const { return srtp_out_.has_value(); }
    bool failed() const { return failed_; }
    const std::string& failure() const { return failure_; }
    LiteCallStats& stats() { return stats_; }
    // Largest payload counted as the bridge's silence.
    static constexpr size_t kSilenceMaxBytes = 12;

private:
    LiteCall(loop::EventLoop& loop, const Certificate& certificate, const CallerScript& script);
    void on_ice_state(rtc::IceState state) override;
    void on_ice_data(std::span<const uint8_t> datagram) override;
    void on_ice_selected_pair(const std::string&, const std::string&) override {}
    void pump_dtls();
    void arm_dtls_timer();
    void send_next(loop::TimePoint deadline);
    void fail(std::string why);

    loop::EventLoop& loop_;
    const Certificate& certificate_;
    const CallerScript& script_;
    std::unique_ptr<rtc::IceAgent> ice_;
    std::optional<rtc::DtlsEndpoint> dtls_;
    std::optional<rtc::SrtpSession> srtp_in_, srtp_out_;
    std::optional<rtp::Packetizer> packetizer_;
    std::string offer_;
    std::string ufrag_, pwd_;
    loop::TimePoint answered_{};
    loop::TimePoint last_rtp_{};
    loop::TimerId dtls_timer_ = 0, send_timer_ = 0;
    size_t next_frame_ = 0;
    bool stopped_ = false;
    bool failed_ = false;
    std::string failure_;
    LiteCallStats stats_;
};

} // namespace wabridge::bench

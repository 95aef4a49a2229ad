// The media side of one call, as the session sees it: something that reports stats and can be
// closed. The WebRTC transport implements it; tests use fakes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wabridge::call {

// The audio engine's side of a call (absent in rtp-echo mode).
struct AudioStats {
    double jitter_delay_ms = 0, jitter_target_ms = 0;
    uint64_t late_packets = 0, lost_packets = 0, fec_recovered = 0, concealed_ms = 0;
    uint64_t dtmf_digits = 0;
    uint64_t frames_to_ai = 0;
    uint64_t packets_ai = 0, packets_silence = 0;
    uint64_t pacer_skipped_slots = 0;
    double pacer_max_late_ms = 0;
    int loss_hint_percent = 0;
};

// The AI side of a call, as the backend reports it.
struct TranscriptLine {
    std::string role; // "caller" | "assistant"
    std::string text;
    double at_seconds = 0; // since the call's media started
    bool interrupted = false;
};
struct AiStats {
    std::string backend; // "openai", "echo"
    std::string state;   // the backend's own state ("ready", "reconnecting", ...)
    uint64_t reconnects = 0, barge_ins = 0, truncates = 0, uplink_dropped_ms = 0;
    std::vector<TranscriptLine> transcripts;
};

struct MediaStats {
    std::string state = "new"; // new, ice_checking, ice_connected, dtls_connected, failed, closed
    std::optional<double> ice_connected_ms; // since the session was created
    std::optional<double> dtls_connected_ms;
    std::string selected_pair; // "local -> remote"
    std::string srtp_profile;
    uint64_t packets_received = 0, packets_sent = 0;
    uint64_t bytes_received = 0, bytes_sent = 0;
    uint64_t srtp_auth_failures = 0, srtp_replays = 0, malformed_packets = 0;
    uint64_t packets_lost = 0; // RFC 3550 cumulative, from our receiver stats
    double jitter_ms = 0;
    std::optional<double> rtt_ms;
    std::optional<AudioStats> audio;
    std::optional<AiStats> ai;
};

class CallMedia {
public:
    virtual ~CallMedia() = default;
    virtual MediaStats stats() const = 0;
    // Stops sending and tells the peer (DTLS close_notify, RTCP BYE). Idempotent.
    virtual void close() = 0;
};

} // namespace wabridge::call

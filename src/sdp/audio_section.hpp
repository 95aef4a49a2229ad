// Builds the audio m= section and session frame that offers and answers share. Private to
// src/sdp.
#pragma once

#include "wabridge/sdp/answer.hpp"
#include "wabridge/sdp/local_transport.hpp"
#include "wabridge/sdp/remote_audio.hpp"
#include "wabridge/sdp/session_description.hpp"

#include <optional>
#include <string>

namespace wabridge::sdp::detail {

struct AudioSectionParams {
    std::string proto = "UDP/TLS/RTP/SAVPF";
    std::string mid; // empty: no a=mid
    Setup setup = Setup::active;
    Direction direction = Direction::sendrecv;
    uint8_t opus_pt = 111;
    std::optional<uint8_t> dtmf_pt;
    uint32_t bitrate_bps = 20000;
    uint32_t ptime_ms = 20;
};

// v=, o=, s=, t= and the msid semantic; BUNDLE is added by the caller.
SessionDescription session_frame(const LocalTransport& local);

MediaDescription audio_section(const LocalTransport& local, const AudioSectionParams& p);

// The codec side of a negotiation, whoever offered (RFC 3264 §6.1, RFC 7587 §6.1): Opus and
// telephone-event on the peer's payload types, and our send bitrate: the lower of the policy and
// the peer's maxaveragebitrate, within Opus's range.
void take_codecs(const RemoteAudio& remote, const AudioPolicy& policy, NegotiatedAudio& n);

} // namespace wabridge::sdp::detail

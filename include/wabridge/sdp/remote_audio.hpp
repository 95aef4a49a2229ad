// What a peer's offer or answer says about its audio: the semantic layer above the parser.
// read_remote_audio() picks the audio m-section wabridge will use and checks that it is
// something we can talk to (DTLS-SRTP over UDP, Opus, ICE credentials, rtcp-mux).
#pragma once

#include "wabridge/sdp/candidate.hpp"
#include "wabridge/sdp/error.hpp"
#include "wabridge/sdp/session_description.hpp"
#include "wabridge/util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wabridge::sdp {

// RFC 4145 §4 / RFC 5763 §5: which side starts the DTLS handshake.
enum class Setup { actpass, active, passive, holdconn };
// RFC 8866 §6.7 media direction.
enum class Direction { sendrecv, sendonly, recvonly, inactive };

std::string_view to_string(Setup s);
std::string_view to_string(Direction d);

// The last direction attribute at media level, else at session level, else sendrecv
// (RFC 8866 §6.7).
Direction read_direction(const MediaDescription& m, const SessionDescription& sd);

// RFC 3264 §6.1: the answer's direction mirrors the offer's (sendonly <-> recvonly).
Direction answer_direction(Direction offered);

struct Codec {
    uint8_t payload_type = 0;
    std::string name; // as written in a=rtpmap ("opus", "telephone-event", "PCMU")
    uint32_t clock_rate = 0;
    uint32_t channels = 1;
    std::vector<std::pair<std::string, std::string>> fmtp; // a=fmtp parameters, in order

    const std::string* fmtp_param(std::string_view key) const;
};

struct RemoteAudio {
    size_t media_index = 0; // which m= section of the description
    std::string mid;        // a=mid, empty when absent
    bool bundled = false;   // mid is listed in a=group:BUNDLE
    std::string ice_ufrag;  // RFC 8839 §5.4 (media level, else session level)
    std::string ice_pwd;
    bool ice_lite = false;                        // RFC 8839 §5.3
    bool ice_trickle = false;                     // a=ice-options:trickle (RFC 8840)
    std::vector<std::string> sha256_fingerprints; // upper-case "AB:CD:..." (RFC 8122 §5)
    Setup setup = Setup::actpass;
    bool setup_present = false;
    Direction direction = Direction::sendrecv;
    bool rtcp_mux = false;                // RFC 5761 §5.1.1
    bool rtcp_mux_only = false;           // RFC 8858
    std::string proto;                    // as offered
    Codec opus;                           // RFC 7587 §7: opus/48000/2
    std::optional<Codec> telephone_event; // RFC 4733, 8 kHz only
    std::vector<Codec> codecs;            // every format of the section, in m= order
    std::optional<uint32_t> ptime;
    std::vector<Candidate> candidates;
    std::vector<uint32_t> ssrcs; // distinct a=ssrc ids
    std::string connection_address;
    uint16_t port = 0;

    // Opus maxaveragebitrate (RFC 7587 §6.1) when the peer states one.
    std::optional<uint32_t> opus_max_average_bitrate() const;
};

Result<RemoteAudio, Error> read_remote_audio(const SessionDescription& sd);

// "AB:CD:..." check: 32 colon-separated hex pairs (RFC 8122 §5, SHA-256).
bool is_sha256_fingerprint(std::string_view digest);

} // namespace wabridge::sdp

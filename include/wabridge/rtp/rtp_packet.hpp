// RTP data packets (RFC 3550 §5.1). The parser returns views into the caller's buffer and never
// trusts a length: the CSRC count, the header extension length and the padding count are each
// checked against the datagram before use. Nothing here allocates.
#pragma once

#include "wabridge/util/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wabridge::rtp {

// RFC 3550 §5.1: the fixed header is 12 octets.
inline constexpr size_t kRtpHeaderSize = 12;
// RFC 3550 §5.1: the RTP version this implementation speaks.
inline constexpr uint8_t kRtpVersion = 2;

enum class RtpError {
    too_short,           // fewer than the 12 octets of the fixed header
    bad_version,         // V is not 2
    truncated_csrc,      // CC * 4 octets of CSRC list do not fit
    truncated_extension, // X set, but the extension header or its data words do not fit
    bad_padding,         // P set, but the padding count is 0 or larger than what follows
};

// Stable snake_case name, e.g. "truncated_csrc" (for metrics and logs).
std::string_view to_string(RtpError e);

struct RtpHeader {
    bool marker = false;
    uint8_t payload_type = 0; // 7 bits
    uint16_t sequence = 0;
    uint32_t timestamp = 0;
    uint32_t ssrc = 0;
    uint8_t csrc_count = 0; // CC, 0..15
    bool has_extension = false;
    uint16_t extension_profile = 0; // "defined by profile" field, RFC 3550 §5.3.1
};

// A parsed packet: every span points into the datagram given to parse_rtp.
struct RtpPacket {
    RtpHeader header;
    std::span<const uint8_t> csrcs;     // CC * 4 raw octets, network order
    std::span<const uint8_t> extension; // the extension's data words, without its 4-octet header
    std::span<const uint8_t> payload;   // without padding
    uint8_t padding = 0;                // padding octets removed (0 when P is clear)

    // The i-th contributing source, i < header.csrc_count.
    uint32_t csrc(size_t i) const;
};

// Parses one RTP packet (RFC 3550 §5.1). Validity per §A.1 as far as one packet can tell:
// version 2, CSRC list and header extension inside the datagram, and padding (the last octet
// counts the padding octets including itself) at least 1 and not more than payload + padding.
Result<RtpPacket, RtpError> parse_rtp(std::span<const uint8_t> datagram);

// Writes a 12-octet header (V=2, P=0, X=0, CC=0: csrc_count, has_extension and
// extension_profile are ignored) followed by `payload`. Returns the octets written, or 0 when
// `out` is too small or payload_type does not fit in 7 bits. `payload` may already sit at
// out[12..] (encode in place, then add the header): overlapping memory is handled.
size_t write_rtp(const RtpHeader& header, std::span<const uint8_t> payload, std::span<uint8_t> out);

// RFC 5761 §4: with RTP and RTCP multiplexed on one port, a second octet of 192..223 (the RTCP
// packet types SR=200, RR=201, ... which as RTP would be M=1 with PT 64..95) means RTCP.
bool looks_like_rtcp(std::span<const uint8_t> datagram);

} // namespace wabridge::rtp

// Demultiplexing of the one UDP 5-tuple a WebRTC call uses (BUNDLE + rtcp-mux): STUN, DTLS, RTP
// and RTCP share a port and are told apart by their first byte (RFC 7983 §7, updating RFC 5764
// §5.1.2) and, for RTP versus RTCP, by the second byte (RFC 5761 §4). Pure: no state, no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace wabridge::rtc {

enum class PacketKind { stun, dtls, rtp, rtcp, unknown };

// RFC 7983 §7:
//   first byte  0..3    STUN (RFC 5389 §6: the two top bits are zero); a STUN message also needs
//                       its 20-byte header, so shorter packets are `unknown`
//   first byte 20..63   DTLS (record content types 20..63)
//   first byte 128..191 RTP or RTCP (version 2); RTCP when the second byte (payload type with
//                       the marker bit) is 192..223 (RFC 5761 §4), else RTP. A one-byte packet
//                       has no second byte and is `unknown`.
//   anything else (ZRTP 16..19, TURN channels 64..79, reserved ranges, empty) is `unknown`.
PacketKind classify(std::span<const uint8_t> packet);

// "stun", "dtls", "rtp", "rtcp", "unknown" (for metric labels).
std::string_view to_string(PacketKind kind);

} // namespace wabridge::rtc

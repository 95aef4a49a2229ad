#include "wabridge/rtc/demux.hpp"

namespace wabridge::rtc {

namespace {
// RFC 5389 §6: the fixed STUN message header is 20 bytes.
constexpr size_t kStunHeaderSize = 20;
} // namespace

PacketKind classify(std::span<const uint8_t> packet) {
    if (packet.empty()) return PacketKind::unknown;
    const uint8_t first = packet[0];
    // RFC 7983 §7, the decision tree in order of the first byte.
    if (first <= 3) {
        return packet.size() >= kStunHeaderSize ? PacketKind::stun : PacketKind::unknown;
    }
    if (first >= 20 && first <= 63) return PacketKind::dtls;
    if (first >= 128 && first <= 191) {
        if (packet.size() < 2) return PacketKind::unknown;
        // RFC 5761 §4: RTCP packet types 192..223 cannot collide with RTP payload types once
        // dynamic RTP types stay out of 64..95.
        const uint8_t second = packet[1];
        return (second >= 192 && second <= 223) ? PacketKind::rtcp : PacketKind::rtp;
    }
    return PacketKind::unknown;
}

std::string_view to_string(PacketKind kind) {
    switch (kind) {
    case PacketKind::stun:
        return "stun";
    case PacketKind::dtls:
        return "dtls";
    case PacketKind::rtp:
        return "rtp";
    case PacketKind::rtcp:
        return "rtcp";
    case PacketKind::unknown:
        return "unknown";
    }
    return "unknown";
}

} // namespace wabridge::rtc

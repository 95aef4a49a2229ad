#include "wabridge/rtp/packetizer.hpp"

namespace wabridge::rtp {

Packetizer::Packetizer(uint32_t ssrc, uint8_t payload_type, uint16_t first_sequence,
                       uint32_t first_timestamp, uint32_t frame_ticks)
    : ssrc_(ssrc)
    , payload_type_(payload_type)
    , sequence_(first_sequence)
    , timestamp_(first_timestamp)
    , frame_ticks_(frame_ticks) {}

size_t Packetizer::write(std::span<const uint8_t> payload, bool talkspurt_start,
                         std::span<uint8_t> out) {
    RtpHeader h{};
    h.marker = talkspurt_start || packets_ == 0;
    h.payload_type = payload_type_;
    h.sequence = sequence_;
    h.timestamp = timestamp_;
    h.ssrc = ssrc_;
    const size_t n = write_rtp(h, payload, out);
    if (n == 0) return 0;
    ++sequence_; // wraps at 65535 (RFC 3550 §5.1)
    timestamp_ += frame_ticks_;
    ++packets_;
    octets_ += payload.size();
    return n;
}

} // namespace wabridge::rtp

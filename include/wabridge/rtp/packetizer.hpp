// Our outgoing RTP stream (RFC 3550 §5.1): one SSRC, a random initial sequence number and
// timestamp, sequence +1 per packet, timestamp +frame_ticks per packet on the codec's clock
// (RFC 7587 §4.1: Opus always uses 48 kHz, so +960 per 20 ms whatever the encoder's input rate).
#pragma once

#include "wabridge/rtp/rtp_packet.hpp"

#include <cstdint>
#include <span>

namespace wabridge::rtp {

class Packetizer {
public:
    Packetizer(uint32_t ssrc, uint8_t payload_type, uint16_t first_sequence,
               uint32_t first_timestamp, uint32_t frame_ticks = 960);

    // Writes header + payload into out and advances the stream by one frame. Returns the octets
    // written (0 when out is too small: nothing advances). `talkspurt_start` sets the marker
    // (RFC 3551 §4.1: the first packet after silence; also the stream's very first packet).
    size_t write(std::span<const uint8_t> payload, bool talkspurt_start, std::span<uint8_t> out);

    // Slots that were not sent (a late loop): time moves on, the sequence does not (RFC 3550
    // §5.1: the sequence counts packets, the timestamp counts sampling instants).
    void skip_frames(uint32_t frames) { timestamp_ += frames * frame_ticks_; }

    uint32_t ssrc() const { return ssrc_; }
    uint16_t next_sequence() const { return sequence_; }
    uint32_t next_timestamp() const { return timestamp_; }
    uint64_t packets() const { return packets_; }
    uint64_t payload_octets() const { return octets_; }

private:
    uint32_t ssrc_;
    uint8_t payload_type_;
    uint16_t sequence_;
    uint32_t timestamp_;
    uint32_t frame_ticks_;
    uint64_t packets_ = 0, octets_ = 0;
};

} // namespace wabridge::rtp

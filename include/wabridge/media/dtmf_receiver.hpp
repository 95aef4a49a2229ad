// Receives RFC 4733 telephone-event RTP packets and turns them into key presses: one DtmfDigit
// per press, however many packets (start, updates, the triple end packet) carried it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace wabridge::media {

struct DtmfDigit {
    char digit;             // '0'-'9', '*', '#', 'A'-'D'
    uint32_t rtp_timestamp; // the event's RTP timestamp (its start)
    uint16_t duration;      // in RTP timestamp units; saturates at 0xFFFF for long events
};

struct DtmfStats {
    uint64_t digits = 0;         // presses reported
    uint64_t duplicates = 0;     // packets of an event already reported (repeated end packets,
                                 // late updates, packets of an older event)
    uint64_t malformed = 0;      // payload shorter than one event block, or an event code that
                                 // changed under the same timestamp
    uint64_t unknown_events = 0; // packets whose event code is not a DTMF key (16 and up)
};

// The DTMF key for an RFC 4733 §3.2 event code (0-9, 10 '*', 11 '#', 12-15 'A'-'D'), or
// std::nullopt for any other event.
std::optional<char> dtmf_char(uint8_t event);

// Events are told apart by their RTP timestamp (RFC 4733 §2.5.1: every packet of one event
// carries the event's start timestamp). Rules, in order:
//   - A press is reported once, on the first packet with the E bit. The final packet is sent
//     three times (RFC 4733 §2.5.1.4); the repeats count as duplicates.
//   - If a press never gets an end packet (all three lost) it is reported when the next event
//     starts (a newer timestamp with the marker bit or a different key), with the last
//     duration seen. If that very packet is also the new event's end, the new press is
//     reported on the next packet (its repeated end packet) instead of being counted as a
//     duplicate, so no press is lost or doubled.
//   - A newer timestamp without the marker bit for the same, unfinished key is the next segment
//     of a long-duration event (RFC 4733 §2.5.1.3, §2.5.2.3): the same press continues and its
//     durations add up.
//   - A packet older than the current event (RTP timestamp arithmetic modulo 2^32) is late and
//     counted as a duplicate.
//   - Event codes 16 and up (not DTMF) are counted and otherwise ignored.
// Only the first 4-byte event block of a payload is read (RFC 4733 §2.5.1.5 packs several
// events into one packet only for redundancy schemes that WhatsApp and browsers do not use).
// A press still open when the stream stops is handed out by finish().
class DtmfReceiver {
public:
    // One call per received telephone-event RTP packet.
    std::optional<DtmfDigit> on_packet(uint32_t rtp_timestamp, bool marker,
                                       std::span<const uint8_t> payload);

    // Reports the current press if it has not been reported yet (the stream ended before its end
    // packet, or its end packet also started it and no packet followed). Call at hang-up or after
    // a quiet period.
    std::optional<DtmfDigit> finish();

    DtmfStats stats() const { return stats_; }

private:
    std::optional<DtmfDigit> report();
    void start(uint32_t rtp_timestamp, uint8_t event, uint16_t duration, bool end);

    bool active_ = false;            // an event has been seen
    bool reported_ = false;          // ...and already handed out
    bool ended_ = false;             // ...and its E bit has been seen
    uint8_t event_ = 0;              // its event code (0-15)
    uint32_t timestamp_ = 0;         // timestamp of its first segment (what is reported)
    uint32_t segment_timestamp_ = 0; // timestamp of its current (long-event) segment
    uint16_t duration_ = 0;          // longest duration seen in the current segment
    DtmfStats stats_;
};

} // namespace wabridge::media

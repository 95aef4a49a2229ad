// RFC 4733 telephone-event reception: one digit per key press. See dtmf_receiver.hpp for the
// rules; the payload layout is RFC 4733 §2.3.
#include "wabridge/media/dtmf_receiver.hpp"

#include <algorithm>

namespace wabridge::media {

namespace {

// RFC 4733 §2.3: one event block is 4 bytes.
//    0                   1                   2                   3
//   |     event     |E|R| volume    |          duration             |
constexpr size_t kEventBlockSize = 4;
constexpr uint8_t kEndBit = 0x80;

} // namespace

std::optional<char> dtmf_char(uint8_t event) {
    // RFC 4733 §3.2, Table 3 (DTMF named events).
    static constexpr char kKeys[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', '*', '#', 'A', 'B', 'C', 'D'};
    if (event >= sizeof(kKeys)) return std::nullopt;
    return kKeys[event];
}

void DtmfReceiver::start(uint32_t rtp_timestamp, uint8_t event, uint16_t duration, bool end) {
    active_ = true;
    reported_ = false;
    ended_ = end;
    event_ = event;
    timestamp_ = rtp_timestamp;
    segment_timestamp_ = rtp_timestamp;
    duration_ = duration;
}

std::optional<DtmfDigit> DtmfReceiver::report() {
    reported_ = true;
    ++stats_.digits;
    // Earlier segments of a long-duration event span segment_timestamp_ - timestamp_ units.
    const uint64_t total =
        uint64_t{static_cast<uint32_t>(segment_timestamp_ - timestamp_)} + uint64_t{duration_};
    return DtmfDigit{*dtmf_char(event_), timestamp_,
                     static_cast<uint16_t>(std::min<uint64_t>(total, 0xFFFF))};
}

std::optional<DtmfDigit> DtmfReceiver::on_packet(uint32_t rtp_timestamp, bool marker,
                                                 std::span<const uint8_t> payload) {
    if (payload.size() < kEventBlockSize) {
        ++stats_.malformed;
        return std::nullopt;
    }
    const uint8_t event = payload[0];
    const bool end = (payload[1] & kEndBit) != 0;
    // payload[1] also holds R (reserved, ignored by receivers) and the volume, unused here.
    const auto duration = static_cast<uint16_t>((payload[2] << 8) | payload[3]);
    if (!dtmf_char(event)) {
        ++stats_.unknown_events;
        return std::nullopt;
    }

    if (!active_) {
        start(rtp_timestamp, event, duration, end);
        return ended_ ? report() : std::nullopt;
    }

    // Distance from the current segment modulo 2^32, read as signed (RTP timestamps wrap).
    const auto delta = static_cast<int32_t>(rtp_timestamp - segment_timestamp_);
    if (delta == 0) {
        if (event != event_) {
            ++stats_.malformed;
            return std::nullopt;
        }
        if (reported_) {
            ++stats_.duplicates;
            return std::nullopt;
        }
        duration_ = std::max(duration_, duration);
        ended_ = ended_ || end;
        return ended_ ? report() : std::nullopt;
    }
    if (delta < 0) {
        ++stats_.duplicates; // a late packet of an earlier event or segment
        return std::nullopt;
    }

    // A newer timestamp. Without the marker bit and for the same unfinished key it is the next
    // segment of a long-duration event (RFC 4733 §2.5.2.3): the press goes on.
    if (!marker && event == event_ && !ended_ && !reported_) {
        segment_timestamp_ = rtp_timestamp;
        duration_ = duration;
        ended_ = end;
        return ended_ ? report() : std::nullopt;
    }

    // A new press. One still unreported (its end packets lost) is reported now; the new one, if
    // this packet already ends it, on its next (repeated) end packet.
    std::optional<DtmfDigit> previous;
    if (!reported_) previous = report();
    start(rtp_timestamp, event, duration, end);
    if (previous) return previous;
    return ended_ ? report() : std::nullopt;
}

std::optional<DtmfDigit> DtmfReceiver::finish() {
    if (!active_ || reported_) return std::nullopt;
    return report();
}

} // namespace wabridge::media

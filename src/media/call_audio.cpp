#include "wabridge/media/call_audio.hpp"

#include <algorithm>

namespace wabridge::media {

namespace {
constexpr size_t kMaxOpusFrameSamples = kEngineRate * 120 / 1000; // RFC 6716 §2.1.4: 120 ms
} // namespace

Result<std::unique_ptr<CallAudio>, std::string> CallAudio::create(const CallAudioSettings& s) {
    OpusEncoderSettings es;
    es.sample_rate = static_cast<int>(kEngineRate);
    es.bitrate = s.send_bitrate_bps;
    es.inband_fec = true;
    es.dtx = false; // WhatsApp ends calls after 20 s without media (138021)
    es.complexity = s.opus_complexity;
    auto encoder = OpusEncoder::create(es);
    if (!encoder) return err("opus encoder: " + encoder.error());
    auto decoder = OpusDecoder::create(static_cast<int>(kEngineRate));
    if (!decoder) return err("opus decoder: " + decoder.error());
    return std::unique_ptr<CallAudio>(
        new CallAudio(s, std::move(encoder.value()), std::move(decoder.value())));
}

CallAudio::CallAudio(const CallAudioSettings& s, OpusEncoder encoder, OpusDecoder decoder)
    : settings_(s)
    , jitter_(s.jitter)
    , encoder_(std::move(encoder))
    , decoder_(std::move(decoder))
    , playout_(kEngineRate)
    , packetizer_(s.ssrc, s.opus_payload_type, s.first_sequence, s.first_timestamp)
    , decoded_(kMaxOpusFrameSamples) {
    uplink_.reserve(kMaxOpusFrameSamples + kFrameSamples);
}

void CallAudio::on_rtp(const rtp::RtpPacket& packet, loop::TimePoint now) {
    const rtp::RtpHeader& h = packet.header;
    if (h.payload_type == settings_.opus_payload_type) {
        (void)jitter_.push(h.ssrc, h.sequence, h.timestamp, packet.payload, now);
        return;
    }
    if (settings_.dtmf_payload_type && h.payload_type == *settings_.dtmf_payload_type) {
        if (auto digit = dtmf_.on_packet(h.timestamp, h.marker, packet.payload)) {
            if (backend_) backend_->on_dtmf(*digit, now);
        }
        return;
    }
    ++counters_.unknown_payload_types;
}

size_t CallAudio::on_slot(loop::TimePoint now, std::span<uint8_t> out) {
    pull_caller_frame(now);
    const size_t n = write_packet(out);
    if (backend_) backend_->on_packet_sent(now);
    return n;
}

// Receive half of a slot: one jitter-buffer decision, decoded at 24 kHz (RFC 7587 §4.3 lets
// the decoder run at any rate), handed on in 20 ms frames.
void CallAudio::pull_caller_frame(loop::TimePoint now) {
    JitterFrame frame = jitter_.pop(now);
    Result<size_t, std::string> n = size_t{0};
    switch (frame.kind) {
    case JitterFrame::Kind::none:
        return;
    case JitterFrame::Kind::packet:
        n = decoder_.decode(frame.payload, decoded_);
        if (n) ++counters_.frames_decoded;
        break;
    case JitterFrame::Kind::fec:
        // RFC 6716 §2.1.7 / RFC 7587 §3.2: the next packet's LBRR data rebuilds the lost one.
        n = decoder_.decode_fec(frame.payload, decoded_, kFrameSamples);
        if (n) ++(decoder_.last_fec_used() ? counters_.frames_fec : counters_.frames_concealed);
        break;
    case JitterFrame::Kind::conceal:
        n = decoder_.conceal(decoded_, kFrameSamples);
        if (n) ++counters_.frames_concealed;
        break;
    }
    if (!n) {
        ++counters_.decode_errors;
        // Keep the caller's timeline: a bad packet becomes one frame of concealment.
        n = decoder_.conceal(decoded_, kFrameSamples);
        if (!n) return;
    }
    if (uplink_.empty()) uplink_arrival_ = frame.arrival.value_or(now);
    uplink_.insert(uplink_.end(), decoded_.begin(), decoded_.begin() + n.value());
    size_t offset = 0;
    while (uplink_.size() - offset >= kFrameSamples) {
        if (backend_) {
            backend_->on_caller_audio(std::span(uplink_).subspan(offset, kFrameSamples),
                                      uplink_arrival_.value_or(now), now);
            ++counters_.frames_to_ai;
        }
        offset += kFrameSamples;
    }
    uplink_.erase(uplink_.begin(), uplink_.begin() + static_cast<std::ptrdiff_t>(offset));
    if (!uplink_.empty()) uplink_arrival_ = frame.arrival.value_or(now);
}

// Send half of a slot: exactly one packet, AI audio when queued, otherwise silence.
size_t CallAudio::write_packet(std::span<uint8_t> out) {
    const size_t ai_samples = playout_.pop_frame(downlink_);
    const bool ai = ai_samples > 0;
    // Silence after a few flush frames is a cached packet: no encoder work (OpusEncoder).
    auto n = ai ? encoder_.encode(downlink_, encoded_) : encoder_.encode_silence(encoded_);
    if (!n) {
        ++counters_.encode_errors;
        return 0;
    }
    std::span<const uint8_t> payload = std::span(encoded_).first(n.value());
    const bool talkspurt = ai && !last_was_ai_;
    const size_t written = packetizer_.write(payload, talkspurt, out);
    if (written == 0) {
        ++counters_.encode_errors;
        return 0;
    }
    ++(ai ? counters_.packets_ai : counters_.packets_silence);
    last_was_ai_ = ai;
    return written;
}

void CallAudio::on_remote_loss(uint8_t fraction_lost) {
    // RFC 3550 §6.4.1: fraction lost is a fixed-point number with the binary point at the left.
    const int percent = std::clamp((fraction_lost * 100 + 128) / 256, 0, 100);
    if (percent == counters_.loss_hint_percent) return;
    counters_.loss_hint_percent = percent;
    encoder_.set_packet_loss_percent(percent);
}

CallAudioStats CallAudio::stats() const {
    CallAudioStats s = counters_;
    s.silence_cached = encoder_.stats().silence_cached;
    s.jitter = jitter_.stats();
    s.dtmf = dtmf_.stats();
    s.playout = playout_.stats();
    return s;
}

} // namespace wabridge::media

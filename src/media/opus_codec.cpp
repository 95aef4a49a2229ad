// The libopus adapter (see opus_codec.hpp).
#include "wabridge/media/opus_codec.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <opus/opus.h>

namespace wabridge::media {

namespace detail {

struct OpusEncoderHandle {
    struct Deleter {
        void operator()(::OpusEncoder* encoder) const { opus_encoder_destroy(encoder); }
    };
    std::unique_ptr<::OpusEncoder, Deleter> raw;
};

struct OpusDecoderHandle {
    struct Deleter {
        void operator()(::OpusDecoder* decoder) const { opus_decoder_destroy(decoder); }
    };
    std::unique_ptr<::OpusDecoder, Deleter> raw;
};

} // namespace detail

namespace {

bool supported_rate(int rate) {
    return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

std::string opus_error(const char* what, int code) {
    return std::string(what) + ": " + opus_strerror(code);
}

// A single 20 ms frame never needs more (RFC 6716 §3.4 R2: 1275 bytes of frame data + TOC).
constexpr size_t kMaxPayload = 1276;
// The cache is the encoding of zeros once it stops changing; libopus settles within a few
// frames, this only bounds the search.
constexpr int kMaxWarmFrames = 10;

} // namespace

// ---- OpusEncoder ----

Result<OpusEncoder, std::string> OpusEncoder::create(const OpusEncoderSettings& s) {
    if (!supported_rate(s.sample_rate))
        return err("opus encoder: unsupported rate " + std::to_string(s.sample_rate));
    if (s.bitrate < 500 || s.bitrate > 512000)
        return err("opus encoder: bitrate out of range " + std::to_string(s.bitrate));
    if (s.complexity < 0 || s.complexity > 10)
        return err("opus encoder: complexity out of range " + std::to_string(s.complexity));
    if (s.packet_loss_percent < 0 || s.packet_loss_percent > 100)
        return err(std::string("opus encoder: packet loss percent out of range"));
    if (s.max_bandwidth < OPUS_BANDWIDTH_NARROWBAND || s.max_bandwidth > OPUS_BANDWIDTH_FULLBAND)
        return err(std::string("opus encoder: bad max bandwidth"));

    int error = OPUS_OK;
    auto handle = std::make_unique<detail::OpusEncoderHandle>();
    handle->raw.reset(opus_encoder_create(s.sample_rate, 1, OPUS_APPLICATION_VOIP, &error));
    if (!handle->raw || error != OPUS_OK) return err(opus_error("opus_encoder_create", error));
    ::OpusEncoder* raw = handle->raw.get();
    OpusEncoder encoder(std::move(handle), s);
    const int ctl_errors[] = {
        opus_encoder_ctl(raw, OPUS_SET_BITRATE(s.bitrate)),
        opus_encoder_ctl(raw, OPUS_SET_MAX_BANDWIDTH(s.max_bandwidth)),
        opus_encoder_ctl(raw, OPUS_SET_INBAND_FEC(s.inband_fec ? 1 : 0)),
        opus_encoder_ctl(raw, OPUS_SET_PACKET_LOSS_PERC(s.packet_loss_percent)),
        opus_encoder_ctl(raw, OPUS_SET_DTX(s.dtx ? 1 : 0)),
        opus_encoder_ctl(raw, OPUS_SET_COMPLEXITY(s.complexity)),
        // The far end of the bridge is a voice: keeps libopus in SILK, where LBRR lives.
        opus_encoder_ctl(raw, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)),
    };
    for (int e : ctl_errors)
        if (e != OPUS_OK) return err(opus_error("opus_encoder_ctl", e));
    auto warmed = encoder.refresh_silence();
    if (!warmed) return err(warmed.error());
    return encoder;
}

OpusEncoder::OpusEncoder(std::unique_ptr<detail::OpusEncoderHandle> handle,
                         const OpusEncoderSettings& settings)
    : encoder_(std::move(handle))
    , settings_(settings) {}

OpusEncoder::OpusEncoder(OpusEncoder&&) noexcept = default;
OpusEncoder& OpusEncoder::operator=(OpusEncoder&&) noexcept = default;
OpusEncoder::~OpusEncoder() = default;

Result<size_t, std::string> OpusEncoder::run(std::span<const int16_t> frame,
                                             std::span<uint8_t> out) {
    if (!encoder_) return err(std::string("opus encoder: moved from"));
    if (frame.size() != static_cast<size_t>(frame_samples())) {
        ++stats_.errors;
        return err("opus encoder: frame must be " + std::to_string(frame_samples()) +
                   " samples, got " + std::to_string(frame.size()));
    }
    const auto room = static_cast<opus_int32>(std::min(out.size(), kMaxPayload));
    const opus_int32 n =
        opus_encode(encoder_->raw.get(), frame.data(), frame_samples(), out.data(), room);
    if (n < 0) {
        ++stats_.errors;
        return err(opus_error("opus_encode", n));
    }
    ++stats_.frames_encoded;
    dirty_ = true;
    return static_cast<size_t>(n);
}

Result<size_t, std::string> OpusEncoder::encode(std::span<const int16_t> frame,
                                                std::span<uint8_t> out) {
    if (!encoder_) return err(std::string("opus encoder: moved from"));
    if (reset_pending_) {
        // The decoder has been fed cached silence: start again from the state an encoder fed
        // zeros all along would be close to.
        opus_encoder_ctl(encoder_->raw.get(), OPUS_RESET_STATE);
        ++stats_.resets;
        reset_pending_ = false;
        dirty_ = false;
    }
    auto n = run(frame, out);
    if (n) flushed_ = 0;
    return n;
}

Result<size_t, std::string> OpusEncoder::encode_silence(std::span<uint8_t> out) {
    if (!encoder_) return err(std::string("opus encoder: moved from"));
    if (dirty_ && flushed_ < kSilenceFlushFrames) {
        // Still draining real audio: the encoder's lookahead and the LBRR copy of the last
        // real frame go out in these packets.
        const std::vector<int16_t> zeros(static_cast<size_t>(frame_samples()), 0);
        auto n = run(zeros, out);
        if (n) {
            ++flushed_;
            ++stats_.silence_flushed;
        }
        return n;
    }
    if (silence_stale_) {
        auto refreshed = refresh_silence();
        if (!refreshed) return err(refreshed.error());
    }
    if (out.size() < silence_.size()) {
        ++stats_.errors;
        return err(std::string("opus encoder: output buffer too small"));
    }
    std::memcpy(out.data(), silence_.data(), silence_.size());
    ++stats_.silence_cached;
    reset_pending_ = dirty_;
    return silence_.size();
}

// Encodes zeros from a reset state until two packets in a row are identical (or
// kMaxWarmFrames), keeps that packet, and resets again.
Result<bool, std::string> OpusEncoder::refresh_silence() {
    const std::vector<int16_t> zeros(static_cast<size_t>(frame_samples()), 0);
    std::vector<uint8_t> packet(kMaxPayload);
    std::vector<uint8_t> previous;
    opus_encoder_ctl(encoder_->raw.get(), OPUS_RESET_STATE);
    for (int i = 0; i < kMaxWarmFrames; ++i) {
        const opus_int32 n = opus_encode(encoder_->raw.get(), zeros.data(), frame_samples(),
                                         packet.data(), static_cast<opus_int32>(packet.size()));
        if (n < 0) return err(opus_error("opus_encode (silence)", n));
        if (i > 0 && static_cast<size_t>(n) == previous.size() &&
            std::equal(previous.begin(), previous.end(), packet.begin()))
            break;
        previous.assign(packet.begin(), packet.begin() + n);
    }
    opus_encoder_ctl(encoder_->raw.get(), OPUS_RESET_STATE);
    silence_ = std::move(previous);
    silence_stale_ = false;
    dirty_ = false;
    flushed_ = 0;
    return true;
}

void OpusEncoder::set_packet_loss_percent(int percent) {
    settings_.packet_loss_percent = std::clamp(percent, 0, 100);
    if (encoder_)
        opus_encoder_ctl(encoder_->raw.get(),
                         OPUS_SET_PACKET_LOSS_PERC(settings_.packet_loss_percent));
}

void OpusEncoder::set_bitrate(int bps) {
    const int clamped = std::clamp(bps, 500, 512000);
    if (clamped == settings_.bitrate) return;
    settings_.bitrate = clamped;
    if (encoder_) opus_encoder_ctl(encoder_->raw.get(), OPUS_SET_BITRATE(clamped));
    silence_stale_ = true;
}

// ---- OpusDecoder ----

Result<OpusDecoder, std::string> OpusDecoder::create(int sample_rate) {
    if (!supported_rate(sample_rate))
        return err("opus decoder: unsupported rate " + std::to_string(sample_rate));
    int error = OPUS_OK;
    auto handle = std::make_unique<detail::OpusDecoderHandle>();
    handle->raw.reset(opus_decoder_create(sample_rate, 1, &error));
    if (!handle->raw || error != OPUS_OK) return err(opus_error("opus_decoder_create", error));
    return OpusDecoder(std::move(handle), sample_rate);
}

OpusDecoder::OpusDecoder(std::unique_ptr<detail::OpusDecoderHandle> handle, int sample_rate)
    : decoder_(std::move(handle))
    , sample_rate_(sample_rate) {}

OpusDecoder::OpusDecoder(OpusDecoder&&) noexcept = default;
OpusDecoder& OpusDecoder::operator=(OpusDecoder&&) noexcept = default;
OpusDecoder::~OpusDecoder() = default;

Result<size_t, std::string> OpusDecoder::decode(std::span<const uint8_t> payload,
                                                std::span<int16_t> out) {
    if (!decoder_) return err(std::string("opus decoder: moved from"));
    if (payload.empty() || payload.size() > INT_MAX) {
        ++stats_.errors;
        return err(std::string("opus decoder: empty payload"));
    }
    const auto room = static_cast<int>(std::min(out.size(), max_frame_samples()));
    const int n = opus_decode(decoder_->raw.get(), payload.data(),
                              static_cast<opus_int32>(payload.size()), out.data(), room, 0);
    if (n < 0) {
        ++stats_.errors;
        return err(opus_error("opus_decode", n));
    }
    // RFC 6716 §3.1: TOC configurations 16..31 are CELT-only.
    last_celt_only_ = (payload[0] >> 3) >= 16;
    ++stats_.packets;
    return static_cast<size_t>(n);
}

Result<size_t, std::string> OpusDecoder::decode_fec(std::span<const uint8_t> next_payload,
                                                    std::span<int16_t> out, size_t frame_samples) {
    if (!decoder_) return err(std::string("opus decoder: moved from"));
    if (next_payload.empty() || next_payload.size() > INT_MAX) {
        ++stats_.errors;
        return err(std::string("opus decoder: no packet to take FEC from"));
    }
    if (frame_samples == 0 || frame_samples > out.size() || frame_samples > max_frame_samples()) {
        ++stats_.errors;
        return err(std::string("opus decoder: bad FEC frame size"));
    }
    const int n = opus_decode(decoder_->raw.get(), next_payload.data(),
                              static_cast<opus_int32>(next_payload.size()), out.data(),
                              static_cast<int>(frame_samples), 1);
    if (n < 0) {
        ++stats_.errors;
        last_fec_used_ = false;
        return err(opus_error("opus_decode (fec)", n));
    }
    // libopus uses the LBRR data only when there is some, the packet's frame fits in the gap and
    // the previous frame was not CELT-only; otherwise it conceals.
    const int packet_samples = opus_packet_get_samples_per_frame(next_payload.data(), sample_rate_);
    last_fec_used_ = packet_has_lbrr(next_payload) && !last_celt_only_ &&
                     static_cast<size_t>(packet_samples) <= frame_samples;
    ++(last_fec_used_ ? stats_.fec_recovered : stats_.fec_missing);
    return static_cast<size_t>(n);
}

Result<size_t, std::string> OpusDecoder::conceal(std::span<int16_t> out, size_t frame_samples) {
    if (!decoder_) return err(std::string("opus decoder: moved from"));
    if (frame_samples == 0 || frame_samples > out.size() || frame_samples > max_frame_samples()) {
        ++stats_.errors;
        return err(std::string("opus decoder: bad concealment size"));
    }
    const int n = opus_decode(decoder_->raw.get(), nullptr, 0, out.data(),
                              static_cast<int>(frame_samples), 0);
    if (n < 0) {
        ++stats_.errors;
        return err(opus_error("opus_decode (plc)", n));
    }
    ++stats_.concealed;
    return static_cast<size_t>(n);
}

// RFC 6716 §3.1 (TOC), §3.2 (frame packing), §4.2.3-4.2.4 (SILK header bits).
bool packet_has_lbrr(std::span<const uint8_t> packet) {
    if (packet.empty() || packet.size() > INT_MAX) return false;
    const int config = packet[0] >> 3;
    if (config >= 16) return false; // CELT-only: no SILK layer
    const unsigned char* frames[48];
    opus_int16 sizes[48];
    unsigned char toc = 0;
    const int count = opus_packet_parse(packet.data(), static_cast<opus_int32>(packet.size()), &toc,
                                        frames, sizes, nullptr);
    if (count < 1 || sizes[0] < 1) return false;
    // SILK frames per Opus frame: 10 and 20 ms hold one, 40 ms two, 60 ms three. Hybrid
    // (configs 12..15) is always 10 or 20 ms.
    const int duration_code = config & 0x3; // 10, 20, 40, 60 ms for SILK-only
    const int silk_frames = (config < 12 && duration_code >= 2) ? duration_code : 1;
    const bool stereo = (packet[0] & 0x04) != 0;
    // The header bits in order: mid VAD x silk_frames, mid LBRR, then (stereo) the side's.
    const unsigned first = frames[0][0];
    const bool mid_lbrr = (first >> (7 - silk_frames)) & 1;
    const bool side_lbrr = stereo && ((first >> (6 - 2 * silk_frames)) & 1);
    return mid_lbrr || side_lbrr;
}

} // namespace wabridge::media

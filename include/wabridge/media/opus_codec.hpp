// The libopus adapter: one mono encoder and one decoder per call, each owning its libopus
// handle. Everything else in the tree uses libopus only through this header.
//
// The encoder is set up for WhatsApp (RFC 7587 Opus over RTP, 20 ms packets): VoIP mode,
// wideband at most (WhatsApp offers maxplaybackrate=16000), in-band FEC (LBRR, RFC 6716
// §2.1.7) on, DTX off (a call without packets is hung up).
//
// Silence is cheap: encode_silence() hands out a cached packet for a 20 ms all-zero frame
// instead of running the encoder, once the encoder has flushed the audio before it (see there).
// Per-packet failures come back as errors for the caller to count; nothing here logs.
#pragma once

#include "wabridge/util/result.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <opus/opus_defines.h>
#include <span>
#include <string>
#include <vector>

namespace wabridge::media {

namespace detail {
// Own the libopus handles (defined in opus_codec.cpp). libopus's own type names stay out of
// this header: they would clash with the classes below under `using namespace`.
struct OpusEncoderHandle;
struct OpusDecoderHandle;
} // namespace detail

struct OpusEncoderSettings {
    int sample_rate = 24000;                     // input rate: 8000/12000/16000/24000/48000
    int bitrate = 20000;                         // bps, 500..512000
    int max_bandwidth = OPUS_BANDWIDTH_WIDEBAND; // WhatsApp maxplaybackrate=16000
    bool inband_fec = true;
    int packet_loss_percent = 0; // the FEC hint: libopus codes LBRR only when this is > 0
    bool dtx = false;            // must stay off for WhatsApp
    // 0..10. 5 costs half the CPU of 10 for speech at 20 kbit/s wideband (SILK): measured
    // ~95 vs ~200 us per 20 ms frame (OpusEncoder.CpuCostOfSilenceVersusSpeech prints them),
    // for a codec that is a small part of the call's quality at this bitrate.
    int complexity = 5;
};

struct OpusEncoderStats {
    uint64_t frames_encoded = 0;  // encode() calls that ran libopus (including silence flushes)
    uint64_t silence_cached = 0;  // encode_silence() calls answered from the cache
    uint64_t silence_flushed = 0; // encode_silence() calls that had to run the encoder
    uint64_t resets = 0;          // encoder state resets when audio resumed after the cache
    uint64_t errors = 0;
};

class OpusEncoder {
public:
    // After real audio, encode_silence() runs the encoder on this many all-zero frames before
    // it switches to the cache: they carry the end of the audio still in the encoder's
    // lookahead (6.5 ms), the LBRR copy of the last real frame, and the start of the decoder's
    // decay. Measured: with 3, the decoded output from the first cached packet on is within
    // 2 LSB of continuous encoding's; with 2 it was off by up to 10 LSB.
    static constexpr int kSilenceFlushFrames = 3;

    // APPLICATION_VOIP, mono. Rejects unsupported rates and out-of-range settings.
    static Result<OpusEncoder, std::string> create(const OpusEncoderSettings& settings);

    OpusEncoder(OpusEncoder&&) noexcept;
    OpusEncoder& operator=(OpusEncoder&&) noexcept;
    ~OpusEncoder();

    // Encodes exactly one 20 ms frame (frame_samples() samples) into out. Returns the payload
    // length. Errors: wrong frame length, out too small, libopus failure.
    Result<size_t, std::string> encode(std::span<const int16_t> frame, std::span<uint8_t> out);

    // The payload for one 20 ms all-zero frame, written into out. The first
    // kSilenceFlushFrames calls after real audio run the encoder on zeros; after that the cached
    // packet is copied (no encoder work: ~0.1 us instead of ~50 us). Once cached packets went
    // out, the next encode() starts from a reset encoder: its buffers hold zeros, as they would
    // after encoding the silence, and it is in step with the decoder that has been decoding
    // silence. (Measured against continuous encoding in
    // OpusEncoder.AudioAfterCachedSilenceIsAsGoodAsContinuousEncoding.)
    Result<size_t, std::string> encode_silence(std::span<uint8_t> out);
    // The cached silence packet (steady-state encoding of zeros with these settings).
    std::span<const uint8_t> silence_payload() const { return silence_; }

    void set_packet_loss_percent(int percent); // clamps 0..100
    void set_bitrate(int bps);                 // clamps 500..512000
    int frame_samples() const { return settings_.sample_rate / 50; }
    const OpusEncoderSettings& settings() const { return settings_; }
    const OpusEncoderStats& stats() const { return stats_; }

private:
    OpusEncoder(std::unique_ptr<detail::OpusEncoderHandle> handle,
                const OpusEncoderSettings& settings);
    Result<size_t, std::string> run(std::span<const int16_t> frame, std::span<uint8_t> out);
    Result<bool, std::string> refresh_silence();

    std::unique_ptr<detail::OpusEncoderHandle> encoder_;
    OpusEncoderSettings settings_;
    std::vector<uint8_t> silence_; // cached payload for an all-zero frame
    bool silence_stale_ = false;   // the bitrate changed since silence_ was made
    int flushed_ = 0;              // zero frames encoded since the last real frame
    bool dirty_ = false;           // the encoder has run since its last reset
    bool reset_pending_ = false;   // cached packets went out: reset before real audio
    OpusEncoderStats stats_;
};

struct OpusDecoderStats {
    uint64_t packets = 0;       // decode() successes
    uint64_t fec_recovered = 0; // decode_fec() that found LBRR data
    uint64_t fec_missing = 0;   // decode_fec() that fell back to PLC
    uint64_t concealed = 0;     // conceal() calls
    uint64_t errors = 0;
};

class OpusDecoder {
public:
    // Mono output at sample_rate (8000/12000/16000/24000/48000); stereo packets are downmixed.
    static Result<OpusDecoder, std::string> create(int sample_rate = 24000);

    OpusDecoder(OpusDecoder&&) noexcept;
    OpusDecoder& operator=(OpusDecoder&&) noexcept;
    ~OpusDecoder();

    // Normal decode of one packet into out, which should hold max_frame_samples() (120 ms,
    // RFC 6716 §3.2.5); a packet longer than out is an error. Returns samples written.
    // An empty payload is an error (use conceal()).
    Result<size_t, std::string> decode(std::span<const uint8_t> payload, std::span<int16_t> out);
    // Rebuilds the PREVIOUS (lost) frame from this packet's in-band FEC (LBRR) data,
    // frame_samples long (a multiple of 2.5 ms). Without LBRR data libopus conceals instead;
    // last_fec_used() says which happened. Decode the packet itself normally afterwards.
    Result<size_t, std::string> decode_fec(std::span<const uint8_t> next_payload,
                                           std::span<int16_t> out, size_t frame_samples);
    bool last_fec_used() const { return last_fec_used_; }
    // Packet-loss concealment for frame_samples (a multiple of 2.5 ms).
    Result<size_t, std::string> conceal(std::span<int16_t> out, size_t frame_samples);

    int sample_rate() const { return sample_rate_; }
    size_t max_frame_samples() const { return static_cast<size_t>(sample_rate_) * 120 / 1000; }
    const OpusDecoderStats& stats() const { return stats_; }

private:
    OpusDecoder(std::unique_ptr<detail::OpusDecoderHandle> handle, int sample_rate);

    std::unique_ptr<detail::OpusDecoderHandle> decoder_;
    int sample_rate_ = 0;
    bool last_fec_used_ = false;
    bool last_celt_only_ = false; // libopus conceals instead of using FEC after a CELT frame
    OpusDecoderStats stats_;
};

// Whether the packet's first frame carries LBRR (in-band FEC) data for the frame before it:
// RFC 6716 §4.2.3-4.2.4, the SILK header bits (per channel: one VAD flag per SILK frame, then
// the LBRR flag) are the first range-coded symbols, each with probability 1/2, so they are the
// leading bits of the frame data. CELT-only and malformed packets have none. (libopus 1.3 has
// no opus_packet_has_lbrr; this is our own reading of the RFC.)
bool packet_has_lbrr(std::span<const uint8_t> packet);

} // namespace wabridge::media

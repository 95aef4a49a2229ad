// The audio format on the AI side of a call, and the conversion between it and the engine's
// 24 kHz PCM16. OpenAI Realtime speaks `audio/pcm` at 24 kHz (no conversion at all),
// `audio/pcmu` and `audio/pcma` (G.711 at 8 kHz); other backends may want 16 kHz PCM. Where
// the rates differ a speexdsp Resampler is used (quality configurable, RESAMPLER_QUALITY).
// PCM on the wire is little-endian 16-bit mono, as the Realtime API sends it base64-encoded.
#pragma once

#include "wabridge/media/resampler.hpp"
#include "wabridge/util/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace wabridge::media {

enum class AiAudioFormat { pcm24k, pcm16k, pcmu, pcma };

// "audio/pcm;rate=24000"-style names: "pcm24k", "pcm16k", "pcmu", "pcma".
std::string_view to_string(AiAudioFormat f);
std::optional<AiAudioFormat> parse_ai_audio_format(std::string_view text);
uint32_t sample_rate(AiAudioFormat f);

class AiAudioConverter {
public:
    static Result<AiAudioConverter, std::string> create(AiAudioFormat format, int quality = 3);

    // Caller audio at 24 kHz → bytes in the AI's format, appended to out.
    void to_ai(std::span<const int16_t> pcm24k, std::vector<uint8_t>& out);
    // Bytes from the AI → 24 kHz samples appended to out. A PCM sample split across two calls
    // (an odd byte count) is completed by the next call.
    void from_ai(std::span<const uint8_t> bytes, std::vector<int16_t>& out);

    AiAudioFormat format() const { return format_; }

private:
    AiAudioConverter(AiAudioFormat format, std::optional<Resampler> down,
                     std::optional<Resampler> up);
    AiAudioFormat format_;
    std::optional<Resampler> to_ai_rate_, from_ai_rate_; // absent at 24 kHz
    std::vector<int16_t> scratch_;
    std::optional<uint8_t> pending_byte_;
};

} // namespace wabridge::media

#include "wabridge/media/ai_audio_format.hpp"

#include "wabridge/media/g711.hpp"

#include <array>
#include <string>

namespace wabridge::media {

namespace {
constexpr uint32_t kEngineRate = 24000;

struct FormatName {
    AiAudioFormat format;
    std::string_view name;
    uint32_t rate;
};
constexpr std::array<FormatName, 4> kFormats{{
    {AiAudioFormat::pcm24k, "pcm24k", 24000},
    {AiAudioFormat::pcm16k, "pcm16k", 16000},
    {AiAudioFormat::pcmu, "pcmu", 8000}, // ITU-T G.711 μ-law
    {AiAudioFormat::pcma, "pcma", 8000}, // ITU-T G.711 A-law
}};

bool is_g711(AiAudioFormat f) {
    return f == AiAudioFormat::pcmu || f == AiAudioFormat::pcma;
}
} // namespace

std::string_view to_string(AiAudioFormat f) {
    for (const auto& n : kFormats)
        if (n.format == f) return n.name;
    return "pcm24k";
}

std::optional<AiAudioFormat> parse_ai_audio_format(std::string_view text) {
    for (const auto& n : kFormats)
        if (n.name == text) return n.format;
    return std::nullopt;
}

uint32_t sample_rate(AiAudioFormat f) {
    for (const auto& n : kFormats)
        if (n.format == f) return n.rate;
    return kEngineRate;
}

Result<AiAudioConverter, std::string> AiAudioConverter::create(AiAudioFormat format, int quality) {
    const uint32_t rate = sample_rate(format);
    if (rate == kEngineRate) return AiAudioConverter(format, std::nullopt, std::nullopt);
    auto down = Resampler::create(kEngineRate, rate, quality);
    if (!down) return err(down.error());
    auto up = Resampler::create(rate, kEngineRate, quality);
    if (!up) return err(up.error());
    return AiAudioConverter(format, std::move(down.value()), std::move(up.value()));
}

AiAudioConverter::AiAudioConverter(AiAudioFormat format, std::optional<Resampler> down,
                                   std::optional<Resampler> up)
    : format_(format)
    , to_ai_rate_(std::move(down))
    , from_ai_rate_(std::move(up)) {}

void AiAudioConverter::to_ai(std::span<const int16_t> pcm24k, std::vector<uint8_t>& out) {
    std::span<const int16_t> pcm = pcm24k;
    if (to_ai_rate_) {
        scratch_.clear();
        to_ai_rate_->process(pcm24k, scratch_);
        pcm = scratch_;
    }
    const size_t start = out.size();
    if (is_g711(format_)) {
        out.resize(start + pcm.size());
        auto dst = std::span(out).subspan(start);
        if (format_ == AiAudioFormat::pcmu)
            encode_ulaw(pcm, dst);
        else
            encode_alaw(pcm, dst);
        return;
    }
    out.resize(start + 2 * pcm.size());
    for (size_t i = 0; i < pcm.size(); ++i) {
        const auto v = static_cast<uint16_t>(pcm[i]);
        out[start + 2 * i] = static_cast<uint8_t>(v & 0xFF);
        out[start + 2 * i + 1] = static_cast<uint8_t>(v >> 8);
    }
}

void AiAudioConverter::from_ai(std::span<const uint8_t> bytes, std::vector<int16_t>& out) {
    scratch_.clear();
    if (is_g711(format_)) {
        scratch_.resize(bytes.size());
        if (format_ == AiAudioFormat::pcmu)
            decode_ulaw(bytes, scratch_);
        else
            decode_alaw(bytes, scratch_);
    } else {
        size_t i = 0;
        if (pending_byte_ && !bytes.empty()) {
            scratch_.push_back(static_cast<int16_t>(*pending_byte_ | (bytes[0] << 8)));
            pending_byte_.reset();
            i = 1;
        }
        for (; i + 1 < bytes.size(); i += 2)
            scratch_.push_back(static_cast<int16_t>(bytes[i] | (bytes[i + 1] << 8)));
        if (i < bytes.size()) pending_byte_ = bytes[i];
    }
    if (from_ai_rate_)
        from_ai_rate_->process(scratch_, out);
    else
        out.insert(out.end(), scratch_.begin(), scratch_.end());
}

} // namespace wabridge::media

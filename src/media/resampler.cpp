// The libspeexdsp resampler adapter (see resampler.hpp).
#include "wabridge/media/resampler.hpp"

#include <algorithm>
#include <speex/speex_resampler.h>

namespace wabridge::media {

void Resampler::Deleter::operator()(SpeexResamplerState_* state) const {
    speex_resampler_destroy(state);
}

Result<Resampler, std::string> Resampler::create(uint32_t in_rate, uint32_t out_rate, int quality) {
    auto valid = [](uint32_t rate) { return rate >= kMinRate && rate <= kMaxRate; };
    if (!valid(in_rate) || !valid(out_rate))
        return err("resampler: rates must be " + std::to_string(kMinRate) + ".." +
                   std::to_string(kMaxRate) + " Hz, got " + std::to_string(in_rate) + " -> " +
                   std::to_string(out_rate));
    if (quality < SPEEX_RESAMPLER_QUALITY_MIN || quality > SPEEX_RESAMPLER_QUALITY_MAX)
        return err("resampler: quality must be 0..10, got " + std::to_string(quality));
    int error = RESAMPLER_ERR_SUCCESS;
    SpeexResamplerState* state = speex_resampler_init(1, in_rate, out_rate, quality, &error);
    if (state == nullptr || error != RESAMPLER_ERR_SUCCESS) {
        if (state != nullptr) speex_resampler_destroy(state);
        return err(std::string("resampler: ") + speex_resampler_strerror(error));
    }
    return Resampler(state, in_rate, out_rate, quality);
}

Resampler::Resampler(SpeexResamplerState_* state, uint32_t in_rate, uint32_t out_rate, int quality)
    : state_(state)
    , in_rate_(in_rate)
    , out_rate_(out_rate)
    , quality_(quality) {}

Resampler::Resampler(Resampler&&) noexcept = default;
Resampler& Resampler::operator=(Resampler&&) noexcept = default;
Resampler::~Resampler() = default;

void Resampler::process(std::span<const int16_t> in, std::vector<int16_t>& out) {
    if (!state_) return; // moved-from
    // speex counts in 32-bit lengths; feed at most this many samples per call.
    constexpr size_t kMaxChunk = size_t{1} << 20;
    size_t consumed = 0;
    while (consumed < in.size()) {
        const size_t chunk = std::min(in.size() - consumed, kMaxChunk);
        // ceil(chunk * out / in) plus the fractional carry; a little spare costs nothing.
        const size_t room = static_cast<size_t>(uint64_t{chunk} * out_rate_ / in_rate_) + 8;
        const size_t old_size = out.size();
        out.resize(old_size + room);
        auto in_len = static_cast<spx_uint32_t>(chunk);
        auto out_len = static_cast<spx_uint32_t>(room);
        const int error = speex_resampler_process_int(state_.get(), 0, in.data() + consumed,
                                                      &in_len, out.data() + old_size, &out_len);
        out.resize(old_size + out_len);
        consumed += in_len;
        if (error != RESAMPLER_ERR_SUCCESS || (in_len == 0 && out_len == 0)) break;
    }
}

int Resampler::input_latency_samples() const {
    return state_ ? speex_resampler_get_input_latency(state_.get()) : 0;
}

void Resampler::reset() {
    if (state_) speex_resampler_reset_mem(state_.get());
}

} // namespace wabridge::media

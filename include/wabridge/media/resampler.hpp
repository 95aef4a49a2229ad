// The libspeexdsp resampler adapter: mono int16 sample-rate conversion between the rates the
// bridge meets (8/16/24/48 kHz), streaming, so 20 ms frames can be fed one at a time.
//
// The filter is speex's windowed-sinc; quality 0..10 trades taps for stop-band attenuation
// (3 is speex's VoIP default). The output is delayed by input_latency_samples() input samples
// (half the filter); nothing is trimmed, so the delay is the same for every chunking.
#pragma once

#include "wabridge/util/result.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct SpeexResamplerState_; // libspeexdsp's state (SpeexResamplerState), kept out of this header

namespace wabridge::media {

class Resampler {
public:
    // Rates from kMinRate to kMaxRate Hz, quality 0..10; anything else is an error.
    static constexpr uint32_t kMinRate = 4000;
    static constexpr uint32_t kMaxRate = 192000;
    static Result<Resampler, std::string> create(uint32_t in_rate, uint32_t out_rate,
                                                 int quality = 3);

    Resampler(Resampler&&) noexcept;
    Resampler& operator=(Resampler&&) noexcept;
    ~Resampler();

    // Appends the resampled samples for `in` to `out`, consuming all of `in`. Over a stream the
    // output count tracks total_in * out_rate / in_rate (the fractional position carries over
    // from call to call), and the samples do not depend on how the input was chunked.
    void process(std::span<const int16_t> in, std::vector<int16_t>& out);

    uint32_t in_rate() const { return in_rate_; }
    uint32_t out_rate() const { return out_rate_; }
    int quality() const { return quality_; }
    // The filter delay in input samples (speex_resampler_get_input_latency): an impulse at
    // input sample n comes out centred on output sample (n + latency) * out_rate / in_rate.
    int input_latency_samples() const;
    // Forgets the history: the next process() behaves as on a fresh resampler.
    void reset();

private:
    struct Deleter {
        void operator()(SpeexResamplerState_* state) const;
    };
    Resampler(SpeexResamplerState_* state, uint32_t in_rate, uint32_t out_rate, int quality);

    std::unique_ptr<SpeexResamplerState_, Deleter> state_;
    uint32_t in_rate_ = 0;
    uint32_t out_rate_ = 0;
    int quality_ = 0;
};

} // namespace wabridge::media

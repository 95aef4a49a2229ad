// The speexdsp resampler adapter: pass-band flatness, stop-band attenuation, group delay against
// the reported latency, chunking independence, reset, and rejected rates.
#include "wabridge/media/resampler.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace wabridge::media {
namespace {

struct RatePair {
    uint32_t in;
    uint32_t out;
};
const RatePair kPairs[] = {
    {24000, 16000}, {16000, 24000}, {8000, 24000}, {24000, 8000}, {48000, 24000}};

Resampler make(RatePair p, int quality = 3) {
    auto r = Resampler::create(p.in, p.out, quality);
    EXPECT_TRUE(r) << p.in << " -> " << p.out;
    return std::move(r.value());
}

std::vector<int16_t> sine(uint32_t rate, double hz, size_t n, double amplitude = 10000) {
    std::vector<int16_t> v(n);
    for (size_t i = 0; i < n; ++i)
        v[i] = static_cast<int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * i / rate)));
    return v;
}

// The complex amplitude of `hz` in x[first, first + n) (a DFT bin at an arbitrary frequency),
// with the phase referred to sample 0 of x: a*sin(w i + p) gives a * e^{j(p - pi/2)}.
std::complex<double> tone_at(const std::vector<int16_t>& x, uint32_t rate, double hz, size_t first,
                             size_t n) {
    std::complex<double> sum = 0;
    for (size_t i = first; i < first + n; ++i)
        sum += double(x[i]) * std::polar(1.0, -2 * M_PI * hz * double(i) / rate);
    return sum * (2.0 / n);
}

double rms(const std::vector<int16_t>& x, size_t first, size_t n) {
    double sum = 0;
    for (size_t i = first; i < first + n; ++i)
        sum += double(x[i]) * x[i];
    return std::sqrt(sum / n);
}

double db(double ratio) {
    return 20 * std::log10(ratio);
}

std::vector<int16_t> resample(RatePair p, const std::vector<int16_t>& in, int quality = 3) {
    Resampler r = make(p, quality);
    std::vector<int16_t> out;
    r.process(in, out);
    return out;
}

// The delay the adapter reports, in output samples.
double reported_delay_out(RatePair p) {
    return make(p).input_latency_samples() * double(p.out) / p.in;
}

TEST(Resampler, TwentyMillisecondFramesGiveTwentyMillisecondFrames) {
    for (RatePair p : kPairs) {
        Resampler r = make(p);
        const auto in = sine(p.in, 440, p.in / 50);
        std::vector<int16_t> out;
        for (int frame = 1; frame <= 10; ++frame) {
            r.process(in, out);
            EXPECT_EQ(out.size(), frame * p.out / 50) << p.in << " -> " << p.out;
        }
        EXPECT_EQ(r.in_rate(), p.in);
        EXPECT_EQ(r.out_rate(), p.out);
        EXPECT_EQ(r.quality(), 3);
    }
}

// Tones up to 0.8 of the lower Nyquist frequency keep their level within 1 dB.
TEST(Resampler, PassBandIsFlatWithinOneDb) {
    for (RatePair p : kPairs) {
        const double nyquist = std::min(p.in, p.out) / 2.0;
        double worst = 0;
        for (double fraction : {0.05, 0.2, 0.4, 0.6, 0.7, 0.8}) {
            const double hz = std::round(fraction * nyquist);
            const auto out = resample(p, sine(p.in, hz, 2 * p.in));
            // One second of steady state: a whole number of cycles of an integer-Hz tone.
            const double gain = std::abs(tone_at(out, p.out, hz, p.out / 2, p.out)) / 10000;
            EXPECT_NEAR(db(gain), 0.0, 1.0) << p.in << " -> " << p.out << " at " << hz << " Hz";
            worst = std::max(worst, std::abs(db(gain)));
        }
        std::printf("[ Resampler] %5u -> %5u: pass band (to 0.8 Nyquist) within %.2f dB\n", p.in,
                    p.out, worst);
    }
}

// Downsampling: a tone between the output's Nyquist frequency and the input's would alias; the
// anti-alias filter must take it down by at least 30 dB (all of the output's energy counts).
TEST(Resampler, TonesAboveTheOutputNyquistAreAttenuatedWhenDownsampling) {
    for (RatePair p : kPairs) {
        if (p.out >= p.in) continue;
        const double out_nyquist = p.out / 2.0;
        for (double factor : {1.1, 1.3, 1.6, 1.9}) {
            const double hz = std::round(factor * out_nyquist);
            if (hz >= 0.95 * p.in / 2.0) continue;
            const auto out = resample(p, sine(p.in, hz, 2 * p.in));
            // An output that rounds to all zeros reads as -120 dB.
            const double level =
                db(std::max(rms(out, p.out / 2, p.out), 1e-2) / (10000 / std::sqrt(2.0)));
            EXPECT_LE(level, -30.0) << p.in << " -> " << p.out << " at " << hz << " Hz";
            std::printf("[ Resampler] %5u -> %5u: %5.0f Hz comes out at %.1f dB\n", p.in, p.out, hz,
                        level);
        }
    }
}

// Upsampling: the images of a tone (at in_rate - f) stay 30 dB below it.
TEST(Resampler, ImagesAreAttenuatedWhenUpsampling) {
    for (RatePair p : kPairs) {
        if (p.out <= p.in) continue;
        for (double hz : {1000.0, 0.6 * p.in / 2}) {
            const auto out = resample(p, sine(p.in, hz, 2 * p.in));
            const double tone = std::abs(tone_at(out, p.out, hz, p.out / 2, p.out));
            const double image = std::abs(tone_at(out, p.out, p.in - hz, p.out / 2, p.out));
            EXPECT_LE(db(image / tone), -30.0) << p.in << " -> " << p.out << " at " << hz;
        }
    }
}

// An impulse at input sample n0 comes out centred on output sample n0 * out / in + delay, and
// that delay is the reported input latency scaled to the output rate (within one sample).
TEST(Resampler, ImpulseDelayMatchesTheReportedLatency) {
    for (RatePair p : kPairs) {
        const size_t n0 = p.in / 10; // 100 ms in: a whole number of output samples too
        std::vector<int16_t> in(p.in / 2, 0);
        in[n0] = 20000;
        const auto out = resample(p, in);
        const auto peak = static_cast<size_t>(
            std::max_element(out.begin(), out.end(),
                             [](int16_t a, int16_t b) { return std::abs(a) < std::abs(b); }) -
            out.begin());
        ASSERT_GT(peak, 0u);
        ASSERT_LT(peak + 1, out.size());
        // Parabolic interpolation of the peak between samples.
        const double l = out[peak - 1], c = out[peak], r = out[peak + 1];
        const double offset = 0.5 * (l - r) / (l - 2 * c + r);
        const double measured = peak + offset - double(n0) * p.out / p.in;
        const double reported = reported_delay_out(p);
        EXPECT_NEAR(measured, reported, 1.0) << p.in << " -> " << p.out;
        std::printf("[ Resampler] %5u -> %5u: latency %d input samples = %.2f output samples; "
                    "impulse delay %.2f output samples\n",
                    p.in, p.out, make(p).input_latency_samples(), reported, measured);
    }
}

// Group delay -dphase/domega from two tones 50 Hz apart, at several frequencies: the same
// everywhere in the pass band (linear phase) and equal to the reported latency.
TEST(Resampler, GroupDelayIsConstantAcrossThePassBand) {
    constexpr double kStep = 50; // Hz; small enough that the phase difference cannot wrap
    for (RatePair p : kPairs) {
        const double nyquist = std::min(p.in, p.out) / 2.0;
        const double reported = reported_delay_out(p);
        std::vector<double> delays;
        for (double fraction : {0.1, 0.3, 0.5, 0.7}) {
            const double hz = std::round(fraction * nyquist);
            double phase[2];
            for (int k = 0; k < 2; ++k) {
                const double f = hz + k * kStep;
                const auto out = resample(p, sine(p.in, f, 2 * p.in));
                // Phase of the output tone at output sample 0, relative to the input's.
                phase[k] = std::arg(tone_at(out, p.out, f, p.out / 2, p.out)) + M_PI / 2;
            }
            double dphi = phase[1] - phase[0];
            dphi = std::remainder(dphi, 2 * M_PI);
            const double delay = -dphi / (2 * M_PI * kStep) * p.out;
            delays.push_back(delay);
            EXPECT_NEAR(delay, reported, 1.0) << p.in << " -> " << p.out << " at " << hz << " Hz";
        }
        const auto [lo, hi] = std::minmax_element(delays.begin(), delays.end());
        EXPECT_LE(*hi - *lo, 1.0) << p.in << " -> " << p.out;
        std::printf("[ Resampler] %5u -> %5u: group delay %.2f..%.2f output samples\n", p.in, p.out,
                    *lo, *hi);
    }
}

TEST(Resampler, ChunkedProcessingEqualsOneShot) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> noise(-8000, 8000);
    for (RatePair p : kPairs) {
        std::vector<int16_t> in = sine(p.in, 700, p.in / 2, 6000);
        for (int16_t& s : in)
            s = static_cast<int16_t>(s + noise(rng));
        const auto whole = resample(p, in);
        for (size_t chunk : {size_t{7}, size_t{480}}) {
            Resampler r = make(p);
            std::vector<int16_t> pieces;
            for (size_t i = 0; i < in.size(); i += chunk) {
                const size_t n = std::min(chunk, in.size() - i);
                r.process(std::span(in).subspan(i, n), pieces);
            }
            EXPECT_EQ(pieces, whole) << p.in << " -> " << p.out << " in chunks of " << chunk;
        }
        EXPECT_EQ(whole.size(), in.size() * p.out / p.in);
    }
}

TEST(Resampler, ResetForgetsTheHistory) {
    const RatePair p{24000, 16000};
    const auto first = sine(p.in, 3000, 1000);
    const auto second = sine(p.in, 440, 2400);
    Resampler r = make(p);
    std::vector<int16_t> out;
    r.process(first, out);
    ASSERT_FALSE(out.empty());
    r.reset();
    out.clear();
    r.process(second, out);
    EXPECT_EQ(out, resample(p, second));
}

TEST(Resampler, RejectsInvalidRatesAndQuality) {
    for (auto [in, out] : {std::pair<uint32_t, uint32_t>{0, 16000},
                           {1, 16000},
                           {16000, 0},
                           {16000, 1},
                           {0, 0},
                           {16000, 1000000}}) {
        auto r = Resampler::create(in, out);
        ASSERT_FALSE(r) << in << " -> " << out;
        EXPECT_NE(r.error().find("rate"), std::string::npos) << r.error();
    }
    for (int quality : {-1, 11}) {
        auto r = Resampler::create(24000, 16000, quality);
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().find("quality"), std::string::npos) << r.error();
    }
    EXPECT_TRUE(Resampler::create(16000, 16000, 0)); // same rate is allowed (a copy, delayed)
    EXPECT_TRUE(Resampler::create(44100, 48000, 10));
}

} // namespace
} // namespace wabridge::media

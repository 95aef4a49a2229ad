// The libopus adapter: what a WhatsApp call needs from it (frequency and level through the
// codec, the 20 kbit/s budget, wideband TOCs, FEC after a loss, no DTX) and the cached-silence
// shortcut (silent, and audio after it as good as continuous encoding).
#include "wabridge/media/opus_codec.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <gtest/gtest.h>
#include <opus/opus.h>
#include <random>
#include <vector>

namespace wabridge::media {
namespace {

constexpr int kRate = 24000;
constexpr size_t kFrame = kRate / 50;

using Packets = std::vector<std::vector<uint8_t>>;

// Speech-like: harmonics of a ~150 Hz fundamental (gliding +/-25 Hz, so it is never exactly
// periodic) shaped by two formant bumps, with a 4 Hz syllable envelope and a little noise.
std::vector<int16_t> speech_like(size_t n, int rate = kRate, unsigned seed = 1, double phase = 0) {
    std::vector<int16_t> v(n);
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0, 1);
    double theta = phase;
    for (size_t i = 0; i < n; ++i) {
        const double t = double(i) / rate;
        const double f0 = 150 + 25 * std::sin(2 * M_PI * 0.9 * t);
        theta += 2 * M_PI * f0 / rate;
        double s = 0;
        for (int k = 1; k < 40 && k * f0 < rate / 2.0; ++k) {
            const double f = k * f0;
            const double formants = 1 + 2 * std::exp(-std::pow((f - 700) / 200, 2)) +
                                    1.5 * std::exp(-std::pow((f - 1800) / 300, 2));
            s += formants / k * std::sin(k * theta);
        }
        const double envelope = 0.55 - 0.45 * std::cos(2 * M_PI * 4 * t);
        v[i] = static_cast<int16_t>(
            std::lround(std::clamp(envelope * (4000 * s + 300 * noise(rng)), -32000.0, 32000.0)));
    }
    return v;
}

std::vector<int16_t> sine(double hz, size_t n, double amplitude, int rate = kRate) {
    std::vector<int16_t> v(n);
    for (size_t i = 0; i < n; ++i)
        v[i] = static_cast<int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * i / rate)));
    return v;
}

OpusEncoder make_encoder(const OpusEncoderSettings& s = {}) {
    auto e = OpusEncoder::create(s);
    EXPECT_TRUE(e) << (e ? "" : e.error());
    return std::move(e.value());
}

OpusDecoder make_decoder(int rate = kRate) {
    auto d = OpusDecoder::create(rate);
    EXPECT_TRUE(d) << (d ? "" : d.error());
    return std::move(d.value());
}

Packets encode_all(OpusEncoder& encoder, const std::vector<int16_t>& pcm) {
    Packets packets;
    std::vector<uint8_t> out(1500);
    const size_t frame = static_cast<size_t>(encoder.frame_samples());
    for (size_t i = 0; i + frame <= pcm.size(); i += frame) {
        auto n = encoder.encode(std::span(pcm).subspan(i, frame), out);
        EXPECT_TRUE(n) << (n ? "" : n.error());
        packets.emplace_back(out.begin(), out.begin() + (n ? n.value() : 0));
    }
    return packets;
}

std::vector<int16_t> decode_all(OpusDecoder& decoder, const Packets& packets) {
    std::vector<int16_t> pcm, frame(decoder.max_frame_samples());
    for (const auto& p : packets) {
        auto n = decoder.decode(p, frame);
        EXPECT_TRUE(n) << (n ? "" : n.error());
        if (n) pcm.insert(pcm.end(), frame.begin(), frame.begin() + n.value());
    }
    return pcm;
}

// Complex amplitude of `hz` in x[first, first + n).
double tone_level(const std::vector<int16_t>& x, double hz, size_t first, size_t n,
                  int rate = kRate) {
    std::complex<double> sum = 0;
    for (size_t i = first; i < first + n; ++i)
        sum += double(x[i]) * std::polar(1.0, -2 * M_PI * hz * double(i) / rate);
    return std::abs(sum) * 2.0 / n;
}

double rms(std::span<const int16_t> x) {
    double sum = 0;
    for (int16_t s : x)
        sum += double(s) * s;
    return x.empty() ? 0 : std::sqrt(sum / x.size());
}

int peak(std::span<const int16_t> x) {
    int p = 0;
    for (int16_t s : x)
        p = std::max(p, std::abs(int(s)));
    return p;
}

// The lag (in [lo, hi]) at which x best matches ref: the codec's delay.
int best_lag(const std::vector<int16_t>& ref, const std::vector<int16_t>& x, size_t first,
             size_t last, int lo, int hi) {
    int best = lo;
    double best_sum = -1e300;
    for (int lag = lo; lag <= hi; ++lag) {
        double sum = 0;
        for (size_t i = first; i < last; ++i)
            sum += double(ref[i - lag]) * x[i];
        if (sum > best_sum) best_sum = sum, best = lag;
    }
    return best;
}

// Normalised correlation of two equally long stretches (1 = identical shape).
double correlation(std::span<const int16_t> a, std::span<const int16_t> b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(std::max(aa * bb, 1e-9));
}

// SNR of x against ref[i - delay], over x[first, last).
double snr_db(const std::vector<int16_t>& ref, const std::vector<int16_t>& x, size_t first,
              size_t last, int delay = 0) {
    double signal = 0, error = 0;
    for (size_t i = first; i < last; ++i) {
        const double r = ref[i - delay];
        signal += r * r;
        error += (r - x[i]) * (r - x[i]);
    }
    return 10 * std::log10(signal / std::max(error, 1e-9));
}

// ---- OpusEncoder ----

TEST(OpusEncoder, SineRoundTripKeepsFrequencyAndLevel) {
    OpusEncoder encoder = make_encoder();
    OpusDecoder decoder = make_decoder();
    const auto in = sine(1000, 2 * kRate, 8000);
    const auto out = decode_all(decoder, encode_all(encoder, in));
    ASSERT_EQ(out.size(), in.size());
    // Steady state: skip the first 200 ms.
    const size_t first = kRate / 5, n = out.size() - first;
    int crossings = 0;
    for (size_t i = first + 1; i < out.size(); ++i)
        if (out[i - 1] < 0 && out[i] >= 0) ++crossings;
    EXPECT_NEAR(crossings * double(kRate) / n, 1000.0, 5.0);
    const double level = tone_level(out, 1000, first, kRate); // one second: whole cycles
    EXPECT_NEAR(20 * std::log10(level / 8000), 0.0, 3.0);
    // Nearly all of the output is the tone (RMS of a sine = amplitude / sqrt 2).
    const double tone_rms = level / std::sqrt(2.0);
    const double total_rms = rms(std::span(out).subspan(first, kRate));
    EXPECT_GT(tone_rms / total_rms, 0.95);
    std::printf("[ Opus     ] 1 kHz sine: level %.2f dB, tone/total %.3f\n",
                20 * std::log10(level / 8000), tone_rms / total_rms);
}

TEST(OpusEncoder, SpeechStaysWithinTheTwentyKbpsBudget) {
    const auto in = speech_like(5 * kRate);
    for (int loss : {0, 10}) {
        OpusEncoderSettings s;
        s.packet_loss_percent = loss;
        OpusEncoder encoder = make_encoder(s);
        const Packets packets = encode_all(encoder, in);
        ASSERT_EQ(packets.size(), 250u);
        size_t bytes = 0;
        for (const auto& p : packets)
            bytes += p.size();
        const double average = double(bytes) / packets.size();
        EXPECT_LE(average, 20000.0 / 8 / 50) << "loss hint " << loss; // 50 bytes
        EXPECT_GE(average, 20.0) << "loss hint " << loss;             // real frames, not stubs
        std::printf("[ Opus     ] speech at 20 kbit/s, loss hint %d%%: %.1f bytes per packet\n",
                    loss, average);
    }
}

TEST(OpusEncoder, LowerBitrateGivesSmallerPackets) {
    const auto in = speech_like(2 * kRate);
    OpusEncoder encoder = make_encoder();
    encoder.set_bitrate(8000);
    EXPECT_EQ(encoder.settings().bitrate, 8000);
    size_t bytes = 0;
    for (const auto& p : encode_all(encoder, in))
        bytes += p.size();
    EXPECT_LE(bytes / 100.0, 8000.0 / 8 / 50 * 1.1);
    encoder.set_bitrate(1);
    EXPECT_EQ(encoder.settings().bitrate, 500);
    encoder.set_packet_loss_percent(150);
    EXPECT_EQ(encoder.settings().packet_loss_percent, 100);
    encoder.set_packet_loss_percent(-3);
    EXPECT_EQ(encoder.settings().packet_loss_percent, 0);
}

TEST(OpusEncoder, PacketsSayWidebandAtMost) {
    // Even with 48 kHz full-band input and bits to spare, the TOC never claims more than WB.
    OpusEncoderSettings s;
    s.sample_rate = 48000;
    s.bitrate = 64000;
    OpusEncoder encoder = make_encoder(s);
    std::vector<int16_t> in = speech_like(48000, 48000);
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> hiss(-3000, 3000);
    for (int16_t& x : in)
        x = static_cast<int16_t>(std::clamp(x + hiss(rng), -32768, 32767));
    for (const auto& p : encode_all(encoder, in)) {
        ASSERT_FALSE(p.empty());
        EXPECT_LE(opus_packet_get_bandwidth(p.data()), OPUS_BANDWIDTH_WIDEBAND);
    }
    // The same input with the cap lifted goes above wideband: the check above can fail.
    s.max_bandwidth = OPUS_BANDWIDTH_FULLBAND;
    OpusEncoder unlimited = make_encoder(s);
    int above = 0;
    for (const auto& p : encode_all(unlimited, in))
        above += opus_packet_get_bandwidth(p.data()) > OPUS_BANDWIDTH_WIDEBAND;
    EXPECT_GT(above, 25);
}

TEST(OpusEncoder, NoDtxMeansEverySilentFrameIsARealPacket) {
    const std::vector<int16_t> zeros(2 * kRate, 0);
    OpusEncoder encoder = make_encoder();
    for (const auto& p : encode_all(encoder, zeros))
        EXPECT_GT(p.size(), 2u); // DTX would send 1-2 byte packets (TOC only)
    // With DTX on libopus does stop sending real frames: what the test above guards against.
    OpusEncoderSettings s;
    s.dtx = true;
    OpusEncoder dtx = make_encoder(s);
    int tiny = 0;
    for (const auto& p : encode_all(dtx, zeros))
        tiny += p.size() <= 2;
    EXPECT_GT(tiny, 50);
}

TEST(OpusEncoder, RejectsBadSettingsAndFrames) {
    OpusEncoderSettings s;
    s.sample_rate = 44100;
    EXPECT_FALSE(OpusEncoder::create(s));
    s = {};
    s.complexity = 11;
    EXPECT_FALSE(OpusEncoder::create(s));
    s = {};
    s.bitrate = 100;
    EXPECT_FALSE(OpusEncoder::create(s));
    s = {};
    s.packet_loss_percent = 101;
    EXPECT_FALSE(OpusEncoder::create(s));

    OpusEncoder encoder = make_encoder();
    EXPECT_EQ(encoder.frame_samples(), 480);
    std::vector<uint8_t> out(1500);
    const std::vector<int16_t> short_frame(479, 0), long_frame(481, 0), frame(480, 0);
    EXPECT_FALSE(encoder.encode(short_frame, out));
    EXPECT_FALSE(encoder.encode(long_frame, out));
    EXPECT_FALSE(encoder.encode(frame, std::span(out).first(0)));
    EXPECT_FALSE(encoder.encode_silence(std::span(out).first(1)));
    EXPECT_TRUE(encoder.encode(frame, out));
    EXPECT_EQ(encoder.stats().errors, 4u);
}

// ---- Cached silence ----

TEST(OpusEncoder, CachedSilenceDecodesToSilence) {
    OpusEncoder encoder = make_encoder();
    const std::vector<uint8_t> cached(encoder.silence_payload().begin(),
                                      encoder.silence_payload().end());
    ASSERT_GT(cached.size(), 2u); // a real SILK frame, not a DTX stub
    EXPECT_LE(opus_packet_get_bandwidth(cached.data()), OPUS_BANDWIDTH_WIDEBAND);
    EXPECT_EQ(opus_packet_get_samples_per_frame(cached.data(), kRate), 480);
    // A fresh encoder has no audio to flush: the cache is used from the start.
    std::vector<uint8_t> out(1500);
    Packets packets;
    for (int i = 0; i < 100; ++i) {
        auto n = encoder.encode_silence(out);
        ASSERT_TRUE(n);
        packets.emplace_back(out.begin(), out.begin() + n.value());
        EXPECT_EQ(packets.back(), cached);
    }
    EXPECT_EQ(encoder.stats().silence_cached, 100u);
    EXPECT_EQ(encoder.stats().frames_encoded, 0u);
    OpusDecoder decoder = make_decoder();
    const auto pcm = decode_all(decoder, packets);
    ASSERT_EQ(pcm.size(), 100 * kFrame);
    EXPECT_LE(peak(pcm), 1);
}

TEST(OpusEncoder, SilenceCacheFollowsTheBitrate) {
    OpusEncoder encoder = make_encoder();
    encoder.set_bitrate(8000);
    std::vector<uint8_t> out(1500);
    auto n = encoder.encode_silence(out);
    ASSERT_TRUE(n);
    OpusEncoderSettings s;
    s.bitrate = 8000;
    OpusEncoder fresh = make_encoder(s);
    const std::vector<uint8_t> expected(fresh.silence_payload().begin(),
                                        fresh.silence_payload().end());
    EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + n.value()), expected);
    EXPECT_EQ(
        std::vector<uint8_t>(encoder.silence_payload().begin(), encoder.silence_payload().end()),
        expected);
}

// Speech, then encode_silence(): the first kSilenceFlushFrames packets are what the encoder
// makes of zeros (bit-identical to continuous encoding, carrying the lookahead's tail and the
// last frame's LBRR), after that the cached packet; the decoder's output is silent from there.
TEST(OpusEncoder, SilenceAfterSpeechFlushesTheEncoderThenUsesTheCache) {
    constexpr size_t kTalk = 56; // frames: speech ends loud, at a peak of the 4 Hz envelope
    auto in = speech_like(kTalk * kFrame);
    in.resize(2 * kRate, 0);
    OpusEncoderSettings s;
    s.packet_loss_percent = 10;
    OpusEncoder continuous = make_encoder(s);
    OpusEncoder cached = make_encoder(s);
    const Packets reference = encode_all(continuous, in);
    Packets packets;
    std::vector<uint8_t> out(1500);
    for (size_t f = 0; f < 100; ++f) {
        auto n = f < kTalk ? cached.encode(std::span(in).subspan(f * kFrame, kFrame), out)
                           : cached.encode_silence(out);
        ASSERT_TRUE(n);
        packets.emplace_back(out.begin(), out.begin() + n.value());
    }
    const std::vector<uint8_t> silence(cached.silence_payload().begin(),
                                       cached.silence_payload().end());
    const size_t flushed = kTalk + OpusEncoder::kSilenceFlushFrames;
    for (size_t f = 0; f < flushed; ++f)
        EXPECT_EQ(packets[f], reference[f]) << "frame " << f;
    EXPECT_TRUE(packet_has_lbrr(packets[kTalk])); // the last speech frame's FEC copy went out
    for (size_t f = flushed; f < 100; ++f)
        EXPECT_EQ(packets[f], silence) << "frame " << f;
    EXPECT_EQ(cached.stats().silence_flushed, size_t(OpusEncoder::kSilenceFlushFrames));
    EXPECT_EQ(cached.stats().silence_cached, 100u - flushed);

    OpusDecoder d1 = make_decoder(), d2 = make_decoder();
    const auto a = decode_all(d1, reference);
    const auto b = decode_all(d2, packets);
    // The flush frames carry the end of the speech (the decoder's output lags by the codec
    // delay); from the first cached packet on, the output is what continuous encoding gives
    // (within 2 LSB) as it decays, and silent (|x| <= 1) two frames later.
    EXPECT_GT(peak(std::span(b).subspan(kTalk * kFrame, kFrame)), 1000);
    int worst = 0;
    for (size_t i = flushed * kFrame; i < b.size(); ++i)
        worst = std::max(worst, std::abs(int(a[i]) - int(b[i])));
    EXPECT_LE(worst, 2);
    EXPECT_LE(peak(std::span(b).subspan((flushed + 2) * kFrame)), 1);
}

// Speech, 1 s of silence, speech again, sent two ways: A encodes every frame; B uses
// encode_silence() for the silent second (3 flush frames, then 47 cached packets) and resets
// the encoder when speech returns. Criterion for "as good as continuous" over the second
// talkspurt, against the input delayed by the codec delay (about 6.5 ms, measured here):
//   - B's SNR is no more than 1 dB below A's (Opus is not a waveform codec: both are ~4-7 dB
//     on this signal, and B, starting from a clean state, usually does a little better),
//   - every 20 ms frame of B has A's level within 3 dB (no gap, no burst, no slow start),
//   - B's first resumed frame has no click: its peak is at most 1.25 x A's.
TEST(OpusEncoder, AudioAfterCachedSilenceIsAsGoodAsContinuousEncoding) {
    const auto talk1 = speech_like(kRate, kRate, 1);
    const auto talk2 = speech_like(kRate, kRate, 2, 1.0);
    std::vector<int16_t> in = talk1;
    in.resize(2 * kRate, 0);
    in.insert(in.end(), talk2.begin(), talk2.end());
    const size_t frames = in.size() / kFrame;

    OpusEncoder continuous = make_encoder();
    OpusEncoder cached = make_encoder();
    const Packets reference = encode_all(continuous, in);
    Packets packets;
    std::vector<uint8_t> out(1500);
    for (size_t f = 0; f < frames; ++f) {
        const bool silent = f >= 50 && f < 100;
        auto n = silent ? cached.encode_silence(out)
                        : cached.encode(std::span(in).subspan(f * kFrame, kFrame), out);
        ASSERT_TRUE(n);
        packets.emplace_back(out.begin(), out.begin() + n.value());
    }
    EXPECT_EQ(cached.stats().resets, 1u);
    EXPECT_EQ(cached.stats().frames_encoded, 100u + OpusEncoder::kSilenceFlushFrames);

    OpusDecoder d1 = make_decoder(), d2 = make_decoder();
    const auto a = decode_all(d1, reference);
    const auto b = decode_all(d2, packets);
    ASSERT_EQ(a.size(), in.size());
    ASSERT_EQ(b.size(), in.size());

    const int delay = best_lag(in, a, kRate / 10, kRate, 100, 250);
    EXPECT_NEAR(delay, kRate * 65 / 10000, 5); // 2.5 ms + 4 ms lookahead (OPUS_GET_LOOKAHEAD)
    const size_t resume = 100 * kFrame;
    const double snr_a = snr_db(in, a, resume + delay, in.size(), delay);
    const double snr_b = snr_db(in, b, resume + delay, in.size(), delay);
    EXPECT_GE(snr_b, snr_a - 1.0);
    double worst_level = 0;
    for (size_t f = 100; f < frames; ++f) {
        const double la = rms(std::span(a).subspan(f * kFrame, kFrame));
        const double lb = rms(std::span(b).subspan(f * kFrame, kFrame));
        const double diff = 20 * std::log10(std::max(lb, 1.0) / std::max(la, 1.0));
        EXPECT_NEAR(diff, 0.0, 3.0) << "frame " << f;
        worst_level = std::max(worst_level, std::abs(diff));
    }
    const auto first_a = std::span(a).subspan(resume, kFrame);
    const auto first_b = std::span(b).subspan(resume, kFrame);
    EXPECT_LE(peak(first_b), 1.25 * peak(first_a));
    // The first talkspurt is untouched (identical packets, identical output).
    EXPECT_TRUE(std::equal(a.begin(), a.begin() + 50 * kFrame, b.begin()));
    std::printf(
        "[ Opus     ] after cached silence: SNR vs input %.1f dB (continuous %.1f dB; codec "
        "delay %d samples), SNR vs continuous %.1f dB, frame levels within %.2f dB, "
        "first-frame peak %d (continuous %d)\n",
        snr_b, snr_a, delay, snr_db(a, b, resume, in.size()), worst_level, peak(first_b),
        peak(first_a));
}

// CPU time per 20 ms frame (printed, not asserted): encoding zeros, copying the cached packet,
// encoding speech.
TEST(OpusEncoder, CpuCostOfSilenceVersusSpeech) {
    using Clock = std::chrono::steady_clock;
    constexpr int kFrames = 1000; // 20 s of audio
    const auto speech = speech_like(kFrames * kFrame);
    const std::vector<int16_t> zeros(kFrame, 0);
    std::vector<uint8_t> out(1500);
    auto per_frame_us = [](Clock::duration d) {
        return std::chrono::duration<double, std::micro>(d).count() / kFrames;
    };
    size_t sink = 0;
    for (int complexity : {5, 10}) {
        OpusEncoderSettings s;
        s.complexity = complexity;
        s.packet_loss_percent = 10;
        OpusEncoder encoder = make_encoder(s);
        auto t0 = Clock::now();
        for (int i = 0; i < kFrames; ++i)
            sink += encoder.encode(zeros, out).value();
        auto t1 = Clock::now();
        for (int i = 0; i < kFrames; ++i)
            sink += encoder.encode_silence(out).value();
        auto t2 = Clock::now();
        for (int i = 0; i < kFrames; ++i)
            sink += encoder.encode(std::span(speech).subspan(i * kFrame, kFrame), out).value();
        auto t3 = Clock::now();
        EXPECT_EQ(encoder.stats().silence_cached,
                  size_t(kFrames - OpusEncoder::kSilenceFlushFrames));
        std::printf("[ Opus     ] complexity %2d, per 20 ms frame: encode zeros %.1f us, cached "
                    "silence %.3f us, encode speech %.1f us\n",
                    complexity, per_frame_us(t1 - t0), per_frame_us(t2 - t1),
                    per_frame_us(t3 - t2));
    }
    EXPECT_GT(sink, 0u);
}

// ---- OpusDecoder ----

struct LossRun {
    std::vector<int16_t> reference; // the lost frame as decoded without loss
    std::vector<int16_t> fec;       // rebuilt from the next packet's LBRR
    std::vector<int16_t> plc;       // concealed
    bool fec_used = false;
};

LossRun lose_frame(const Packets& packets, size_t lost) {
    LossRun run;
    OpusDecoder full = make_decoder(), fec = make_decoder(), plc = make_decoder();
    std::vector<int16_t> frame(full.max_frame_samples());
    for (size_t i = 0; i < lost; ++i) {
        EXPECT_TRUE(full.decode(packets[i], frame));
        EXPECT_TRUE(fec.decode(packets[i], frame));
        EXPECT_TRUE(plc.decode(packets[i], frame));
    }
    auto n = full.decode(packets[lost], frame);
    run.reference.assign(frame.begin(), frame.begin() + n.value());
    n = fec.decode_fec(packets[lost + 1], frame, kFrame);
    EXPECT_EQ(n.value(), kFrame);
    run.fec.assign(frame.begin(), frame.begin() + n.value());
    run.fec_used = fec.last_fec_used();
    n = plc.conceal(frame, kFrame);
    EXPECT_EQ(n.value(), kFrame);
    run.plc.assign(frame.begin(), frame.begin() + n.value());
    return run;
}

TEST(OpusDecoder, FecRebuildsALostFrameMuchBetterThanConcealment) {
    OpusEncoderSettings s;
    s.packet_loss_percent = 10;
    OpusEncoder encoder = make_encoder(s);
    const Packets packets = encode_all(encoder, speech_like(2 * kRate));
    // Lose one frame at a time, all over the middle second. libopus codes LBRR only for frames
    // its VAD calls active: the quiet frames at the minima of the 4 Hz envelope have none (and
    // libopus then conceals, as the LbrrDetection test checks); the rest must be rebuilt.
    double fec_snr = 0, plc_snr = 0, fec_corr = 0, plc_corr = 0;
    int rebuilt = 0, tried = 0;
    for (size_t lost = 40; lost < 90; lost += 3) {
        ++tried;
        const LossRun run = lose_frame(packets, lost);
        if (!run.fec_used) continue;
        ++rebuilt;
        const double fc = correlation(run.fec, run.reference);
        EXPECT_GT(fc, 0.85) << "frame " << lost;
        fec_corr += fc;
        plc_corr += correlation(run.plc, run.reference);
        fec_snr += snr_db(run.reference, run.fec, 0, kFrame);
        plc_snr += snr_db(run.reference, run.plc, 0, kFrame);
    }
    ASSERT_GE(rebuilt, tried * 2 / 3);
    fec_snr /= rebuilt, plc_snr /= rebuilt, fec_corr /= rebuilt, plc_corr /= rebuilt;
    EXPECT_GT(fec_snr, plc_snr + 5.0);
    EXPECT_GT(fec_corr, plc_corr + 0.2);
    std::printf("[ Opus     ] %d/%d lost frames rebuilt from FEC; against the no-loss frame: "
                "FEC correlation %.3f, SNR %.1f dB; PLC correlation %.3f, SNR %.1f dB\n",
                rebuilt, tried, fec_corr, fec_snr, plc_corr, plc_snr);
}

// packet_has_lbrr() against libopus's behaviour: where it says "no LBRR", decode_fec() must
// produce exactly the concealment; where it says "LBRR", something else.
TEST(OpusDecoder, LbrrDetectionAgreesWithWhatLibopusDoes) {
    for (int loss : {0, 10}) {
        OpusEncoderSettings s;
        s.packet_loss_percent = loss;
        OpusEncoder encoder = make_encoder(s);
        auto in = speech_like(kRate);
        in.resize(kRate + kRate / 2, 0); // then half a second of silence: VAD off, no LBRR
        const Packets packets = encode_all(encoder, in);
        int with_lbrr = 0;
        for (size_t lost = 5; lost + 1 < packets.size(); lost += 4) {
            const LossRun run = lose_frame(packets, lost);
            const bool has = packet_has_lbrr(packets[lost + 1]);
            with_lbrr += has;
            EXPECT_EQ(run.fec_used, has);
            if (has)
                EXPECT_NE(run.fec, run.plc) << "frame " << lost;
            else
                EXPECT_EQ(run.fec, run.plc) << "frame " << lost;
        }
        if (loss == 0)
            EXPECT_EQ(with_lbrr, 0); // libopus spends no bits on FEC without a loss hint
        else
            EXPECT_GE(with_lbrr, 5); // the louder speech packets carry it
    }
}

TEST(OpusDecoder, LbrrFlagIsReadFromTheSilkHeaderBits) {
    // TOC config 9: SILK wideband 20 ms (RFC 6716 §3.1); code 0 (one frame).
    EXPECT_TRUE(packet_has_lbrr(std::vector<uint8_t>{0x48, 0x40, 0x00}));  // VAD 0, LBRR 1
    EXPECT_TRUE(packet_has_lbrr(std::vector<uint8_t>{0x48, 0xC0, 0x00}));  // VAD 1, LBRR 1
    EXPECT_FALSE(packet_has_lbrr(std::vector<uint8_t>{0x48, 0x80, 0x00})); // VAD 1, LBRR 0
    // Config 10: 40 ms = two SILK frames, so two VAD bits come first.
    EXPECT_TRUE(packet_has_lbrr(std::vector<uint8_t>{0x50, 0x20, 0x00}));
    EXPECT_FALSE(packet_has_lbrr(std::vector<uint8_t>{0x50, 0xC0, 0x00}));
    // Config 11: 60 ms, three VAD bits.
    EXPECT_TRUE(packet_has_lbrr(std::vector<uint8_t>{0x58, 0x10, 0x00}));
    EXPECT_FALSE(packet_has_lbrr(std::vector<uint8_t>{0x58, 0xE0, 0x00}));
    // Stereo (s bit): mid VAD, mid LBRR, side VAD, side LBRR.
    EXPECT_TRUE(packet_has_lbrr(std::vector<uint8_t>{0x4C, 0x10, 0x00}));
    EXPECT_FALSE(packet_has_lbrr(std::vector<uint8_t>{0x4C, 0xA0, 0x00}));
    // Hybrid (config 13, SWB 20 ms) starts with the SILK layer too.
    EXPECT_TRUE(packet_has_lbrr(std::vector<uint8_t>{0x68, 0x40, 0x00}));
    // CELT-only (config 16+) has no SILK layer; empty and malformed packets have nothing.
    EXPECT_FALSE(packet_has_lbrr(std::vector<uint8_t>{0x80, 0xFF, 0xFF}));
    EXPECT_FALSE(packet_has_lbrr(std::vector<uint8_t>{}));
    EXPECT_FALSE(packet_has_lbrr(std::vector<uint8_t>{0x48})); // no frame data
    EXPECT_FALSE(packet_has_lbrr(std::vector<uint8_t>{0x4B})); // code 3, no count byte
}

TEST(OpusDecoder, MalformedPayloadsAreErrors) {
    OpusDecoder decoder = make_decoder();
    std::vector<int16_t> out(decoder.max_frame_samples());
    const std::vector<std::vector<uint8_t>> bad = {
        {},                    // nothing (use conceal())
        {0x4B},                // code 3 without its frame-count byte (RFC 6716 §3.2.5)
        {0x4B, 0x00},          // code 3 with zero frames
        {0x4B, 0x07, 1, 2, 3}, // 7 x 20 ms = 140 ms > 120 ms
        {0x49, 1, 2, 3},       // code 1: two equal frames need an even length
        {0x4A, 200, 1, 2},     // code 2: the first frame's length runs past the end
    };
    for (const auto& p : bad) {
        auto n = decoder.decode(p, out);
        EXPECT_FALSE(n) << "packet of " << p.size() << " bytes";
    }
    // A 60 ms packet does not fit a 20 ms buffer.
    OpusEncoder encoder = make_encoder();
    std::vector<uint8_t> p20(1500);
    const size_t n20 = encoder.encode(sine(440, kFrame, 5000), p20).value();
    std::vector<uint8_t> p60 = {static_cast<uint8_t>((p20[0] & 0xFC) | 0x03), 0x03};
    for (int i = 0; i < 3; ++i)
        p60.insert(p60.end(), p20.begin() + 1, p20.begin() + n20);
    EXPECT_TRUE(decoder.decode(p60, out));
    EXPECT_FALSE(decoder.decode(p60, std::span(out).first(kFrame)));
    EXPECT_EQ(decoder.stats().errors, bad.size() + 1);

    // Random bytes never crash and never claim more than fits.
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> byte(0, 255), length(1, 120);
    int rejected = 0;
    for (int i = 0; i < 5000; ++i) {
        std::vector<uint8_t> junk(static_cast<size_t>(length(rng)));
        for (auto& b : junk)
            b = static_cast<uint8_t>(byte(rng));
        auto r = decoder.decode(junk, out);
        if (r)
            EXPECT_LE(r.value(), out.size());
        else
            ++rejected;
    }
    EXPECT_GT(rejected, 0);
    // ...and the decoder still decodes real packets afterwards.
    auto after = decoder.decode(std::span(p20).first(n20), out);
    ASSERT_TRUE(after) << after.error();
    EXPECT_EQ(after.value(), kFrame);
}

TEST(OpusDecoder, StereoPacketsDecodeToMono) {
    int error = 0;
    ::OpusEncoder* stereo = opus_encoder_create(48000, 2, OPUS_APPLICATION_VOIP, &error);
    ASSERT_EQ(error, OPUS_OK);
    opus_encoder_ctl(stereo, OPUS_SET_BITRATE(32000));
    const auto left = sine(600, 48000, 8000, 48000);
    std::vector<int16_t> interleaved(2 * left.size());
    for (size_t i = 0; i < left.size(); ++i)
        interleaved[2 * i] = interleaved[2 * i + 1] = left[i];
    Packets packets;
    std::vector<uint8_t> out(1500);
    for (size_t i = 0; i + 960 <= left.size(); i += 960) {
        const int n = opus_encode(stereo, interleaved.data() + 2 * i, 960, out.data(), 1500);
        ASSERT_GT(n, 0);
        packets.emplace_back(out.begin(), out.begin() + n);
    }
    opus_encoder_destroy(stereo);
    EXPECT_EQ(opus_packet_get_nb_channels(packets[10].data()), 2);
    OpusDecoder decoder = make_decoder(16000); // any rate: RFC 7587 §4.3
    const auto pcm = decode_all(decoder, packets);
    ASSERT_EQ(pcm.size(), 50u * 320);
    const double level = tone_level(pcm, 600, 3200, 8000, 16000);
    EXPECT_NEAR(20 * std::log10(level / 8000), 0.0, 3.0);
}

TEST(OpusDecoder, RejectsBadRatesAndSizes) {
    EXPECT_FALSE(OpusDecoder::create(44100));
    EXPECT_FALSE(OpusDecoder::create(0));
    OpusDecoder decoder = make_decoder();
    EXPECT_EQ(decoder.max_frame_samples(), 2880u);
    std::vector<int16_t> out(kFrame);
    EXPECT_FALSE(decoder.conceal(out, 0));
    EXPECT_FALSE(decoder.conceal(out, kFrame + 1)); // more than out holds
    EXPECT_FALSE(decoder.conceal(out, 100));        // not a multiple of 2.5 ms
    EXPECT_FALSE(decoder.decode_fec({}, out, kFrame));
    auto n = decoder.conceal(out, kFrame);
    ASSERT_TRUE(n);
    EXPECT_EQ(n.value(), kFrame);
    EXPECT_EQ(decoder.stats().concealed, 1u);
    EXPECT_EQ(decoder.stats().errors, 4u);
}

} // namespace
} // namespace wabridge::media

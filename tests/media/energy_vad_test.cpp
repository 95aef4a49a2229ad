#include "wabridge/media/energy_vad.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace wabridge::media {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A continuous sine of `ms` milliseconds at RMS level `dbfs`, cut later into frames.
std::vector<int16_t> tone(int rate, int ms, double dbfs, double hz = 440) {
    const double amp = 32768.0 * std::pow(10.0, dbfs / 20.0) * std::sqrt(2.0);
    std::vector<int16_t> out(size_t(rate) * ms / 1000);
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<int16_t>(std::lround(
            std::clamp(amp * std::sin(2 * kPi * hz * double(i) / rate), -32768.0, 32767.0)));
    return out;
}

std::vector<int16_t> silence(int rate, int ms) {
    return std::vector<int16_t>(size_t(rate) * ms / 1000);
}

// Runs `signal` through the VAD in 20 ms frames; one event per frame.
std::vector<VadEvent> run(EnergyVad& vad, const std::vector<int16_t>& signal, int rate) {
    const size_t n = size_t(rate) / 50;
    std::vector<VadEvent> events;
    for (size_t off = 0; off + n <= signal.size(); off += n)
        events.push_back(vad.on_frame(std::span<const int16_t>(signal).subspan(off, n)));
    return events;
}

std::vector<int16_t> concat(std::initializer_list<std::vector<int16_t>> parts) {
    std::vector<int16_t> out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

TEST(EnergyVad, LevelIsRmsRelativeToFullScale) {
    EXPECT_NEAR(rms_dbfs(tone(48000, 20, -20)), -20.0, 0.05);
    const auto full = tone(16000, 20, -3.0103);
    EXPECT_NEAR(rms_dbfs(full), -3.01, 0.05);
    EXPECT_EQ(rms_dbfs(silence(16000, 20)), EnergyVad::kFloorDbfs);
    EXPECT_EQ(rms_dbfs({}), EnergyVad::kFloorDbfs);
    const std::vector<int16_t> square(160, -32768);
    EXPECT_NEAR(rms_dbfs(square), 0.0, 1e-9);
}

TEST(EnergyVad, SilenceIsNothing) {
    EnergyVad vad;
    const auto events = run(vad, silence(16000, 2000), 16000);
    ASSERT_EQ(events.size(), 100u);
    for (auto e : events)
        EXPECT_EQ(e, VadEvent::none);
    EXPECT_FALSE(vad.in_speech());
    EXPECT_EQ(vad.last_level_dbfs(), EnergyVad::kFloorDbfs);
}

TEST(EnergyVad, ToneThenSilenceStartsAtOnceAndEndsAtTheThirtiethSilentFrame) {
    for (int rate : {8000, 16000, 24000, 48000}) {
        EnergyVad vad;
        const auto speech = run(vad, tone(rate, 1000, -25), rate);
        ASSERT_EQ(speech.size(), 50u);
        EXPECT_EQ(speech[0], VadEvent::speech_started) << rate;
        for (size_t i = 1; i < speech.size(); ++i)
            EXPECT_EQ(speech[i], VadEvent::none) << i;
        EXPECT_TRUE(vad.in_speech());
        EXPECT_NEAR(vad.last_level_dbfs(), -25.0, 0.1);

        const auto quiet = silence(rate, 20);
        for (int i = 0; i < 35; ++i) {
            // 30 silent frames = 600 ms = end_silence: the 30th (index 29) ends the utterance.
            EXPECT_EQ(vad.on_frame(quiet), i == 29 ? VadEvent::utterance_ended : VadEvent::none)
                << "rate " << rate << " silent frame " << i;
            EXPECT_EQ(vad.in_speech(), i < 29) << "rate " << rate << " silent frame " << i;
        }
    }
}

TEST(EnergyVad, ShortBlipIsDiscarded) {
    EnergyVad vad;
    const auto events = run(vad, concat({tone(16000, 200, -20), silence(16000, 700)}), 16000);
    ASSERT_EQ(events.size(), 45u);
    for (size_t i = 0; i < events.size(); ++i) {
        const auto want = i == 0         ? VadEvent::speech_started
                          : i == 10 + 29 ? VadEvent::speech_discarded
                                         : VadEvent::none;
        EXPECT_EQ(events[i], want) << i;
    }
    EXPECT_FALSE(vad.in_speech());
}

TEST(EnergyVad, ExactlyMinSpeechIsAnUtterance) {
    EnergyVad vad; // 300 ms = 15 frames is enough; 280 ms is not (see ShortBlipIsDiscarded)
    auto events = run(vad, concat({tone(16000, 300, -20), silence(16000, 600)}), 16000);
    EXPECT_EQ(events.at(15 + 29), VadEvent::utterance_ended);
    EnergyVad vad2;
    events = run(vad2, concat({tone(16000, 280, -20), silence(16000, 600)}), 16000);
    EXPECT_EQ(events.at(14 + 29), VadEvent::speech_discarded);
}

TEST(EnergyVad, DipInsideSpeechDoesNotEndTheUtterance) {
    EnergyVad vad;
    const auto events = run(vad,
                            concat({tone(16000, 500, -20), silence(16000, 300),
                                    tone(16000, 500, -20), silence(16000, 700)}),
                            16000);
    ASSERT_EQ(events.size(), 25u + 15 + 25 + 35);
    for (size_t i = 0; i < events.size(); ++i) {
        const auto want = i == 0         ? VadEvent::speech_started
                          : i == 65 + 29 ? VadEvent::utterance_ended
                                         : VadEvent::none;
        EXPECT_EQ(events[i], want) << i;
    }
}

TEST(EnergyVad, HysteresisKeepsAFadingVoiceInsideTheUtterance) {
    EnergyVad vad; // threshold -45, hysteresis 6 dB
    // -48 dBFS alone does not start speech...
    for (auto e : run(vad, tone(16000, 1000, -48), 16000))
        EXPECT_EQ(e, VadEvent::none);
    // ...but after a start it keeps the utterance going; -52 dBFS counts as silence.
    auto events = run(
        vad, concat({tone(16000, 100, -30), tone(16000, 1000, -48), tone(16000, 600, -52)}), 16000);
    ASSERT_EQ(events.size(), 5u + 50 + 30);
    EXPECT_EQ(events[0], VadEvent::speech_started);
    for (size_t i = 1; i < 84; ++i)
        EXPECT_EQ(events[i], VadEvent::none) << i;
    EXPECT_EQ(events[84], VadEvent::utterance_ended);
}

TEST(EnergyVad, WhiteNoiseAtMinus60IsNotSpeech) {
    // Uniform noise in [-a, a] has RMS a / sqrt(3); -60 dBFS is an RMS of 32.768.
    const double a = 32.768 * std::sqrt(3.0);
    std::mt19937 rng(12345);
    std::uniform_real_distribution<double> dist(-a, a);
    std::vector<int16_t> noise(16000 * 10);
    for (auto& s : noise)
        s = static_cast<int16_t>(std::lround(dist(rng)));
    EnergyVad vad;
    double max_level = -200;
    const size_t n = 320;
    for (size_t off = 0; off + n <= noise.size(); off += n) {
        EXPECT_EQ(vad.on_frame(std::span<const int16_t>(noise).subspan(off, n)), VadEvent::none);
        max_level = std::max(max_level, vad.last_level_dbfs());
    }
    EXPECT_NEAR(rms_dbfs(noise), -60.0, 0.2);
    EXPECT_LT(max_level, -58.0);
    EXPECT_FALSE(vad.in_speech());
}

} // namespace
} // namespace wabridge::media

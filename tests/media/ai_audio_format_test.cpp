#include "wabridge/media/ai_audio_format.hpp"
#include "wabridge/media/g711.hpp"

#include <cmath>
#include <gtest/gtest.h>

namespace wabridge::media {
namespace {

std::vector<int16_t> tone(uint32_t rate, size_t n, double hz) {
    std::vector<int16_t> v(n);
    for (size_t i = 0; i < n; ++i)
        v[i] = static_cast<int16_t>(8000 * std::sin(2 * M_PI * hz * i / rate));
    return v;
}

double frequency(std::span<const int16_t> pcm, double rate) {
    int crossings = 0;
    for (size_t i = 1; i < pcm.size(); ++i)
        if (pcm[i - 1] < 0 && pcm[i] >= 0) ++crossings;
    return crossings * rate / static_cast<double>(pcm.size());
}

TEST(AiAudioFormat, NamesAndRates) {
    for (auto f :
         {AiAudioFormat::pcm24k, AiAudioFormat::pcm16k, AiAudioFormat::pcmu, AiAudioFormat::pcma})
        EXPECT_EQ(parse_ai_audio_format(to_string(f)), f);
    EXPECT_FALSE(parse_ai_audio_format("pcm"));
    EXPECT_EQ(sample_rate(AiAudioFormat::pcmu), 8000u);
    EXPECT_EQ(sample_rate(AiAudioFormat::pcm16k), 16000u);
}

TEST(AiAudioConverter, Pcm24kIsLittleEndianBytesWithNoResampling) {
    auto c = std::move(AiAudioConverter::create(AiAudioFormat::pcm24k).value());
    const std::vector<int16_t> in{0x0102, -2, 0x7FFF};
    std::vector<uint8_t> bytes;
    c.to_ai(in, bytes);
    EXPECT_EQ(bytes, (std::vector<uint8_t>{0x02, 0x01, 0xFE, 0xFF, 0xFF, 0x7F}));
    // A sample split across two deltas is put back together.
    std::vector<int16_t> back;
    c.from_ai(std::span(bytes).first(3), back);
    c.from_ai(std::span(bytes).subspan(3), back);
    EXPECT_EQ(back, in);
}

TEST(AiAudioConverter, TwentyMsFramesHaveTheAiRatesSize) {
    const auto frame = tone(24000, 480, 440);
    for (auto [f, expected] :
         {std::pair{AiAudioFormat::pcm24k, 960u}, std::pair{AiAudioFormat::pcm16k, 640u},
          std::pair{AiAudioFormat::pcmu, 160u}, std::pair{AiAudioFormat::pcma, 160u}}) {
        auto c = std::move(AiAudioConverter::create(f).value());
        std::vector<uint8_t> bytes;
        for (int i = 0; i < 50; ++i)
            c.to_ai(frame, bytes);
        EXPECT_EQ(bytes.size(), expected * 50) << to_string(f);
    }
}

TEST(AiAudioConverter, G711RoundTripKeepsTheToneAndRate) {
    for (auto f : {AiAudioFormat::pcmu, AiAudioFormat::pcma, AiAudioFormat::pcm16k}) {
        auto c = std::move(AiAudioConverter::create(f, 3).value());
        const auto in = tone(24000, 24000, 1000);
        std::vector<uint8_t> bytes;
        c.to_ai(in, bytes);
        std::vector<int16_t> back;
        c.from_ai(bytes, back);
        ASSERT_NEAR(static_cast<double>(back.size()), 24000, 200) << to_string(f);
        EXPECT_NEAR(frequency(std::span(back).subspan(2400), 24000), 1000, 10) << to_string(f);
    }
}

TEST(AiAudioConverter, PcmuBytesAreG711OfTheResampledSignal) {
    auto c = std::move(AiAudioConverter::create(AiAudioFormat::pcmu).value());
    std::vector<int16_t> silence(480, 0);
    std::vector<uint8_t> bytes;
    c.to_ai(silence, bytes);
    ASSERT_EQ(bytes.size(), 160u);
    for (uint8_t b : bytes)
        EXPECT_EQ(b, linear_to_ulaw(0));
}

TEST(AiAudioConverter, BadQualityIsAnError) {
    EXPECT_FALSE(AiAudioConverter::create(AiAudioFormat::pcmu, 11));
    EXPECT_TRUE(AiAudioConverter::create(AiAudioFormat::pcm24k, 11)); // nothing to resample
}

} // namespace
} // namespace wabridge::media

#include "wabridge/media/echo_assistant.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <vector>

namespace wabridge::media {
namespace {

constexpr size_t kFrame = 480; // 20 ms at 24 kHz

std::vector<int16_t> tone_frame(int index, double amplitude = 8000) {
    std::vector<int16_t> f(kFrame);
    for (size_t i = 0; i < kFrame; ++i) {
        double t = static_cast<double>(index * kFrame + i) / 24000.0;
        f[i] = static_cast<int16_t>(amplitude * std::sin(2 * M_PI * 440 * t));
    }
    return f;
}

struct EchoFixture : ::testing::Test {
    PlayoutQueue playout{24000};
    std::vector<EchoTurn> turns;
    EchoAssistant echo{playout, {}, [this](const EchoTurn& t) { turns.push_back(t); }};
    loop::TimePoint now{};
    int frames = 0;

    void feed(int count, bool speech) {
        for (int i = 0; i < count; ++i, ++frames) {
            auto f = speech ? tone_frame(frames) : std::vector<int16_t>(kFrame, 0);
            echo.on_caller_audio(f, now, now);
            now += std::chrono::milliseconds(20);
        }
    }
};

TEST_F(EchoFixture, PlaysBackAnUtteranceAfterItsEndSilence) {
    feed(10, false);
    feed(50, true); // 1 s of speech
    feed(29, false);
    EXPECT_TRUE(playout.empty()) << "nothing is played before 600 ms of silence";
    feed(1, false); // the 30th silent frame ends the utterance
    ASSERT_EQ(turns.size(), 1u);
    EXPECT_EQ(turns[0].kind, EchoTurn::Kind::played);
    EXPECT_EQ(turns[0].item_id, "echo-1");
    // 200 ms pre-roll + 1000 ms speech + 100 ms of the trailing silence.
    EXPECT_EQ(turns[0].utterance_ms, 1300u);
    EXPECT_EQ(playout.queued_samples(), 1300u * 24);

    // The queued audio is the caller's: silence (pre-roll), then the tone, sample for sample.
    std::vector<int16_t> out(kFrame);
    for (int i = 0; i < 10; ++i)
        ASSERT_EQ(playout.pop_frame(out), kFrame);
    EXPECT_EQ(out, std::vector<int16_t>(kFrame, 0));
    ASSERT_EQ(playout.pop_frame(out), kFrame);
    EXPECT_EQ(out, tone_frame(10));
    EXPECT_EQ(echo.turns(), 1u);
}

TEST_F(EchoFixture, CallerTalkingDuringPlaybackFlushesItAtOnce) {
    feed(50, true);
    feed(30, false);
    ASSERT_FALSE(playout.empty());
    std::vector<int16_t> out(kFrame);
    for (int i = 0; i < 25; ++i) // 500 ms of the reply is played
        playout.pop_frame(out);
    feed(1, true); // one frame of caller speech
    EXPECT_TRUE(playout.empty());
    EXPECT_EQ(playout.pop_frame(out), 0u) << "the next packet out is silence";
    ASSERT_EQ(turns.size(), 2u);
    EXPECT_EQ(turns[1].kind, EchoTurn::Kind::barge_in);
    EXPECT_EQ(turns[1].item_id, "echo-1");
    EXPECT_EQ(turns[1].played_ms, 500u);
    EXPECT_EQ(echo.barge_ins(), 1u);
    // The interrupting utterance is itself echoed once it ends.
    feed(20, true);
    feed(30, false);
    ASSERT_EQ(turns.size(), 3u);
    EXPECT_EQ(turns[2].item_id, "echo-2");
}

TEST_F(EchoFixture, ShortBlipsAndSilenceAreNotEchoed) {
    feed(50, false);
    feed(5, true); // 100 ms < 300 ms minimum
    feed(40, false);
    EXPECT_TRUE(turns.empty());
    EXPECT_TRUE(playout.empty());
}

} // namespace
} // namespace wabridge::media

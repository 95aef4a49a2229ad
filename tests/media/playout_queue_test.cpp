#include "wabridge/media/playout_queue.hpp"

#include <gtest/gtest.h>
#include <numeric>
#include <vector>

namespace wabridge::media {
namespace {

// Samples first, first+1, ...: every played sample says where it came from.
std::vector<int16_t> ramp(size_t n, int16_t first) {
    std::vector<int16_t> v(n);
    std::iota(v.begin(), v.end(), first);
    return v;
}

TEST(PlayoutQueue, OddSizedPushesAreAccountedExactlyPerFrame) {
    PlayoutQueue q;
    // 23 pushes of 1000 samples (958.33 ms), values 0..22999 in order.
    for (int i = 0; i < 23; ++i)
        q.push("item_A", 0, ramp(1000, static_cast<int16_t>(i * 1000)));
    EXPECT_EQ(q.queued_samples(), 23000u);
    std::vector<int16_t> frame(480);
    int16_t expect = 0;
    for (int k = 1; k <= 47; ++k) {
        ASSERT_EQ(q.pop_frame(frame), 480u) << k;
        for (size_t i = 0; i < frame.size(); ++i)
            ASSERT_EQ(frame[i], expect++) << k << "/" << i;
        const auto p = q.progress("item_A");
        ASSERT_TRUE(p);
        EXPECT_EQ(p->played_samples, 480u * k);
        EXPECT_EQ(p->played_ms(), 20u * k);
        EXPECT_EQ(q.queued_samples(), 23000u - 480u * k);
    }
    // The last 440 samples, zero-padded to a full frame.
    frame.assign(480, 77);
    ASSERT_EQ(q.pop_frame(frame), 440u);
    for (size_t i = 0; i < 440; ++i)
        ASSERT_EQ(frame[i], expect++);
    for (size_t i = 440; i < 480; ++i)
        ASSERT_EQ(frame[i], 0);
    const auto p = q.progress("item_A");
    EXPECT_EQ(p->played_samples, 23000u);
    EXPECT_EQ(p->received_samples, 23000u);
    EXPECT_EQ(p->played_ms(), 958u); // floor(958.33)
    EXPECT_TRUE(q.empty());
    // Nothing queued: a frame of silence.
    frame.assign(480, 77);
    EXPECT_EQ(q.pop_frame(frame), 0u);
    EXPECT_EQ(frame, std::vector<int16_t>(480, 0));
    EXPECT_EQ(q.stats().pushed_samples, 23000u);
    EXPECT_EQ(q.stats().played_samples, 23000u);
}

TEST(PlayoutQueue, FrameSpanningTwoItemsCreditsEach) {
    PlayoutQueue q;
    q.push("A", 0, ramp(700, 0));
    q.push("B", 0, ramp(1000, 1000));
    std::vector<int16_t> frame(480);
    ASSERT_EQ(q.pop_frame(frame), 480u);
    ASSERT_EQ(q.pop_frame(frame), 480u);
    // 220 samples of A (480..699), then 260 of B (1000..1259).
    EXPECT_EQ(frame[0], 480);
    EXPECT_EQ(frame[219], 699);
    EXPECT_EQ(frame[220], 1000);
    EXPECT_EQ(frame[479], 1259);
    EXPECT_EQ(q.progress("A")->played_samples, 700u);
    EXPECT_EQ(q.progress("B")->played_samples, 260u);
    EXPECT_EQ(q.progress("B")->played_ms(), 10u); // 10.83 ms
    EXPECT_EQ(q.queued_samples(), 740u);
    EXPECT_FALSE(q.progress("C"));
}

TEST(PlayoutQueue, FlushReturnsThePlayingItemAndEmptiesTheQueue) {
    PlayoutQueue q;
    EXPECT_FALSE(q.flush()); // nothing queued or played
    q.push("resp1_item", 0, ramp(2400, 1));
    q.push("resp1_item", 0, ramp(2400, 1));
    std::vector<int16_t> frame(480);
    for (int i = 0; i < 7; ++i)
        ASSERT_EQ(q.pop_frame(frame), 480u);
    const auto p = q.flush();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->item_id, "resp1_item");
    EXPECT_EQ(p->content_index, 0);
    EXPECT_EQ(p->played_samples, 3360u);
    EXPECT_EQ(p->played_ms(), 140u);
    EXPECT_EQ(p->received_samples, 4800u);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.queued_samples(), 0u);
    frame.assign(480, 5);
    EXPECT_EQ(q.pop_frame(frame), 0u);
    EXPECT_EQ(frame, std::vector<int16_t>(480, 0));
    EXPECT_EQ(q.stats().flushed_samples, 1440u);
    // Flushing again: nothing queued, so the item last played.
    EXPECT_EQ(q.flush()->played_ms(), 140u);
    EXPECT_EQ(q.stats().flushed_samples, 1440u);
}

TEST(PlayoutQueue, FlushAtAnItemBoundaryReturnsTheItemAboutToPlay) {
    PlayoutQueue q;
    q.push("A", 0, ramp(480, 0));
    q.push("B", 1, ramp(480, 0));
    std::vector<int16_t> frame(480);
    ASSERT_EQ(q.pop_frame(frame), 480u); // A fully played, B next
    const auto p = q.flush();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->item_id, "B");
    EXPECT_EQ(p->content_index, 1);
    EXPECT_EQ(p->played_samples, 0u);
    EXPECT_EQ(q.progress("A")->played_ms(), 20u);
}

TEST(PlayoutQueue, IgnoredItemsLatePushesAreDroppedAndCounted) {
    PlayoutQueue q;
    q.push("A", 0, ramp(960, 0));
    std::vector<int16_t> frame(480);
    ASSERT_EQ(q.pop_frame(frame), 480u);
    ASSERT_TRUE(q.flush());
    q.ignore_item("A");
    q.push("A", 0, ramp(500, 0));
    q.push("A", 0, ramp(300, 0));
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.stats().ignored_samples, 800u);
    EXPECT_EQ(q.progress("A")->received_samples, 960u); // the late audio never counted
    q.push("B", 0, ramp(480, 9));
    EXPECT_EQ(q.queued_samples(), 480u);
    q.push("A", 0, ramp(100, 0)); // still late audio of the cancelled item
    EXPECT_EQ(q.queued_samples(), 480u);
    EXPECT_EQ(q.stats().ignored_samples, 900u);
    ASSERT_EQ(q.pop_frame(frame), 480u);
    EXPECT_EQ(frame[0], 9);
    EXPECT_EQ(q.progress("A")->played_samples, 480u);
}

TEST(PlayoutQueue, OverflowBeyondTheCapIsCounted) {
    PlayoutQueue q(24000, 1000);
    q.push("A", 0, ramp(600, 0));
    q.push("A", 0, ramp(600, 600)); // 400 fit
    EXPECT_EQ(q.queued_samples(), 1000u);
    EXPECT_EQ(q.stats().overflow_samples, 200u);
    std::vector<int16_t> frame(480);
    ASSERT_EQ(q.pop_frame(frame), 480u);
    q.push("A", 0, ramp(600, 0)); // 480 fit
    EXPECT_EQ(q.queued_samples(), 1000u);
    EXPECT_EQ(q.stats().overflow_samples, 320u);
    q.push("B", 0, ramp(10, 0)); // nothing fits: B is not even created
    EXPECT_EQ(q.stats().overflow_samples, 330u);
    EXPECT_FALSE(q.progress("B"));
    EXPECT_EQ(q.progress("A")->received_samples, 1480u);
    EXPECT_EQ(q.stats().pushed_samples, 1480u);
    // Played order is what was accepted: 0..599, 600..999, then 0..479 of the third push.
    ASSERT_EQ(q.pop_frame(frame), 480u);
    EXPECT_EQ(frame[0], 480);
    EXPECT_EQ(frame[479], 959);
    ASSERT_EQ(q.pop_frame(frame), 480u);
    EXPECT_EQ(frame[39], 999);
    EXPECT_EQ(frame[40], 0);
    EXPECT_EQ(frame[479], 439);
}

TEST(PlayoutQueue, HistoryIsBoundedButKeepsItemsWithQueuedAudio) {
    PlayoutQueue q;
    std::vector<int16_t> frame(10);
    for (int i = 0; i < 20; ++i)
        q.push("i" + std::to_string(i), 0, ramp(10, 0));
    // All 20 still have audio queued: all known.
    for (int i = 0; i < 20; ++i)
        EXPECT_TRUE(q.progress("i" + std::to_string(i))) << i;
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(q.pop_frame(frame), 10u);
    q.push("j", 0, ramp(10, 0)); // trims the played ones beyond the last 16 items
    for (int i = 0; i < 5; ++i)
        EXPECT_FALSE(q.progress("i" + std::to_string(i))) << i;
    for (int i = 5; i < 20; ++i)
        EXPECT_EQ(q.progress("i" + std::to_string(i))->played_samples, 10u);
    EXPECT_EQ(q.progress("j")->played_samples, 0u);
}

} // namespace
} // namespace wabridge::media

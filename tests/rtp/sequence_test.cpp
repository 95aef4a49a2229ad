#include "wabridge/rtp/sequence.hpp"

#include <gtest/gtest.h>

namespace wabridge::rtp {
namespace {

TEST(SequenceExtender, FirstPacketDefinesTheBase) {
    SequenceExtender s;
    EXPECT_FALSE(s.started());
    EXPECT_EQ(s.extend(1000), 1000u);
    EXPECT_TRUE(s.started());
    EXPECT_EQ(s.base(), 1000);
    EXPECT_EQ(s.extend(1001), 1001u);
    EXPECT_EQ(s.extend(1001), 1001u); // duplicate
    EXPECT_EQ(s.highest(), 1001u);
}

TEST(SequenceExtender, WrapsFrom65535ToZero) {
    SequenceExtender s;
    EXPECT_EQ(s.extend(65534), 65534u);
    EXPECT_EQ(s.extend(65535), 65535u);
    EXPECT_EQ(s.extend(0), 65536u);
    EXPECT_EQ(s.extend(1), 65537u);
    EXPECT_EQ(s.highest(), 65537u);
}

TEST(SequenceExtender, LatePacketFromBeforeTheWrapKeepsItsCycle) {
    SequenceExtender s;
    EXPECT_EQ(s.extend(65533), 65533u);
    // 65534 is lost for now; 65535, 0, 1 arrive.
    EXPECT_EQ(s.extend(65535), 65535u);
    EXPECT_EQ(s.extend(0), 65536u);
    EXPECT_EQ(s.extend(1), 65537u);
    // 65534 arrives late: it belongs to cycle 0, and does not move the highest.
    EXPECT_EQ(s.extend(65534), 65534u);
    EXPECT_EQ(s.highest(), 65537u);
    // A late packet of the current cycle.
    EXPECT_EQ(s.extend(2), 65538u);
    EXPECT_EQ(s.extend(0), 65536u);
    EXPECT_EQ(s.highest(), 65538u);
}

TEST(SequenceExtender, GapAcrossTheWrapWithinHalfTheRange) {
    SequenceExtender s;
    EXPECT_EQ(s.extend(60000), 60000u);
    EXPECT_EQ(s.extend(10000), 75536u); // 60000 + 15536, across the wrap
    EXPECT_EQ(s.extend(50000), 50000u); // 25536 behind: late, from cycle 0
    EXPECT_EQ(s.highest(), 75536u);
}

TEST(SequenceExtender, HalfRangeBoundary) {
    SequenceExtender s;
    EXPECT_EQ(s.extend(40000), 40000u);
    EXPECT_EQ(s.extend(7231), 72767u); // ahead by 32767 (across the wrap): the new highest
    EXPECT_EQ(s.highest(), 72767u);
    EXPECT_EQ(s.extend(39999), 39999u); // 32768 away reads as behind: late, from cycle 0
    EXPECT_EQ(s.highest(), 72767u);
}

TEST(SequenceExtender, ManyCycles) {
    SequenceExtender s;
    uint64_t expected = 100;
    EXPECT_EQ(s.extend(100), expected);
    for (int i = 0; i < 5 * 65536; ++i) {
        ++expected;
        ASSERT_EQ(s.extend(static_cast<uint16_t>(expected)), expected);
    }
    EXPECT_EQ(s.highest() >> 16, 5u);
}

TEST(SequenceExtender, LateBeforeTheFirstCycleSaturatesAtZero) {
    SequenceExtender s;
    EXPECT_EQ(s.extend(2), 2u);
    EXPECT_EQ(s.extend(65534), 0u); // sent before the first packet, in a cycle before 0
    EXPECT_EQ(s.highest(), 2u);
    EXPECT_EQ(s.extend(3), 3u);
}

} // namespace
} // namespace wabridge::rtp

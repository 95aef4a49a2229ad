#include "wabridge/rtp/ntp_time.hpp"

#include <gtest/gtest.h>

namespace wabridge::rtp {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using SysTime = std::chrono::system_clock::time_point;

SysTime unix_time(nanoseconds since_epoch) {
    return SysTime{std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)};
}

TEST(NtpTime, UnixEpochIs2208988800SecondsAfter1900) {
    EXPECT_EQ(to_ntp(unix_time(seconds{0})), uint64_t{2208988800} << 32);
    EXPECT_EQ(to_ntp(unix_time(seconds{0})), 0x83aa7e8000000000ULL);
    EXPECT_EQ(from_ntp(0x83aa7e8000000000ULL), unix_time(seconds{0}));
}

TEST(NtpTime, KnownDateWithFraction) {
    // 2024-01-01 00:00:00.5 UTC = Unix 1704067200.5 = NTP 3913056000 + 2^31 / 2^32.
    const SysTime t = unix_time(seconds{1704067200} + milliseconds{500});
    EXPECT_EQ(to_ntp(t), (uint64_t{3913056000} << 32) | 0x80000000u);
    EXPECT_EQ(to_ntp(t), 0xe93c7f0080000000ULL);
    EXPECT_EQ(from_ntp(0xe93c7f0080000000ULL), t);
    // A quarter second, and the smallest fraction.
    EXPECT_EQ(to_ntp(unix_time(milliseconds{250})) & 0xffffffffu, 0x40000000u);
    EXPECT_EQ(from_ntp((uint64_t{2208988800} << 32) | 1), unix_time(nanoseconds{0})); // 0.23 ns
}

TEST(NtpTime, RoundTripsToTheNanosecond) {
    const int64_t samples[] = {0,           1,
                               999'999'999, 1'000'000'000,
                               123'456'789, 1'704'067'200'123'456'789,
                               -1,          -86'400'000'000'001};
    for (int64_t ns : samples) {
        const SysTime t = unix_time(nanoseconds{ns});
        EXPECT_EQ(from_ntp(to_ntp(t)), t) << ns;
    }
    for (int64_t ns = 1'700'000'000'000'000'000; ns < 1'700'000'000'000'100'000; ns += 7) {
        const SysTime t = unix_time(nanoseconds{ns});
        ASSERT_EQ(from_ntp(to_ntp(t)), t) << ns;
    }
}

TEST(NtpTime, EraOneAfter2036) {
    // NTP seconds wrap to 0 at 2036-02-07 06:28:16 UTC (Unix 2085978496).
    const SysTime wrap = unix_time(seconds{2085978496});
    EXPECT_EQ(to_ntp(wrap), 0u);
    EXPECT_EQ(from_ntp(0), wrap);
    EXPECT_EQ(from_ntp(uint64_t{1} << 32), wrap + seconds{1});
    EXPECT_EQ(to_ntp(wrap - seconds{1}), 0xffffffff00000000ULL);
    EXPECT_EQ(from_ntp(0xffffffff00000000ULL), wrap - seconds{1});
}

TEST(NtpTime, CompactIsTheMiddle32Bits) {
    EXPECT_EQ(compact_ntp(0x83aa7e8080000000ULL), 0x7e808000u);
    EXPECT_EQ(compact_ntp(0x0123456789abcdefULL), 0x456789abu);
}

TEST(NtpTime, CompactDurations) {
    EXPECT_EQ(to_compact_ntp_duration(seconds{1}), 65536u);
    EXPECT_EQ(to_compact_ntp_duration(milliseconds{1500}), 98304u);
    EXPECT_EQ(to_compact_ntp_duration(microseconds{15}), 1u); // 0.983 units
    EXPECT_EQ(to_compact_ntp_duration(microseconds{7}), 0u);  // 0.459 units
    EXPECT_EQ(to_compact_ntp_duration(nanoseconds{-5}), 0u);
    EXPECT_EQ(to_compact_ntp_duration(seconds{65535}), 0xffff0000u);
    EXPECT_EQ(to_compact_ntp_duration(seconds{70000}), 0xffffffffu);
    EXPECT_EQ(from_compact_ntp_duration(65536), microseconds{1'000'000});
    EXPECT_EQ(from_compact_ntp_duration(0x00054000), microseconds{5'250'000});
    EXPECT_EQ(from_compact_ntp_duration(1), microseconds{15}); // 15.26 us
    EXPECT_EQ(from_compact_ntp_duration(0xffffffffu), microseconds{65'535'999'985});
}

} // namespace
} // namespace wabridge::rtp

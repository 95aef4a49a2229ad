#include "wabridge/rtp/ntp_time.hpp"

namespace wabridge::rtp {

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

} // namespace

uint64_t to_ntp(std::chrono::system_clock::time_point t) {
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    // Floor division so times before 1970 get a fraction in [0, 1 s) too.
    int64_t seconds = ns / kNanosPerSecond;
    int64_t rest = ns % kNanosPerSecond;
    if (rest < 0) {
        rest += kNanosPerSecond;
        --seconds;
    }
    // RFC 3550 §4: seconds since 1900 in the integer part (modulo 2^32: the era wraps).
    const auto ntp_seconds =
        static_cast<uint32_t>(static_cast<uint64_t>(seconds) + kNtpUnixEpochOffset);
    // fraction = rest * 2^32 / 10^9, truncated; rest < 10^9 < 2^30, so the product fits 62 bits.
    const uint64_t fraction = (static_cast<uint64_t>(rest) << 32) / kNanosPerSecond;
    return (uint64_t{ntp_seconds} << 32) | fraction;
}

std::chrono::system_clock::time_point from_ntp(uint64_t ntp) {
    const auto ntp_seconds = static_cast<uint32_t>(ntp >> 32);
    const uint64_t fraction = ntp & 0xffffffffULL;
    // RFC 4330 §3: MSB set -> era 0 (from 1900); clear -> era 1 (from 2036, 2^32 s later).
    int64_t since_1900 = ntp_seconds;
    if ((ntp_seconds & 0x80000000u) == 0) since_1900 += int64_t{1} << 32;
    const int64_t unix_seconds = since_1900 - static_cast<int64_t>(kNtpUnixEpochOffset);
    // Round to the nearest nanosecond: fraction * 10^9 < 2^62.
    auto ns = static_cast<int64_t>((fraction * kNanosPerSecond + (uint64_t{1} << 31)) >> 32);
    const std::chrono::nanoseconds since_epoch{unix_seconds * kNanosPerSecond + ns};
    return std::chrono::system_clock::time_point{
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)};
}

uint32_t to_compact_ntp_duration(std::chrono::nanoseconds d) {
    const int64_t ns = d.count();
    if (ns <= 0) return 0;
    // units = ns * 65536 / 10^9, rounded; split to keep the product inside 64 bits.
    const uint64_t whole = static_cast<uint64_t>(ns / kNanosPerSecond);
    const uint64_t rest = static_cast<uint64_t>(ns % kNanosPerSecond);
    if (whole >= 65536) return 0xffffffffu;
    const uint64_t units = (whole << 16) + ((rest << 16) + kNanosPerSecond / 2) / kNanosPerSecond;
    return units > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(units);
}

std::chrono::microseconds from_compact_ntp_duration(uint32_t units) {
    return std::chrono::microseconds{
        static_cast<int64_t>((uint64_t{units} * 1'000'000 + 32768) >> 16)};
}

} // namespace wabridge::rtp

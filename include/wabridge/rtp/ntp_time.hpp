// NTP timestamps for RTCP (RFC 3550 §4): 64 bits, seconds since 1900-01-01 00:00 UTC in the high
// 32 bits and the fraction of a second in the low 32. The "compact" form is the middle 32 bits
// (16.16 fixed point), used by the LSR and DLSR fields of report blocks (RFC 3550 §6.4.1).
#pragma once

#include <chrono>
#include <cstdint>

namespace wabridge::rtp {

// Seconds from 1900-01-01 (the NTP epoch) to 1970-01-01 (the Unix epoch): 70 years, 17 of them
// leap years.
inline constexpr uint64_t kNtpUnixEpochOffset = 2208988800ULL;

// Wall clock -> NTP. The fraction is truncated (1 unit = 2^-32 s, about 0.23 ns). Seconds wrap
// modulo 2^32 (NTP era 0 ends in February 2036; RFC 3550 §4 notes that only differences matter).
uint64_t to_ntp(std::chrono::system_clock::time_point t);

// NTP -> wall clock, to the nearest nanosecond. Following RFC 4330 §3, a timestamp whose most
// significant bit is clear is taken to be in era 1 (2036-02-07 06:28:16 UTC onwards), so the range
// covered is 1968-01-20 .. 2104-02-26. to_ntp then from_ntp gives back the same nanosecond.
std::chrono::system_clock::time_point from_ntp(uint64_t ntp);

// The middle 32 bits of an NTP timestamp (RFC 3550 §6.4.1, "last SR timestamp").
inline constexpr uint32_t compact_ntp(uint64_t ntp) {
    return static_cast<uint32_t>(ntp >> 16);
}

// A duration in compact NTP units (1/65536 s, e.g. DLSR), rounded to the nearest unit and
// saturating at 0 and 0xffffffff.
uint32_t to_compact_ntp_duration(std::chrono::nanoseconds d);

// Compact NTP units -> microseconds, rounded to the nearest microsecond.
std::chrono::microseconds from_compact_ntp_duration(uint32_t units);

} // namespace wabridge::rtp

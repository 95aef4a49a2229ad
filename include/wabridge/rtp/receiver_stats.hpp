// Reception statistics for one remote source (SSRC), the input of our RTCP report blocks:
// packets expected and lost (RFC 3550 §A.3), interarrival jitter (§A.8) and the last SR
// timestamp with its delay (§6.4.1 LSR/DLSR). Sans-IO: every arrival time is passed in.
#pragma once

#include "wabridge/rtp/rtcp.hpp"
#include "wabridge/rtp/sequence.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

namespace wabridge::rtp {

class ReceiverStats {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    // `clock_rate` is the RTP timestamp rate of the source (48000 for Opus), used to express
    // arrival times in timestamp units for the jitter (RFC 3550 §A.8).
    ReceiverStats(uint32_t ssrc, uint32_t clock_rate);

    // One RTP packet from the source (duplicates and late packets included: RFC 3550 §A.3
    // counts them as received, so the cumulative loss may go negative).
    void on_rtp(uint16_t seq, uint32_t rtp_timestamp, TimePoint arrival);

    // A sender report from the source: remembers the middle 32 bits of its NTP timestamp (LSR)
    // and when it arrived (for DLSR).
    void on_sender_report(uint64_t ntp_timestamp, TimePoint arrival);

    // The report block about this source as of `now`, and the start of a new reporting interval
    // (the fraction lost covers the packets since the previous call; RFC 3550 §A.3).
    ReportBlock report_block(TimePoint now);

    uint32_t ssrc() const { return ssrc_; }
    uint64_t received() const { return received_; }
    // extended highest - base + 1, 0 before the first packet.
    uint64_t expected() const;
    // expected - received, unclamped.
    int64_t lost() const;
    uint64_t extended_highest_seq() const { return seq_.highest(); }
    // Interarrival jitter in timestamp units (the value a report block carries).
    uint32_t jitter() const { return static_cast<uint32_t>(jitter_q4_ >> 4); }

private:
    uint32_t arrival_in_rtp_units(TimePoint arrival) const;

    uint32_t ssrc_;
    uint32_t clock_rate_;
    SequenceExtender seq_;
    uint64_t received_ = 0;
    uint64_t expected_prior_ = 0; // RFC 3550 §A.3: counters at the previous report
    uint64_t received_prior_ = 0;

    bool have_transit_ = false;
    TimePoint epoch_{}; // arrival of the first packet: the origin of the arrival clock
    uint32_t last_transit_ = 0;
    uint64_t jitter_q4_ = 0; // jitter * 16 (RFC 3550 §A.8 fixed-point form)

    bool have_sr_ = false;
    uint32_t lsr_ = 0;
    TimePoint lsr_arrival_{};
};

// Round-trip time from a report block about one of our streams (RFC 3550 §6.4.1, Fig. 2):
// A - LSR - DLSR, where A is `now` as compact NTP, all in 1/65536 s. std::nullopt when the block
// has no LSR (0: the reporter has had no SR from us) or the result is negative (clock or
// rounding inconsistencies).
std::optional<std::chrono::microseconds> rtt_from_report(const ReportBlock& rb,
                                                         std::chrono::system_clock::time_point now);

} // namespace wabridge::rtp

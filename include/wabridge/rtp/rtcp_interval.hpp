// The RTCP transmission interval (RFC 3550 §6.3.1, computed as in §A.7 rtcp_interval()).
// A pure function: the randomisation draw is an argument, so the caller owns the randomness.
#pragma once

#include <chrono>
#include <cstdint>

namespace wabridge::rtp {

struct RtcpIntervalInput {
    // Session members, ourselves included (RFC 3550 §6.3: "members").
    uint32_t members = 2;
    // Members that sent RTP since our second-to-last report, ourselves included if we did.
    uint32_t senders = 0;
    // RTCP bandwidth in bits per second: RFC 3550 §6.2 recommends 5 % of the session bandwidth
    // (e.g. Opus at 20 kbit/s of payload, ~32 kbit/s with headers, gives about 1600 bit/s).
    double rtcp_bandwidth_bps = 1000.0;
    // Whether we sent RTP since our second-to-last report.
    bool we_sent = false;
    // Average compound RTCP packet size in octets, UDP and IP headers included (§6.3.3).
    double avg_rtcp_size = 100.0;
    // Before our first RTCP packet: the minimum interval is halved (§6.2, §6.3.1).
    bool initial = false;
};

// RFC 3550 §6.3.1 constants.
inline constexpr double kRtcpMinTimeSeconds = 5.0;
inline constexpr double kRtcpSenderBandwidthFraction = 0.25;
inline constexpr double kRtcpReceiverBandwidthFraction = 0.75;
// e - 3/2: compensates the timer reconsideration algorithm (§6.3.1 step 5, §A.7).
inline constexpr double kRtcpCompensation = 2.71828 - 1.5;

// The randomised interval until the next compound RTCP packet:
//   n members (senders only, or receivers only, when senders are at most a quarter of the
//   members, with the matching 25 % / 75 % share of the bandwidth);
//   Td = max(Tmin, avg_rtcp_size * 8 * n / rtcp_bandwidth_bps), Tmin = 5 s (2.5 s initial);
//   T = Td * (u + 0.5) / 1.21828.
// `u` is a uniform draw in [0, 1) (values outside [0, 1] are clamped, NaN counts as 0). A bandwidth
// that is zero, negative or not a number yields Td = Tmin rather than an infinite interval.
std::chrono::duration<double> rtcp_interval(const RtcpIntervalInput& in, double u);

} // namespace wabridge::rtp

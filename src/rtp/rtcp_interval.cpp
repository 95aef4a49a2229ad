#include "wabridge/rtp/rtcp_interval.hpp"

#include <cmath>

namespace wabridge::rtp {

std::chrono::duration<double> rtcp_interval(const RtcpIntervalInput& in, double u) {
    // RFC 3550 §A.7 rtcp_interval(), with the bandwidth in bits rather than octets per second.
    const double min_time = in.initial ? kRtcpMinTimeSeconds / 2 : kRtcpMinTimeSeconds;

    double bandwidth = in.rtcp_bandwidth_bps;
    double n = in.members;
    // "Dedicate a fraction of the RTCP bandwidth to senders unless the number of senders is
    // large enough that their share is more than that fraction."
    if (in.senders <= in.members * kRtcpSenderBandwidthFraction) {
        if (in.we_sent) {
            bandwidth *= kRtcpSenderBandwidthFraction;
            n = in.senders;
        } else {
            bandwidth *= kRtcpReceiverBandwidthFraction;
            n = static_cast<double>(in.members) - in.senders;
        }
    }

    double t = min_time;
    if (bandwidth > 0 && std::isfinite(bandwidth) && std::isfinite(in.avg_rtcp_size)) {
        const double computed = in.avg_rtcp_size * 8.0 * n / bandwidth;
        if (computed > t) t = computed;
    }

    // §6.3.1: randomise to [0.5, 1.5) of the deterministic interval, then divide by e - 3/2.
    if (!(u >= 0.0)) u = 0.0; // also catches NaN
    if (u > 1.0) u = 1.0;
    return std::chrono::duration<double>(t * (u + 0.5) / kRtcpCompensation);
}

} // namespace wabridge::rtp

#include "wabridge/rtp/rtcp_interval.hpp"

#include <gtest/gtest.h>
#include <limits>

namespace wabridge::rtp {
namespace {

double interval(const RtcpIntervalInput& in, double u) {
    return rtcp_interval(in, u).count();
}

TEST(RtcpInterval, TwoPartyCallIsBoundByTheMinimum) {
    // A call: us and the peer, both sending. Senders (2) are more than a quarter of the
    // members, so all 1000 bit/s are shared by both: 100 * 8 * 2 / 1000 = 1.6 s < Tmin 5 s.
    RtcpIntervalInput in;
    in.members = 2;
    in.senders = 2;
    in.we_sent = true;
    in.rtcp_bandwidth_bps = 1000;
    in.avg_rtcp_size = 100;
    EXPECT_DOUBLE_EQ(interval(in, 0.0), 5.0 * 0.5 / 1.21828);
    EXPECT_NEAR(interval(in, 0.0), 2.0520734149784943, 1e-12);
    EXPECT_NEAR(interval(in, 0.5), 4.1041468299569885, 1e-12);
    in.initial = true; // Tmin halved before the first report
    EXPECT_NEAR(interval(in, 0.0), 1.0260367074892471, 1e-12);
}

TEST(RtcpInterval, ReceiversShareThreeQuarters) {
    // 100 members, 1 sender, we only receive: n = 99 receivers, 750 bit/s:
    // 100 * 8 * 99 / 750 = 105.6 s.
    RtcpIntervalInput in;
    in.members = 100;
    in.senders = 1;
    in.we_sent = false;
    in.rtcp_bandwidth_bps = 1000;
    in.avg_rtcp_size = 100;
    EXPECT_NEAR(interval(in, 0.5), 105.6 / 1.21828, 1e-9);
    EXPECT_NEAR(interval(in, 0.5), 86.67958104869159, 1e-9);
    EXPECT_NEAR(interval(in, 0.75), 108.34947631086449, 1e-9);
}

TEST(RtcpInterval, SendersShareOneQuarter) {
    // 100 members, 10 senders including us: n = 10, 250 bit/s: 100 * 8 * 10 / 250 = 32 s.
    RtcpIntervalInput in;
    in.members = 100;
    in.senders = 10;
    in.we_sent = true;
    in.rtcp_bandwidth_bps = 1000;
    in.avg_rtcp_size = 100;
    EXPECT_NEAR(interval(in, 0.25), 32.0 * 0.75 / 1.21828, 1e-12);
    EXPECT_NEAR(interval(in, 0.25), 19.699904783793546, 1e-9);
    // One sender among 100: 100 * 8 / 250 = 3.2 s, below Tmin.
    in.senders = 1;
    EXPECT_DOUBLE_EQ(interval(in, 0.25), 5.0 * 0.75 / 1.21828);
}

TEST(RtcpInterval, WholeBandwidthWhenSendersAreMany) {
    // 4 members, 2 senders (> 1/4): n = 4 at the full 100 bit/s: 100 * 8 * 4 / 100 = 32 s.
    RtcpIntervalInput in;
    in.members = 4;
    in.senders = 2;
    in.we_sent = false;
    in.rtcp_bandwidth_bps = 100;
    in.avg_rtcp_size = 100;
    EXPECT_NEAR(interval(in, 0.0), 32.0 * 0.5 / 1.21828, 1e-12);
}

TEST(RtcpInterval, RandomisationRangeAndClamping) {
    RtcpIntervalInput in; // defaults: 2 members, 0 senders -> Tmin
    const double lo = 5.0 * 0.5 / 1.21828;
    const double hi = 5.0 * 1.5 / 1.21828;
    EXPECT_DOUBLE_EQ(interval(in, -3.0), lo);
    EXPECT_DOUBLE_EQ(interval(in, std::numeric_limits<double>::quiet_NaN()), lo);
    EXPECT_LT(interval(in, 0.999), hi);
    EXPECT_DOUBLE_EQ(interval(in, 1.0), hi);
    EXPECT_DOUBLE_EQ(interval(in, 42.0), hi);
}

TEST(RtcpInterval, ZeroBandwidthFallsBackToTheMinimum) {
    RtcpIntervalInput in;
    in.members = 50;
    in.rtcp_bandwidth_bps = 0;
    EXPECT_DOUBLE_EQ(interval(in, 0.0), 5.0 * 0.5 / 1.21828);
    in.rtcp_bandwidth_bps = -5;
    in.initial = true;
    EXPECT_DOUBLE_EQ(interval(in, 0.0), 2.5 * 0.5 / 1.21828);
}

} // namespace
} // namespace wabridge::rtp

#include "wabridge/rtp/receiver_stats.hpp"

#include "wabridge/rtp/ntp_time.hpp"

namespace wabridge::rtp {

ReceiverStats::ReceiverStats(uint32_t ssrc, uint32_t clock_rate)
    : ssrc_(ssrc)
    , clock_rate_(clock_rate) {}

uint64_t ReceiverStats::expected() const {
    if (!seq_.started()) return 0;
    // RFC 3550 §A.3: expected = extended_max - base_seq + 1.
    return seq_.highest() - seq_.base() + 1;
}

int64_t ReceiverStats::lost() const {
    return static_cast<int64_t>(expected()) - static_cast<int64_t>(received_);
}

uint32_t ReceiverStats::arrival_in_rtp_units(TimePoint arrival) const {
    // Only differences of arrival times matter (RFC 3550 §A.8), so the clock starts at the first
    // packet. Seconds and the remainder are scaled separately to stay inside 64 bits.
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(arrival - epoch_).count();
    const int64_t seconds = ns / 1'000'000'000;
    const int64_t rest = ns % 1'000'000'000;
    const int64_t units = seconds * clock_rate_ + rest * int64_t{clock_rate_} / 1'000'000'000;
    return static_cast<uint32_t>(units); // modulo 2^32, like RTP timestamps
}

void ReceiverStats::on_rtp(uint16_t seq, uint32_t rtp_timestamp, TimePoint arrival) {
    seq_.extend(seq);
    ++received_;

    // RFC 3550 §A.8: transit = arrival - timestamp (both in timestamp units);
    // D = transit - last transit; J += (|D| - J) / 16, kept as J * 16 in integers:
    //   jitter += d - ((jitter + 8) >> 4)
    if (!have_transit_) {
        epoch_ = arrival;
        last_transit_ = arrival_in_rtp_units(arrival) - rtp_timestamp;
        have_transit_ = true;
        return;
    }
    const uint32_t transit = arrival_in_rtp_units(arrival) - rtp_timestamp;
    int64_t d = static_cast<int32_t>(transit - last_transit_);
    last_transit_ = transit;
    if (d < 0) d = -d;
    jitter_q4_ = jitter_q4_ + static_cast<uint64_t>(d) - ((jitter_q4_ + 8) >> 4);
}

void ReceiverStats::on_sender_report(uint64_t ntp_timestamp, TimePoint arrival) {
    have_sr_ = true;
    lsr_ = compact_ntp(ntp_timestamp);
    lsr_arrival_ = arrival;
}

ReportBlock ReceiverStats::report_block(TimePoint now) {
    ReportBlock rb;
    rb.ssrc = ssrc_;

    // RFC 3550 §A.3.
    const uint64_t expected_now = expected();
    rb.cumulative_lost = clamp_cumulative_lost(lost());
    const uint64_t expected_interval = expected_now - expected_prior_;
    const uint64_t received_interval = received_ - received_prior_;
    expected_prior_ = expected_now;
    received_prior_ = received_;
    const int64_t lost_interval =
        static_cast<int64_t>(expected_interval) - static_cast<int64_t>(received_interval);
    if (expected_interval != 0 && lost_interval > 0) {
        const uint64_t fraction = (static_cast<uint64_t>(lost_interval) << 8) / expected_interval;
        rb.fraction_lost = static_cast<uint8_t>(fraction > 255 ? 255 : fraction);
    }

    rb.extended_highest_seq = static_cast<uint32_t>(seq_.highest());
    rb.jitter = jitter();

    // RFC 3550 §6.4.1: LSR 0 and DLSR 0 until an SR has been received.
    if (have_sr_) {
        rb.lsr = lsr_;
        rb.dlsr = now > lsr_arrival_ ? to_compact_ntp_duration(now - lsr_arrival_) : 0;
    }
    return rb;
}

std::optional<std::chrono::microseconds>
rtt_from_report(const ReportBlock& rb, std::chrono::system_clock::time_point now) {
    if (rb.lsr == 0) return std::nullopt;
    const uint32_t a = compact_ntp(to_ntp(now));
    // Modulo 2^32 like the fields themselves; a "negative" result is no RTT.
    const uint32_t rtt = a - rb.lsr - rb.dlsr;
    if (rtt & 0x80000000u) return std::nullopt;
    return from_compact_ntp_duration(rtt);
}

} // namespace wabridge::rtp

// Adaptive jitter buffer; the algorithm is described in the header.
#include "wabridge/media/jitter_buffer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace wabridge::media {
namespace {

// Extended sequence number of cycle 0, a multiple of 2^16 so the low 16 bits stay the wire value.
// (Not rtp::SequenceExtender, which saturates a packet from before the first one's cycle to 0 and
// has no restart: with the base at 2^32, 65535 arriving after a first packet 0 keeps its slot.)
constexpr int64_t kExtBase = int64_t{1} << 32;
constexpr int64_t kMaxSeqJump = 100;            // packets
constexpr int64_t kMaxTimestampJumpSeconds = 5; // of RTP clock
constexpr double kDiscontinuityMs = 1000;       // transit step that starts a new timeline
constexpr auto kMinTransitWindow = std::chrono::seconds(2);
constexpr double kPeakHalfLifeSeconds = 5;
constexpr double kJitterGain = 3;
constexpr auto kDropHold = std::chrono::milliseconds(500);
constexpr int kMaxUnderrunFrames = 10;
// How long after a declared loss the buffer keeps FEC timing (see the header).
constexpr auto kFecTimingHold = std::chrono::seconds(10);

double ms(std::chrono::milliseconds d) {
    return static_cast<double>(d.count());
}

double ms(TimePoint::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

} // namespace

JitterBuffer::JitterBuffer(JitterBufferSettings settings)
    : settings_(settings) {
    if (settings_.frame_ticks == 0) settings_.frame_ticks = 960;
    if (settings_.clock_rate == 0) settings_.clock_rate = 48000;
    settings_.max_packets = std::max<size_t>(settings_.max_packets, 2);
    settings_.min_delay = std::max(settings_.min_delay, std::chrono::milliseconds(0));
    settings_.max_delay = std::max(settings_.max_delay, settings_.min_delay);
    frame_ms_ = 1000.0 * settings_.frame_ticks / settings_.clock_rate;
    target_ms_ = std::clamp(frame_ms_, ms(settings_.min_delay), ms(settings_.max_delay));
}

void JitterBuffer::reset() {
    *this = JitterBuffer(settings_);
}

PushResult JitterBuffer::push(uint32_t ssrc, uint16_t sequence, uint32_t rtp_timestamp,
                              std::span<const uint8_t> payload, TimePoint now) {
    ++stats_.received;
    if (!have_stream_) {
        restart_stream(ssrc, sequence, rtp_timestamp);
        return store(highest_ext_, highest_ts_, payload, now) ? PushResult::overflow_dropped_oldest
                                                              : PushResult::accepted;
    }

    // RFC 3550 §A.1: the cycle that puts the sequence number nearest the highest one.
    const auto seq_delta =
        static_cast<int16_t>(static_cast<uint16_t>(sequence - static_cast<uint16_t>(highest_ext_)));
    const int64_t ext = highest_ext_ + seq_delta;
    // The timestamp extended around the one the sequence number predicts.
    const int64_t expected_ts =
        highest_ts_ + (ext - highest_ext_) * static_cast<int64_t>(settings_.frame_ticks);
    const int64_t ts_ext =
        expected_ts + static_cast<int32_t>(rtp_timestamp - static_cast<uint32_t>(expected_ts));

    bool restart = ssrc != ssrc_ || ext > highest_ext_ + kMaxSeqJump ||
                   std::llabs(ts_ext - expected_ts) >
                       kMaxTimestampJumpSeconds * static_cast<int64_t>(settings_.clock_rate);
    if (!restart && ext < highest_ext_ - kMaxSeqJump) {
        // Far behind: a stray old packet, unless the next one continues from it (the sender
        // restarted its sequence lower), as RFC 3550 §A.1's probation.
        if (probation_seq_ != sequence) {
            probation_seq_ = static_cast<uint16_t>(sequence + 1);
            ++stats_.late;
            return PushResult::late;
        }
        restart = true;
    }
    if (restart) {
        ++stats_.resets;
        restart_stream(ssrc, sequence, rtp_timestamp);
        store(highest_ext_, highest_ts_, payload, now);
        return PushResult::reset;
    }

    if (packets_.count(ext) != 0 || (next_known_ && ext < next_ext_ && seen(ext))) {
        ++stats_.duplicates;
        return PushResult::duplicate;
    }
    if (next_known_ && ext < next_ext_) {
        // Its slot is gone, but its delay is what the target must learn from.
        observe_transit(ts_ext, now);
        update_target(now);
        ++stats_.late;
        return PushResult::late;
    }
    if (ext > highest_ext_) {
        highest_ext_ = ext;
        highest_ts_ = ts_ext;
    }
    return store(ext, ts_ext, payload, now) ? PushResult::overflow_dropped_oldest
                                            : PushResult::accepted;
}

void JitterBuffer::restart_stream(uint32_t ssrc, uint16_t sequence, uint32_t rtp_timestamp) {
    stats_.flushed += packets_.size();
    packets_.clear();
    have_stream_ = true;
    ssrc_ = ssrc;
    highest_ext_ = kExtBase + sequence;
    highest_ts_ = rtp_timestamp;
    probation_seq_.reset();
    playing_ = false;
    next_known_ = false;
    next_ext_ = 0;
    next_ts_ = 0;
    underruns_ = 0;
    over_target_since_.reset();
    seen_.fill(0);
    // A new timestamp base: transit is re-learned. Jitter and peak describe the network path,
    // which the new stream shares, so they are kept.
    min_transit_.clear();
    last_transit_ms_.reset();
    ++timeline_;
    current_delay_ms_ = 0;
}

bool JitterBuffer::store(int64_t ext, int64_t ts_ext, std::span<const uint8_t> payload,
                         TimePoint now) {
    Packet packet;
    packet.timestamp = ts_ext;
    packet.arrival = now;
    packet.transit_ms = observe_transit(ts_ext, now);
    packet.timeline = timeline_;
    packet.payload.assign(payload.begin(), payload.end());
    packets_.emplace(ext, std::move(packet));
    update_target(now);

    bool overflowed = false;
    while (packets_.size() > settings_.max_packets) {
        auto oldest = packets_.begin();
        if (next_known_ && oldest->first >= next_ext_) {
            // Playout skips past the dropped packet; the empty slots before it are lost.
            stats_.lost += static_cast<uint64_t>(oldest->first - next_ext_);
            next_ext_ = oldest->first + 1;
            next_ts_ = oldest->second.timestamp + settings_.frame_ticks;
        }
        packets_.erase(oldest);
        ++stats_.overflow;
        overflowed = true;
    }
    return overflowed;
}

double JitterBuffer::ms_since_epoch(TimePoint t) const {
    return ms(t - *epoch_);
}

double JitterBuffer::observe_transit(int64_t ts_ext, TimePoint now) {
    if (!epoch_) epoch_ = now;
    const double transit =
        ms_since_epoch(now) - 1000.0 * static_cast<double>(ts_ext) / settings_.clock_rate;
    if (last_transit_ms_) {
        const double d = std::fabs(transit - *last_transit_ms_);
        if (d > kDiscontinuityMs) {
            // The sender's timeline moved: a new minimum, and no jitter sample.
            min_transit_.clear();
            ++timeline_;
        } else {
            // RFC 3550 §6.4.1: J(i) = J(i-1) + (|D(i-1,i)| - J(i-1)) / 16.
            jitter_ms_ += (d - jitter_ms_) / 16.0;
        }
    }
    last_transit_ms_ = transit;

    // Sliding-window minimum: the front is the oldest and smallest sample still in the window.
    while (!min_transit_.empty() && now - min_transit_.front().arrival > kMinTransitWindow) {
        min_transit_.pop_front();
    }
    while (!min_transit_.empty() && min_transit_.back().transit_ms >= transit) {
        min_transit_.pop_back();
    }
    min_transit_.push_back({now, transit});

    const double relative =
        std::min(transit - min_transit_.front().transit_ms, ms(settings_.max_delay));
    decay_peak(now);
    peak_ms_ = std::max(peak_ms_, relative);
    return transit;
}

void JitterBuffer::decay_peak(TimePoint now) {
    if (peak_time_ && now > *peak_time_) {
        const double dt = std::chrono::duration<double>(now - *peak_time_).count();
        peak_ms_ *= std::exp2(-dt / kPeakHalfLifeSeconds);
    }
    if (!peak_time_ || now > *peak_time_) peak_time_ = now;
}

void JitterBuffer::update_target(TimePoint now) {
    decay_peak(now);
    const double raw = frame_ms_ + std::max(kJitterGain * jitter_ms_, peak_ms_);
    target_ms_ = std::clamp(raw, ms(settings_.min_delay), ms(settings_.max_delay));
}

double JitterBuffer::due_ms(TimePoint now) const {
    if (last_loss_ && now - *last_loss_ < kFecTimingHold) return target_ms_;
    return target_ms_ - frame_ms_ / 2;
}

double JitterBuffer::packet_delay_ms(const Packet& packet, TimePoint now) const {
    const double waited = ms(now - packet.arrival);
    // now - (minimum transit + timestamp) = waited + (its transit - minimum transit).
    if (packet.timeline != timeline_ || min_transit_.empty()) return waited;
    return waited + packet.transit_ms - min_transit_.front().transit_ms;
}

void JitterBuffer::mark_seen(int64_t ext) {
    seen_[static_cast<uint64_t>(ext) % kHistory] = ext + 1;
}

bool JitterBuffer::seen(int64_t ext) const {
    return seen_[static_cast<uint64_t>(ext) % kHistory] == ext + 1;
}

JitterFrame JitterBuffer::pop(TimePoint now) {
    update_target(now);
    if (!playing_) {
        if (packets_.empty()) return {};
        auto lowest = packets_.begin();
        if (packet_delay_ms(lowest->second, now) < due_ms(now)) return {};
        // Start, or resume after idle; what was skipped meanwhile is lost.
        if (next_known_ && lowest->first > next_ext_) {
            stats_.lost += static_cast<uint64_t>(lowest->first - next_ext_);
        }
        next_ext_ = lowest->first;
        next_ts_ = lowest->second.timestamp;
        next_known_ = true;
        playing_ = true;
        underruns_ = 0;
        over_target_since_.reset();
    }
    return pop_playing(now);
}

JitterFrame JitterBuffer::pop_playing(TimePoint now) {
    auto it = packets_.find(next_ext_);
    if (it != packets_.end()) {
        double delay = packet_delay_ms(it->second, now);
        const bool over = delay - frame_ms_ >= due_ms(now);
        if (!over) {
            over_target_since_.reset();
        } else if (!over_target_since_) {
            over_target_since_ = now;
        }
        const bool ceiling = delay - frame_ms_ >= ms(settings_.max_delay);
        if (over && (ceiling || now - *over_target_since_ >= kDropHold)) {
            auto following = packets_.find(next_ext_ + 1);
            if (following != packets_.end()) {
                mark_seen(next_ext_);
                packets_.erase(it);
                ++stats_.dropped_for_latency;
                it = following;
                delay = packet_delay_ms(it->second, now);
                over_target_since_ = now;
            }
        }
        return play(it, delay);
    }

    auto later = packets_.upper_bound(next_ext_);
    if (later == packets_.end()) {
        // Underrun: nothing to decide a loss with. Conceal and keep waiting for this slot.
        if (++underruns_ > kMaxUnderrunFrames) {
            playing_ = false;
            over_target_since_.reset();
            current_delay_ms_ = 0;
            return {};
        }
        current_delay_ms_ += frame_ms_;
        return hold();
    }
    underruns_ = 0;
    const int64_t gap = later->first - next_ext_;
    const double delay = packet_delay_ms(later->second, now) + static_cast<double>(gap) * frame_ms_;
    current_delay_ms_ = delay;
    if (delay < due_ms(now)) return hold(); // it may still come: the hold adds a frame of delay

    ++stats_.lost;
    last_loss_ = now;
    JitterFrame frame;
    const int64_t ts = later->second.timestamp - gap * static_cast<int64_t>(settings_.frame_ticks);
    frame.sequence = static_cast<uint16_t>(next_ext_);
    frame.rtp_timestamp = static_cast<uint32_t>(ts);
    if (gap == 1 && !later->second.payload.empty()) {
        // Opus in-band FEC (LBRR): the next packet may carry a coarser copy of this frame.
        frame.kind = JitterFrame::Kind::fec;
        frame.payload = later->second.payload;
        ++stats_.fec_recovered;
    } else {
        frame.kind = JitterFrame::Kind::conceal;
        concealed_ms_ += frame_ms_;
    }
    ++next_ext_;
    next_ts_ = ts + settings_.frame_ticks;
    return frame;
}

JitterFrame JitterBuffer::play(PacketMap::iterator it, double delay_ms) {
    JitterFrame frame;
    frame.kind = JitterFrame::Kind::packet;
    frame.payload = std::move(it->second.payload);
    frame.rtp_timestamp = static_cast<uint32_t>(it->second.timestamp);
    frame.sequence = static_cast<uint16_t>(it->first);
    frame.arrival = it->second.arrival;
    next_ext_ = it->first + 1;
    next_ts_ = it->second.timestamp + settings_.frame_ticks;
    mark_seen(it->first);
    packets_.erase(it);
    underruns_ = 0;
    ++stats_.played;
    current_delay_ms_ = delay_ms;
    return frame;
}

JitterFrame JitterBuffer::hold() {
    JitterFrame frame;
    frame.kind = JitterFrame::Kind::conceal;
    frame.sequence = static_cast<uint16_t>(next_ext_);
    frame.rtp_timestamp = static_cast<uint32_t>(next_ts_);
    concealed_ms_ += frame_ms_;
    return frame;
}

JitterBufferStats JitterBuffer::stats() const {
    JitterBufferStats s = stats_;
    s.current_delay_ms = playing_ ? current_delay_ms_ : 0;
    s.target_delay_ms = target_ms_;
    s.jitter_ms = jitter_ms_;
    s.concealed_ms = static_cast<uint64_t>(std::llround(concealed_ms_));
    s.buffered_packets = packets_.size();
    s.playing = playing_;
    return s;
}

} // namespace wabridge::media

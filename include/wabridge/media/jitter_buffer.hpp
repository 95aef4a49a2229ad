// Adaptive jitter buffer for one incoming audio RTP stream (Opus, one fixed-length frame per
// packet), sans-IO: push() takes each packet with its arrival time, pop() is called once per frame
// period by the call's tick and says what to decode next (the packet, FEC from the next packet,
// PLC, or nothing). It never calls the codec, reads a clock or logs.
//
// Algorithm (times in ms; "frame" = frame_ticks / clock_rate, 20 ms for Opus at 48 kHz):
//
// Sequence numbers are extended to 64 bits around the highest one seen (RFC 3550 §A.1), so the
// 65535 -> 0 wrap is seamless; timestamps are extended the same way around the value the highest
// packet predicts. The stream restarts (PushResult::reset: buffer flushed, playout buffers again
// from this packet) on an SSRC change, a sequence number more than 100 ahead of the highest, a
// timestamp more than 5 s away from the one its sequence number predicts, or two sequential
// packets more than 100 behind the highest (a lone one is just late, like RFC 3550 §A.1's
// probation, so one stray old packet cannot flush the buffer).
//
// Timing model. Each packet's transit is arrival - timestamp / clock_rate. RFC 3550 §6.4.1's
// interarrival jitter J follows |transit(i) - transit(i-1)| with gain 1/16. The fastest recent
// path is the minimum transit of the last 2 s of arrivals; a packet's relative delay r is its
// transit above that minimum, and the nominal arrival of the frame with timestamp ts is
// minimum + ts. A transit step larger than 1 s between consecutive arrivals is a timeline
// discontinuity (the sender skipped time without real time passing), not network delay: it starts
// a new timeline (the minimum is re-learned, no jitter sample); packets from an earlier timeline
// count their own wait only. A discontinuity that big would not fit under max_delay anyway.
//
// Target delay = clamp(frame + max(3 J, P), min_delay, max_delay), where P is a peak tracker of r
// (clipped to max_delay): it jumps up at once to any larger r and otherwise halves every 5 s.
// The target therefore rises within a packet when jitter appears and decays over tens of seconds
// after it goes away (J alone would fall in ~16 packets).
//
// Playout delay D of a frame = pop time - its nominal arrival: how long after the fastest path
// would have delivered it it is played (current_delay_ms). D only changes by whole frames at the
// decisions below, and with the minimum transit (network change, clock drift).
//
// Nearest pop. pop() runs once per frame, so the D a frame can get moves in whole frames, at a
// phase set by the sender's clock against the pop tick. Releasing a frame at the FIRST pop with
// D >= target would give a delay anywhere in [target, target + frame) depending on that phase,
// averaging target + frame/2, and target + frame - epsilon when the sender and the pacer start
// together (loopback: both at DTLS-up), i.e. a 40 ms delay for a 20 ms target every time. So a
// frame is due at the pop NEAREST its target: once D >= due = target - frame/2. The steady-state
// delay then lies in [target - frame/2, target + frame/2) whatever the phase, and averages the
// target. min_delay and max_delay bound the target; the delay actually applied is the target
// quantised to the nearest pop, so it can be up to half a frame below min_delay.
// FEC timing. Rounding down has a price under loss: a frame played less than a frame after its
// arrival is played before the next packet has arrived, so a lost packet meets an empty buffer
// (a hold: 20 ms of PLC and a frame of delay) before its FEC copy can be used. So for 10 s after
// each declared loss the buffer goes back to due = target (the first pop at or after it), where
// the next packet is normally in hand and a loss goes straight to FEC; a clean path keeps the
// lower, nearest-pop delay (what barge-in latency is made of).
//   - Start (and restart after idle): Kind::none until the lowest buffered packet has D >= due
//     (for the very first packet: until it has waited due); then play from it.
//     Sequence numbers skipped while idle are counted as lost.
//   - Expected packet present: play it (Kind::packet). If D - frame >= due (one frame less
//     would still be at or past the pop nearest the target) continuously for 500 ms, or
//     D - frame >= max_delay at all, and the following packet is buffered too, drop the expected
//     one instead and play the following one (dropped_for_latency): delay converges down one
//     frame per 500 ms to below target + frame/2, and at once past max_delay.
//   - Expected packet missing, a later packet buffered: the missing one's D is the later one's D
//     plus the frames between. If D < due the packet may still come: conceal without
//     advancing (a hold: +1 frame of delay, not counted as lost). Otherwise declare it lost:
//     Kind::fec with the payload of packet expected+1 when that one is buffered (it is still
//     played normally at the next pop), else Kind::conceal; both count in lost, only conceal in
//     concealed_ms. A packet that arrives after its slot was declared lost is late.
//   - Nothing buffered at or after the expected one (underrun): conceal without advancing and
//     without counting a loss, so every underrun adds a frame of delay; after 10 such frames in a
//     row (the caller stopped sending, or DTX) the buffer goes idle: Kind::none, not counted in
//     concealed_ms, until packets arrive and the start rule is met again. Concealing never
//     advances the sequence with nothing after it, so a pause never turns into a run of lost or
//     late packets, and a timestamp jump with contiguous sequence numbers plays straight through.
//
// Duplicates (already buffered, or among the last 128 frames played or dropped) are counted and
// discarded. Beyond max_packets the lowest buffered packet is dropped (overflow); if playout has
// started, playout skips past it (gaps before it count as lost). Every packet pushed counts in
// received. Conservation (checked by the fuzz target): packets stored (accepted, overflow and
// reset results) = played + dropped_for_latency + overflow + flushed + buffered_packets.
//
// Settings are sanitised: frame_ticks/clock_rate of 0 become 960/48000, max_packets >= 2,
// min_delay >= 0, max_delay >= min_delay.
#pragma once

#include "wabridge/loop/timer_queue.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace wabridge::media {

using loop::TimePoint;

struct JitterBufferSettings {
    std::chrono::milliseconds min_delay{20};
    std::chrono::milliseconds max_delay{200};
    uint32_t frame_ticks = 960; // RTP ticks per frame (20 ms at 48 kHz)
    uint32_t clock_rate = 48000;
    size_t max_packets = 64; // hard capacity; beyond it the oldest is dropped and counted
};

enum class PushResult {
    accepted,
    duplicate,
    late,
    overflow_dropped_oldest,
    reset // SSRC change or big jump: buffer restarted with this packet
};

struct JitterFrame {
    enum class Kind {
        none,    // not started yet / buffering / idle: nothing to play, output nothing
        packet,  // decode `payload` normally
        fec,     // expected packet lost, the next one is here: decode `payload` (the NEXT
                 // packet's) with decode_fec=1
        conceal, // missing, no next packet: run PLC
    };
    Kind kind = Kind::none;
    std::vector<uint8_t> payload;     // empty for none/conceal
    uint32_t rtp_timestamp = 0;       // timestamp of the frame this represents
    uint16_t sequence = 0;            // sequence number of the frame this represents
    std::optional<TimePoint> arrival; // arrival time of the packet decoded (packet kind)
};

struct JitterBufferStats {
    double current_delay_ms = 0; // playout delay D applied (0 while buffering or idle)
    double target_delay_ms = 0;  // adaptive target
    double jitter_ms = 0;        // RFC 3550 §6.4.1 interarrival jitter estimate
    uint64_t received = 0, duplicates = 0, late = 0, lost = 0, fec_recovered = 0, overflow = 0,
             resets = 0;
    uint64_t concealed_ms = 0;        // ms of PLC output requested
    uint64_t dropped_for_latency = 0; // frames skipped to shrink delay when over target
    uint64_t played = 0;              // Kind::packet frames returned
    uint64_t flushed = 0;             // buffered packets discarded by a stream restart
    size_t buffered_packets = 0;      // packets held now
    bool playing = false;             // playout running (false while buffering or idle)
};

class JitterBuffer {
public:
    explicit JitterBuffer(JitterBufferSettings settings = {});

    PushResult push(uint32_t ssrc, uint16_t sequence, uint32_t rtp_timestamp,
                    std::span<const uint8_t> payload, TimePoint now);
    // Called once per frame period (every 20 ms) by the call's tick.
    JitterFrame pop(TimePoint now);
    JitterBufferStats stats() const;
    // Back to the freshly constructed state (same settings), statistics included.
    void reset();

    const JitterBufferSettings& settings() const { return settings_; }

private:
    struct Packet {
        int64_t timestamp = 0; // extended
        TimePoint arrival{};
        double transit_ms = 0;
        uint64_t timeline = 0;
        std::vector<uint8_t> payload;
    };
    using PacketMap = std::map<int64_t, Packet>; // by extended sequence number
    struct TransitSample {
        TimePoint arrival;
        double transit_ms;
    };
    static constexpr size_t kHistory = 128;

    void restart_stream(uint32_t ssrc, uint16_t sequence, uint32_t rtp_timestamp);
    bool store(int64_t ext, int64_t ts_ext, std::span<const uint8_t> payload, TimePoint now);
    double observe_transit(int64_t ts_ext, TimePoint now);
    void decay_peak(TimePoint now);
    void update_target(TimePoint now);
    double packet_delay_ms(const Packet& packet, TimePoint now) const;
    double ms_since_epoch(TimePoint t) const;
    // The smallest D at which a frame is played: the pop nearest the target, or the first pop
    // at or after it while losses are recent (FEC timing; see the header).
    double due_ms(TimePoint now) const;
    void mark_seen(int64_t ext);
    bool seen(int64_t ext) const;
    JitterFrame play(PacketMap::iterator it, double delay_ms);
    JitterFrame hold();
    JitterFrame pop_playing(TimePoint now);

    JitterBufferSettings settings_;
    double frame_ms_ = 20;

    // Stream identity and extension state.
    bool have_stream_ = false;
    uint32_t ssrc_ = 0;
    int64_t highest_ext_ = 0;
    int64_t highest_ts_ = 0;
    std::optional<uint16_t> probation_seq_; // expected next seq of a far-behind packet
    PacketMap packets_;

    // Playout.
    bool playing_ = false;
    bool next_known_ = false;
    int64_t next_ext_ = 0;
    int64_t next_ts_ = 0;
    int underruns_ = 0;
    std::optional<TimePoint> over_target_since_;
    std::optional<TimePoint> last_loss_;   // the last declared loss (FEC timing)
    std::array<int64_t, kHistory> seen_{}; // ext + 1 of recently played/dropped frames, 0 = none

    // Timing estimates.
    std::optional<TimePoint> epoch_;
    std::deque<TransitSample> min_transit_; // increasing transit: front is the minimum
    std::optional<double> last_transit_ms_;
    uint64_t timeline_ = 0;
    double jitter_ms_ = 0;
    double peak_ms_ = 0;
    std::optional<TimePoint> peak_time_;
    double target_ms_ = 0;
    double current_delay_ms_ = 0;
    double concealed_ms_ = 0;

    JitterBufferStats stats_;
};

} // namespace wabridge::media

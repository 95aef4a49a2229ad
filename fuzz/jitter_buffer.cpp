// libFuzzer target for the adaptive jitter buffer. The input is a program: its first octet picks
// the settings, then each octet is an operation (push near the last packet, push anywhere,
// change SSRC, advance the clock, pop, reset) reading its arguments from the octets after it.
// Beyond "no crash, no sanitizer report", after every operation it checks:
//  1. every counter in stats() agrees with what the operations saw (push results, frames);
//  2. packets are conserved: stored = played + dropped for latency + overflow + flushed +
//     buffered, and never more than max_packets are held;
//  3. frames are sane: none/conceal carry no payload, a packet carries the payload pushed for its
//     sequence number, FEC the payload of the next one; the sequence never goes backwards;
//  4. the target stays within [min_delay, max_delay] and the estimates are finite.
#include "wabridge/media/jitter_buffer.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using namespace wabridge::media;
using namespace std::chrono_literals;

[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "jitter_buffer invariant violated: %s\n", what);
    std::abort();
}

class Input {
public:
    Input(const uint8_t* data, size_t size)
        : data_(data)
        , size_(size) {}
    bool done() const { return pos_ >= size_; }
    uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
    uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
    uint32_t u32() { return static_cast<uint32_t>(u16()) << 16 | u16(); }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

// What the operations observed, to hold stats() to.
struct Seen {
    uint64_t pushes = 0, stored = 0, duplicates = 0, late = 0, overflow_results = 0, resets = 0;
    uint64_t packets = 0, fec = 0, conceal = 0;
    bool have_last = false;
    uint16_t last_sequence = 0;
};

// The payload pushed for a sequence number: its two octets, then filler, cut to `length`.
std::vector<uint8_t> payload_for(uint16_t seq, size_t length) {
    std::vector<uint8_t> p(length);
    for (size_t i = 0; i < length; ++i) {
        p[i] = i == 0   ? static_cast<uint8_t>(seq >> 8)
               : i == 1 ? static_cast<uint8_t>(seq)
                        : static_cast<uint8_t>(i * 37);
    }
    return p;
}

bool carries(const std::vector<uint8_t>& payload, uint16_t seq) {
    const auto expected = payload_for(seq, payload.size());
    return payload == expected;
}

void check(const JitterBuffer& jb, const Seen& seen) {
    const JitterBufferStats s = jb.stats();
    const JitterBufferSettings& settings = jb.settings();
    if (s.received != seen.pushes) violated("received");
    if (s.duplicates != seen.duplicates) violated("duplicates");
    if (s.late != seen.late) violated("late");
    if (s.resets != seen.resets) violated("resets");
    if (s.overflow < seen.overflow_results) violated("overflow below overflow results");
    if (s.played != seen.packets) violated("played");
    if (s.fec_recovered != seen.fec) violated("fec_recovered");
    if (s.fec_recovered > s.lost) violated("fec_recovered above lost");
    if (s.concealed_ms != seen.conceal * 20) violated("concealed_ms");
    if (seen.stored !=
        s.played + s.dropped_for_latency + s.overflow + s.flushed + s.buffered_packets) {
        violated("packets not conserved");
    }
    if (s.buffered_packets > settings.max_packets) violated("over capacity");
    const double min_ms = static_cast<double>(settings.min_delay.count());
    const double max_ms = static_cast<double>(settings.max_delay.count());
    if (!(s.target_delay_ms >= min_ms && s.target_delay_ms <= max_ms)) violated("target range");
    if (!std::isfinite(s.jitter_ms) || s.jitter_ms < 0) violated("jitter");
    if (!std::isfinite(s.current_delay_ms)) violated("current delay");
    if (!s.playing && s.current_delay_ms != 0) violated("delay while not playing");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input in(data, size);
    const uint8_t config = in.u8();
    JitterBufferSettings settings;
    settings.max_packets = (config & 0x0F) == 0 ? 64 : (config & 0x0F);
    settings.min_delay = std::chrono::milliseconds(20 * ((config >> 4) & 3));
    settings.max_delay = settings.min_delay + std::chrono::milliseconds(60 * (config >> 6));
    JitterBuffer jb(settings);

    TimePoint now = TimePoint{} + 1000s;
    uint32_t ssrc = 1;
    uint16_t seq = 0;
    uint32_t ts = 0;
    Seen seen;

    auto push = [&](uint16_t s, uint32_t t, size_t length) {
        const auto payload = payload_for(s, length);
        ++seen.pushes;
        switch (jb.push(ssrc, s, t, payload, now)) {
        case PushResult::accepted:
            ++seen.stored;
            break;
        case PushResult::duplicate:
            ++seen.duplicates;
            break;
        case PushResult::late:
            ++seen.late;
            break;
        case PushResult::overflow_dropped_oldest:
            ++seen.stored;
            ++seen.overflow_results;
            break;
        case PushResult::reset:
            ++seen.stored;
            ++seen.resets;
            seen.have_last = false;
            break;
        }
    };

    while (!in.done()) {
        const uint8_t op = in.u8();
        switch (op & 7) {
        case 0:
        case 1:
        case 2: {
            // Near the last packet: sequence step -4..27, timestamp consistent with it plus
            // up to +-127 ms of skew, payload 0..63 octets.
            const int step = (op >> 3) - 4;
            seq = static_cast<uint16_t>(seq + step);
            const auto skew = static_cast<int8_t>(in.u8());
            ts = static_cast<uint32_t>(ts + static_cast<uint32_t>(step * 960) +
                                       static_cast<uint32_t>(skew * 48));
            push(seq, ts, in.u8() % 64);
            break;
        }
        case 3:
            seq = in.u16();
            ts = in.u32();
            push(seq, ts, in.u8() % 64);
            break;
        case 4:
            ssrc = in.u8() % 3;
            break;
        case 5:
            now += std::chrono::milliseconds((op & 8) ? in.u8() * 16 : in.u8());
            break;
        case 6: {
            const JitterFrame f = jb.pop(now);
            now += 20ms;
            switch (f.kind) {
            case JitterFrame::Kind::none:
                if (!f.payload.empty()) violated("payload with none");
                break;
            case JitterFrame::Kind::conceal:
                if (!f.payload.empty()) violated("payload with conceal");
                ++seen.conceal;
                break;
            case JitterFrame::Kind::packet:
                if (!carries(f.payload, f.sequence)) violated("packet payload of another seq");
                if (!f.arrival) violated("packet without arrival time");
                ++seen.packets;
                break;
            case JitterFrame::Kind::fec:
                if (f.payload.empty()) violated("fec without payload");
                if (!carries(f.payload, static_cast<uint16_t>(f.sequence + 1))) {
                    violated("fec payload not the next packet's");
                }
                ++seen.fec;
                break;
            }
            if (f.payload.size() > 63) violated("payload longer than any pushed");
            if (f.kind != JitterFrame::Kind::none) {
                if (seen.have_last && static_cast<int16_t>(static_cast<uint16_t>(
                                          f.sequence - seen.last_sequence)) < 0) {
                    violated("sequence went backwards");
                }
                seen.have_last = true;
                seen.last_sequence = f.sequence;
            }
            break;
        }
        case 7:
            if ((op & 0xF8) == 0xF8) {
                jb.reset();
                seen = Seen{};
            } else {
                now += 20ms;
            }
            break;
        }
        check(jb, seen);
    }
    return 0;
}

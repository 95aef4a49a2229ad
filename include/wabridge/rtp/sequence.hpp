// Extends 16-bit RTP sequence numbers to 64 bits (RFC 3550 §A.1): the count of wrap-arounds
// ("cycles") in the high bits, the sequence number in the low 16.
#pragma once

#include <cstdint>

namespace wabridge::rtp {

// The first packet defines the base: it extends to its own sequence number (cycle 0). After
// that a packet is placed in the cycle that puts it nearest the highest one seen so far (within
// half the 16-bit range, as RFC 3550 §A.1 does with its MAX_DROPOUT/MAX_MISORDER windows, minus
// the probation that this class leaves to its callers):
//   - ahead by 1..32767 (a jump across 65535 -> 0 starts the next cycle): becomes the new highest;
//   - behind by 1..32768: a late packet, possibly from the previous cycle; the highest is kept;
//   - equal: a duplicate.
// A late packet from before cycle 0 (only possible within 32768 of the very first packet, e.g.
// 65534 arriving after a first packet 2) has no 64-bit value below zero; it saturates to 0.
class SequenceExtender {
public:
    uint64_t extend(uint16_t seq);

    bool started() const { return started_; }
    // The highest extended sequence number seen (0 before the first packet).
    uint64_t highest() const { return (cycles_ << 16) | max_seq_; }
    // The first packet's extended sequence number (its own, cycle 0).
    uint16_t base() const { return base_seq_; }

private:
    bool started_ = false;
    uint64_t cycles_ = 0; // wrap-arounds of max_seq_
    uint16_t max_seq_ = 0;
    uint16_t base_seq_ = 0;
};

} // namespace wabridge::rtp

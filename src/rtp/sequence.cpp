#include "wabridge/rtp/sequence.hpp"

namespace wabridge::rtp {

uint64_t SequenceExtender::extend(uint16_t seq) {
    if (!started_) {
        // RFC 3550 §A.1 init_seq(): base_seq = max_seq = seq, cycles = 0.
        started_ = true;
        base_seq_ = seq;
        max_seq_ = seq;
        cycles_ = 0;
        return seq;
    }
    // Distance from the highest, modulo 2^16, read as -32768..32767.
    const auto delta = static_cast<int16_t>(static_cast<uint16_t>(seq - max_seq_));
    if (delta >= 0) {
        // In order (or a duplicate of the highest). RFC 3550 §A.1: "if (seq < s->max_seq)
        // { Sequence number wrapped - count another 64K cycle. }"
        if (seq < max_seq_) ++cycles_;
        max_seq_ = seq;
        return (cycles_ << 16) | seq;
    }
    // Late. A larger number than the highest means it was sent before the last wrap.
    if (seq > max_seq_) {
        if (cycles_ == 0) return 0; // before the first packet's cycle: saturate
        return ((cycles_ - 1) << 16) | seq;
    }
    return (cycles_ << 16) | seq;
}

} // namespace wabridge::rtp

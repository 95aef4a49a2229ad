// libFuzzer target for the RFC 7983 demultiplexer. Beyond "no crash, no sanitizer report", it
// checks on every input:
//  1. classify() agrees with an independent table-driven model of RFC 7983 §7 / RFC 5761 §4;
//  2. the verdict depends only on the first two bytes and on whether the packet reaches 20
//     bytes (so truncating or extending the payload never flips RTP/RTCP/DTLS);
//  3. every verdict is consistent with its own definition (STUN >= 20 bytes with the top two bits
//     clear, RTP/RTCP version 2, RTCP payload type in 192..223).
#include "wabridge/rtc/demux.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using wabridge::rtc::classify;
using wabridge::rtc::PacketKind;

[[noreturn]] void violated(const char* what, std::span<const uint8_t> p) {
    std::fprintf(stderr, "demux invariant violated: %s (size %zu, bytes", what, p.size());
    for (size_t i = 0; i < p.size() && i < 4; ++i)
        std::fprintf(stderr, " %02x", p[i]);
    std::fprintf(stderr, ")\n");
    std::abort();
}

// The RFC 7983 §7 ranges as a 256-entry table, built once.
enum class FirstByte : uint8_t { stun, dtls, rtp_rtcp, other };
std::array<FirstByte, 256> build_table() {
    std::array<FirstByte, 256> t{};
    t.fill(FirstByte::other);
    for (int b = 0; b <= 3; ++b)
        t[b] = FirstByte::stun;
    for (int b = 20; b <= 63; ++b)
        t[b] = FirstByte::dtls;
    for (int b = 128; b <= 191; ++b)
        t[b] = FirstByte::rtp_rtcp;
    return t;
}

PacketKind model(std::span<const uint8_t> p) {
    static const std::array<FirstByte, 256> table = build_table();
    if (p.size() == 0) return PacketKind::unknown;
    switch (table[p[0]]) {
    case FirstByte::stun:
        return p.size() < 20 ? PacketKind::unknown : PacketKind::stun;
    case FirstByte::dtls:
        return PacketKind::dtls;
    case FirstByte::rtp_rtcp:
        if (p.size() == 1) return PacketKind::unknown;
        return (p[1] & 0xE0) == 0xC0 ? PacketKind::rtcp : PacketKind::rtp; // 110xxxxx = 192..223
    case FirstByte::other:
        return PacketKind::unknown;
    }
    return PacketKind::unknown;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> p(data, size);
    const PacketKind kind = classify(p);

    if (kind != model(p)) violated("classify disagrees with the RFC 7983 table", p);

    switch (kind) {
    case PacketKind::stun:
        if (size < 20 || (p[0] & 0xC0) != 0) violated("bad STUN verdict", p);
        break;
    case PacketKind::dtls:
        if (p[0] < 20 || p[0] > 63) violated("bad DTLS verdict", p);
        break;
    case PacketKind::rtp:
    case PacketKind::rtcp:
        if (size < 2 || (p[0] >> 6) != 2) violated("RTP/RTCP verdict without version 2", p);
        if ((kind == PacketKind::rtcp) != (p[1] >= 192 && p[1] <= 223))
            violated("RTP/RTCP split disagrees with RFC 5761 §4", p);
        break;
    case PacketKind::unknown:
        break;
    }

    // Only the first two bytes and the 20-byte STUN threshold matter: a copy cut to the first
    // two bytes and padded with other bytes to the same size class must classify the same.
    if (size >= 2) {
        std::vector<uint8_t> other(size < 20 ? size : size + 7, 0xA5);
        other[0] = p[0];
        other[1] = p[1];
        if (classify(other) != kind) violated("verdict depends on bytes after the second", p);
    }
    return 0;
}

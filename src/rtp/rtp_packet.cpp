#include "wabridge/rtp/rtp_packet.hpp"

#include "wabridge/rtp/byte_order.hpp"

#include <cstring>

namespace wabridge::rtp {

using detail::load_be16;
using detail::load_be32;
using detail::store_be16;
using detail::store_be32;

std::string_view to_string(RtpError e) {
    switch (e) {
    case RtpError::too_short:
        return "too_short";
    case RtpError::bad_version:
        return "bad_version";
    case RtpError::truncated_csrc:
        return "truncated_csrc";
    case RtpError::truncated_extension:
        return "truncated_extension";
    case RtpError::bad_padding:
        return "bad_padding";
    }
    return "unknown";
}

uint32_t RtpPacket::csrc(size_t i) const {
    if (i >= csrcs.size() / 4) return 0;
    return load_be32(csrcs.data() + 4 * i);
}

Result<RtpPacket, RtpError> parse_rtp(std::span<const uint8_t> datagram) {
    const size_t size = datagram.size();
    if (size < kRtpHeaderSize) return err(RtpError::too_short);
    const uint8_t* p = datagram.data();

    // RFC 3550 §5.1 fixed header:
    //  0                   1                   2                   3
    // |V=2|P|X|  CC   |M|     PT      |       sequence number         |
    // |                           timestamp                           |
    // |           synchronization source (SSRC) identifier            |
    if ((p[0] >> 6) != kRtpVersion) return err(RtpError::bad_version);
    const bool has_padding = (p[0] & 0x20) != 0;

    RtpPacket packet;
    RtpHeader& h = packet.header;
    h.has_extension = (p[0] & 0x10) != 0;
    h.csrc_count = p[0] & 0x0f;
    h.marker = (p[1] & 0x80) != 0;
    h.payload_type = p[1] & 0x7f;
    h.sequence = load_be16(p + 2);
    h.timestamp = load_be32(p + 4);
    h.ssrc = load_be32(p + 8);

    size_t offset = kRtpHeaderSize;
    // RFC 3550 §5.1: CC 32-bit CSRC identifiers follow the fixed header.
    const size_t csrc_bytes = size_t{h.csrc_count} * 4;
    if (size - offset < csrc_bytes) return err(RtpError::truncated_csrc);
    packet.csrcs = datagram.subspan(offset, csrc_bytes);
    offset += csrc_bytes;

    // RFC 3550 §5.3.1: a 16-bit profile field and a 16-bit length counting the 32-bit data words
    // that follow the 4-octet extension header.
    if (h.has_extension) {
        if (size - offset < 4) return err(RtpError::truncated_extension);
        h.extension_profile = load_be16(p + offset);
        const size_t ext_bytes = size_t{load_be16(p + offset + 2)} * 4;
        offset += 4;
        if (size - offset < ext_bytes) return err(RtpError::truncated_extension);
        packet.extension = datagram.subspan(offset, ext_bytes);
        offset += ext_bytes;
    }

    // RFC 3550 §5.1 (P): the last octet of the padding counts how many padding octets to ignore,
    // including itself. It can only cover what follows the header and extension.
    size_t end = size;
    if (has_padding) {
        // With nothing after the header (rest 0), any count is too large.
        const size_t rest = size - offset;
        const uint8_t count = p[size - 1];
        if (count == 0 || count > rest) return err(RtpError::bad_padding);
        packet.padding = count;
        end -= count;
    }
    packet.payload = datagram.subspan(offset, end - offset);
    return packet;
}

size_t write_rtp(const RtpHeader& header, std::span<const uint8_t> payload,
                 std::span<uint8_t> out) {
    if (header.payload_type > 0x7f) return 0;
    if (out.size() < kRtpHeaderSize || out.size() - kRtpHeaderSize < payload.size()) return 0;
    uint8_t* p = out.data();
    // Move the payload first: it may overlap the header's 12 octets when the caller encoded it
    // in place at out[12..].
    if (!payload.empty()) std::memmove(p + kRtpHeaderSize, payload.data(), payload.size());
    p[0] = kRtpVersion << 6; // P=0, X=0, CC=0
    p[1] = static_cast<uint8_t>((header.marker ? 0x80 : 0x00) | header.payload_type);
    store_be16(p + 2, header.sequence);
    store_be32(p + 4, header.timestamp);
    store_be32(p + 8, header.ssrc);
    return kRtpHeaderSize + payload.size();
}

bool looks_like_rtcp(std::span<const uint8_t> datagram) {
    return datagram.size() >= 2 && datagram[1] >= 192 && datagram[1] <= 223;
}

} // namespace wabridge::rtp

#include "wabridge/rtp/rtcp.hpp"

#include "wabridge/rtp/byte_order.hpp"

#include <cstring>
#include <optional>

namespace wabridge::rtp {

using detail::load_be16;
using detail::load_be24;
using detail::load_be32;
using detail::load_be64;
using detail::store_be16;
using detail::store_be24;
using detail::store_be32;
using detail::store_be64;

namespace {

constexpr uint8_t kVersion = 2;
constexpr size_t kHeaderSize = 4;       // V P count | PT | length (RFC 3550 §6.4.1)
constexpr size_t kSenderInfoSize = 20;  // NTP (8), RTP timestamp, packet count, octet count
constexpr size_t kReportBlockSize = 24; // RFC 3550 §6.4.1

size_t align4(size_t n) {
    return (n + 3) & ~size_t{3};
}

ReportBlock read_report_block(const uint8_t* p) {
    ReportBlock b;
    b.ssrc = load_be32(p);
    b.fraction_lost = p[4];
    // 24-bit two's complement (RFC 3550 §6.4.1 "cumulative number of packets lost" is signed).
    const uint32_t raw = load_be24(p + 5);
    b.cumulative_lost = static_cast<int32_t>(raw) - ((raw & 0x800000u) ? 0x1000000 : 0);
    b.extended_highest_seq = load_be32(p + 8);
    b.jitter = load_be32(p + 12);
    b.lsr = load_be32(p + 16);
    b.dlsr = load_be32(p + 20);
    return b;
}

void write_report_block(const ReportBlock& b, uint8_t* p) {
    store_be32(p, b.ssrc);
    p[4] = b.fraction_lost;
    store_be24(p + 5, static_cast<uint32_t>(clamp_cumulative_lost(b.cumulative_lost)) & 0xffffffu);
    store_be32(p + 8, b.extended_highest_seq);
    store_be32(p + 12, b.jitter);
    store_be32(p + 16, b.lsr);
    store_be32(p + 20, b.dlsr);
}

// The common header: V=2, P=0, the 5-bit count, PT, and the length in 32-bit words minus one.
void write_header(uint8_t* p, size_t count, uint8_t type, size_t size) {
    p[0] = static_cast<uint8_t>((kVersion << 6) | count);
    p[1] = type;
    store_be16(p + 2, static_cast<uint16_t>(size / 4 - 1));
}

// SR/RR (RFC 3550 §6.4.1, §6.4.2). `body` excludes the common header and any padding.
std::optional<RtcpError> parse_report(uint8_t type, size_t count, std::span<const uint8_t> body,
                                      RtcpCompound& out) {
    const size_t fixed = type == kRtcpSr ? 4 + kSenderInfoSize : 4;
    if (body.size() < fixed) return RtcpError::truncated_packet;
    const uint8_t* p = body.data();
    const uint32_t ssrc = load_be32(p);
    // The report blocks must fit; octets after them are a profile-specific extension
    // (RFC 3550 §6.4.1) and are ignored.
    if ((body.size() - fixed) / kReportBlockSize < count) return RtcpError::bad_report_count;
    if (type == kRtcpSr) {
        if (out.sender_info_count < out.sender_infos.size()) {
            ParsedSenderInfo& s = out.sender_infos[out.sender_info_count++];
            s.ssrc = ssrc;
            s.info.ntp_timestamp = load_be64(p + 4);
            s.info.rtp_timestamp = load_be32(p + 12);
            s.info.packet_count = load_be32(p + 16);
            s.info.octet_count = load_be32(p + 20);
        } else {
            ++out.dropped_items;
        }
    }
    for (size_t i = 0; i < count; ++i) {
        if (out.report_block_count < out.report_blocks.size()) {
            out.report_blocks[out.report_block_count++] = {
                ssrc, read_report_block(p + fixed + i * kReportBlockSize)};
        } else {
            ++out.dropped_items;
        }
    }
    return std::nullopt;
}

// SDES (RFC 3550 §6.5): `count` chunks, each an SSRC/CSRC and a list of items (type, length,
// text) ended by a null octet and padded with nulls to the next 32-bit boundary. Chunks start
// on 32-bit boundaries; `body` starts on one (4 octets into the packet).
std::optional<RtcpError> parse_sdes(size_t count, std::span<const uint8_t> body,
                                    RtcpCompound& out) {
    const uint8_t* p = body.data();
    const size_t size = body.size();
    size_t pos = 0;
    for (size_t chunk = 0; chunk < count; ++chunk) {
        if (size - pos < 4) return RtcpError::bad_sdes;
        const uint32_t ssrc = load_be32(p + pos);
        pos += 4;
        for (;;) {
            if (pos >= size) return RtcpError::bad_sdes; // no null item ends the list
            const uint8_t item = p[pos];
            if (item == 0) {
                // The padding up to the boundary may be cut by the packet's own padding.
                pos = align4(pos + 1);
                if (pos > size) pos = size;
                break;
            }
            if (size - pos < 2) return RtcpError::bad_sdes;
            const size_t length = p[pos + 1];
            if (size - pos - 2 < length) return RtcpError::bad_sdes;
            if (item == kSdesCname) {
                if (out.cname_count < out.cnames.size()) {
                    out.cnames[out.cname_count++] = {
                        ssrc, std::string_view(reinterpret_cast<const char*>(p + pos + 2), length)};
                } else {
                    ++out.dropped_items;
                }
            }
            pos += 2 + length; // other items (NAME, EMAIL, ..., PRIV) are skipped
        }
    }
    return std::nullopt;
}

// BYE (RFC 3550 §6.6): `count` SSRC/CSRCs, then optionally a length octet and a reason.
std::optional<RtcpError> parse_bye(size_t count, std::span<const uint8_t> body, RtcpCompound& out) {
    const uint8_t* p = body.data();
    if (body.size() / 4 < count) return RtcpError::bad_bye;
    out.has_bye = true;
    for (size_t i = 0; i < count; ++i) {
        if (out.bye_ssrc_count < out.bye_ssrcs.size()) {
            out.bye_ssrcs[out.bye_ssrc_count++] = load_be32(p + 4 * i);
        } else {
            ++out.dropped_items;
        }
    }
    size_t pos = 4 * count;
    if (pos < body.size()) {
        const size_t length = p[pos];
        if (body.size() - pos - 1 < length) return RtcpError::bad_bye;
        if (out.bye_reason.empty() && length > 0) {
            out.bye_reason = std::string_view(reinterpret_cast<const char*>(p + pos + 1), length);
        }
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(RtcpError e) {
    switch (e) {
    case RtcpError::too_short:
        return "too_short";
    case RtcpError::bad_version:
        return "bad_version";
    case RtcpError::bad_length:
        return "bad_length";
    case RtcpError::bad_first_packet:
        return "bad_first_packet";
    case RtcpError::bad_padding:
        return "bad_padding";
    case RtcpError::truncated_packet:
        return "truncated_packet";
    case RtcpError::bad_report_count:
        return "bad_report_count";
    case RtcpError::bad_sdes:
        return "bad_sdes";
    case RtcpError::bad_bye:
        return "bad_bye";
    }
    return "unknown";
}

int32_t clamp_cumulative_lost(int64_t lost) {
    if (lost > 0x7fffff) return 0x7fffff;
    if (lost < -0x800000) return -0x800000;
    return static_cast<int32_t>(lost);
}

Result<RtcpCompound, RtcpError> parse_rtcp(std::span<const uint8_t> datagram) {
    const size_t size = datagram.size();
    if (size < kHeaderSize) return err(RtcpError::too_short);
    const uint8_t* base = datagram.data();

    RtcpCompound out;
    size_t offset = 0;
    while (offset < size) {
        // RFC 3550 §A.2: the length fields must add up to the datagram exactly, so what is left
        // must hold at least one more header.
        if (size - offset < kHeaderSize) return err(RtcpError::bad_length);
        const uint8_t* h = base + offset;
        if ((h[0] >> 6) != kVersion) return err(RtcpError::bad_version);
        const bool padded = (h[0] & 0x20) != 0;
        const size_t count = h[0] & 0x1f;
        const uint8_t type = h[1];
        // RFC 3550 §6.4.1: "length: the length of this RTCP packet in 32-bit words minus one,
        // including the header and any padding".
        const size_t length = (size_t{load_be16(h + 2)} + 1) * 4;
        if (length > size - offset) return err(RtcpError::bad_length);
        // RFC 3550 §A.2 wants a compound packet to start with an SR or RR, but RFC 5506 §3
        // (reduced-size RTCP) lets a peer send a lone BYE or feedback packet, and WebRTC stacks
        // do (pion sends its BYE alone). So the first packet only has to be a defined RTCP type
        // (200..207: SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR), which still tells RTCP from noise.
        if (offset == 0 && (type < kRtcpSr || type > kRtcpLastKnownType)) {
            return err(RtcpError::bad_first_packet);
        }
        const bool last = offset + length == size;

        std::span<const uint8_t> body =
            datagram.subspan(offset + kHeaderSize, length - kHeaderSize);
        if (padded) {
            // RFC 3550 §6.4.1 (P) and §A.2: padding is only applied to the last packet; its last
            // octet counts the padding octets, itself included.
            if (!last) return err(RtcpError::bad_padding);
            const uint8_t pad = h[length - 1];
            if (pad == 0 || pad > body.size()) return err(RtcpError::bad_padding);
            body = body.first(body.size() - pad);
        }

        std::optional<RtcpError> e;
        switch (type) {
        case kRtcpSr:
        case kRtcpRr:
            e = parse_report(type, count, body, out);
            break;
        case kRtcpSdes:
            e = parse_sdes(count, body, out);
            break;
        case kRtcpBye:
            e = parse_bye(count, body, out);
            break;
        default:
            ++out.skipped_packets; // APP, RTPFB, PSFB, XR, ...: their length was checked above
            break;
        }
        if (e) return err(*e);
        ++out.packet_count;
        offset += length;
    }
    return out;
}

size_t write_sender_report(uint32_t ssrc, const SenderInfo& info,
                           std::span<const ReportBlock> blocks, std::span<uint8_t> out) {
    if (blocks.size() > kMaxRtcpCount) return 0;
    const size_t size = kHeaderSize + 4 + kSenderInfoSize + blocks.size() * kReportBlockSize;
    if (out.size() < size) return 0;
    uint8_t* p = out.data();
    write_header(p, blocks.size(), kRtcpSr, size);
    store_be32(p + 4, ssrc);
    store_be64(p + 8, info.ntp_timestamp);
    store_be32(p + 16, info.rtp_timestamp);
    store_be32(p + 20, info.packet_count);
    store_be32(p + 24, info.octet_count);
    for (size_t i = 0; i < blocks.size(); ++i) {
        write_report_block(blocks[i], p + 28 + i * kReportBlockSize);
    }
    return size;
}

size_t write_receiver_report(uint32_t ssrc, std::span<const ReportBlock> blocks,
                             std::span<uint8_t> out) {
    if (blocks.size() > kMaxRtcpCount) return 0;
    const size_t size = kHeaderSize + 4 + blocks.size() * kReportBlockSize;
    if (out.size() < size) return 0;
    uint8_t* p = out.data();
    write_header(p, blocks.size(), kRtcpRr, size);
    store_be32(p + 4, ssrc);
    for (size_t i = 0; i < blocks.size(); ++i) {
        write_report_block(blocks[i], p + 8 + i * kReportBlockSize);
    }
    return size;
}

size_t write_sdes_cname(uint32_t ssrc, std::string_view cname, std::span<uint8_t> out) {
    if (cname.size() > 255) return 0;
    // Header, one chunk: SSRC, CNAME item (type, length, text), the null item, nulls to the
    // 32-bit boundary (RFC 3550 §6.5).
    const size_t size = kHeaderSize + 4 + align4(2 + cname.size() + 1);
    if (out.size() < size) return 0;
    uint8_t* p = out.data();
    write_header(p, 1, kRtcpSdes, size);
    store_be32(p + 4, ssrc);
    p[8] = kSdesCname;
    p[9] = static_cast<uint8_t>(cname.size());
    if (!cname.empty()) std::memcpy(p + 10, cname.data(), cname.size());
    std::memset(p + 10 + cname.size(), 0, size - 10 - cname.size());
    return size;
}

size_t write_bye(std::span<const uint32_t> ssrcs, std::string_view reason, std::span<uint8_t> out) {
    if (ssrcs.size() > kMaxRtcpCount || reason.size() > 255) return 0;
    const size_t reason_size = reason.empty() ? 0 : align4(1 + reason.size());
    const size_t size = kHeaderSize + 4 * ssrcs.size() + reason_size;
    if (out.size() < size) return 0;
    uint8_t* p = out.data();
    write_header(p, ssrcs.size(), kRtcpBye, size);
    for (size_t i = 0; i < ssrcs.size(); ++i)
        store_be32(p + 4 + 4 * i, ssrcs[i]);
    if (reason_size > 0) {
        uint8_t* r = p + 4 + 4 * ssrcs.size();
        r[0] = static_cast<uint8_t>(reason.size());
        std::memcpy(r + 1, reason.data(), reason.size());
        std::memset(r + 1 + reason.size(), 0, reason_size - 1 - reason.size());
    }
    return size;
}

} // namespace wabridge::rtp

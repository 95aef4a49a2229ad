// RTCP compound packets (RFC 3550 §6): parse and build sender reports (SR), receiver reports
// (RR), source descriptions (SDES, the CNAME item) and BYE. Other packet types (e.g. RTPFB/PSFB
// 205/206 of RFC 4585, XR 207 of RFC 3611, APP 204) are validated as packets and skipped.
//
// The parser applies the validity checks of RFC 3550 §A.2 strictly and never trusts a length:
// every packet is version 2, the first is a defined RTCP type (an SR or RR in a full compound;
// RFC 5506 reduced-size packets such as a lone BYE are accepted), the length fields add up exactly to the
// datagram, the report count fits the packet, and only the last packet may be padded. Parsed
// items go into fixed-capacity arrays and string views into the caller's buffer: no allocation.
#pragma once

#include "wabridge/util/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wabridge::rtp {

// RFC 3550 §12.1 packet types.
inline constexpr uint8_t kRtcpSr = 200;
inline constexpr uint8_t kRtcpRr = 201;
inline constexpr uint8_t kRtcpSdes = 202;
inline constexpr uint8_t kRtcpBye = 203;
// The highest packet type defined for RTCP at the time of writing: XR (RFC 3611).
inline constexpr uint8_t kRtcpLastKnownType = 207;
// RFC 3550 §6.5.1: SDES item type of the canonical name.
inline constexpr uint8_t kSdesCname = 1;
// The 5-bit count field (RC / SC) caps a packet at 31 report blocks, chunks or SSRCs.
inline constexpr size_t kMaxRtcpCount = 31;

// Capacities of RtcpCompound. Items past a capacity are counted in dropped_items, not stored.
inline constexpr size_t kMaxSenderInfos = 4;
inline constexpr size_t kMaxReportBlocks = 31;
inline constexpr size_t kMaxCnames = 8;
inline constexpr size_t kMaxByeSsrcs = 31;

enum class RtcpError {
    too_short,        // not even one 4-octet packet header
    bad_version,      // a packet's V is not 2
    bad_length,       // a length field points past the end, or octets are left after the last
    bad_first_packet, // the first packet is not a defined RTCP type (200..207)
    bad_padding,      // P set on a packet that is not last, or a padding count of 0 or too large
    truncated_packet, // an SR/RR shorter than its fixed part (SSRC and, for SR, sender info)
    bad_report_count, // RC report blocks do not fit the packet
    bad_sdes,         // an SDES chunk or item runs past the packet, or SC chunks are missing
    bad_bye,          // SC SSRCs or the reason run past the packet
};

// Stable snake_case name, e.g. "bad_report_count".
std::string_view to_string(RtcpError e);

// RFC 3550 §6.4.1 sender information.
struct SenderInfo {
    uint64_t ntp_timestamp = 0;
    uint32_t rtp_timestamp = 0;
    uint32_t packet_count = 0;
    uint32_t octet_count = 0;

    friend bool operator==(const SenderInfo&, const SenderInfo&) = default;
};

// RFC 3550 §6.4.1 report block, about one source (ssrc) heard by the reporter.
struct ReportBlock {
    uint32_t ssrc = 0;
    uint8_t fraction_lost = 0;   // fixed point, lost/expected * 256
    int32_t cumulative_lost = 0; // 24-bit signed on the wire: -8388608..8388607
    uint32_t extended_highest_seq = 0;
    uint32_t jitter = 0; // interarrival jitter, RTP timestamp units
    uint32_t lsr = 0;    // compact NTP of the last SR from ssrc, 0 if none
    uint32_t dlsr = 0;   // delay since that SR, 1/65536 s

    friend bool operator==(const ReportBlock&, const ReportBlock&) = default;
};

// A sender report's information with the SSRC of its sender.
struct ParsedSenderInfo {
    uint32_t ssrc = 0;
    SenderInfo info;
};

// A report block with the SSRC of the SR or RR that carried it.
struct ParsedReportBlock {
    uint32_t reporter_ssrc = 0;
    ReportBlock block;
};

// An SDES chunk's CNAME; the view points into the parsed datagram.
struct ParsedCname {
    uint32_t ssrc = 0;
    std::string_view cname;
};

struct RtcpCompound {
    std::array<ParsedSenderInfo, kMaxSenderInfos> sender_infos{};
    size_t sender_info_count = 0;
    std::array<ParsedReportBlock, kMaxReportBlocks> report_blocks{};
    size_t report_block_count = 0;
    std::array<ParsedCname, kMaxCnames> cnames{};
    size_t cname_count = 0;
    std::array<uint32_t, kMaxByeSsrcs> bye_ssrcs{};
    size_t bye_ssrc_count = 0;
    bool has_bye = false;
    std::string_view bye_reason; // the first non-empty BYE reason; a view into the datagram

    size_t packet_count = 0;    // RTCP packets in the compound
    size_t skipped_packets = 0; // packets of other types (APP, RTPFB, PSFB, XR, ...)
    size_t dropped_items = 0;   // items beyond the capacities above, parsed but not stored

    std::span<const ParsedSenderInfo> senders() const {
        return {sender_infos.data(), sender_info_count};
    }
    std::span<const ParsedReportBlock> reports() const {
        return {report_blocks.data(), report_block_count};
    }
    std::span<const ParsedCname> sdes_cnames() const { return {cnames.data(), cname_count}; }
    std::span<const uint32_t> bye() const { return {bye_ssrcs.data(), bye_ssrc_count}; }
};

// Parses a compound RTCP datagram (already decrypted; RFC 3550 §6.1, §A.2).
Result<RtcpCompound, RtcpError> parse_rtcp(std::span<const uint8_t> datagram);

// Builders. Each writes one RTCP packet (no padding) at the start of `out` and returns its size
// in octets, or 0 when `out` is too small or an argument cannot be encoded. Packets written one
// after another into the same buffer form a compound packet; RFC 3550 §6.1 wants it to start
// with an SR or RR and to carry an SDES CNAME.

// SR (RFC 3550 §6.4.1): 28 + 24 * blocks.size() octets; at most 31 blocks.
size_t write_sender_report(uint32_t ssrc, const SenderInfo& info,
                           std::span<const ReportBlock> blocks, std::span<uint8_t> out);
// RR (RFC 3550 §6.4.2): 8 + 24 * blocks.size() octets; at most 31 blocks.
size_t write_receiver_report(uint32_t ssrc, std::span<const ReportBlock> blocks,
                             std::span<uint8_t> out);
// SDES with one chunk holding one CNAME item (RFC 3550 §6.5.1): cname at most 255 octets.
size_t write_sdes_cname(uint32_t ssrc, std::string_view cname, std::span<uint8_t> out);
// BYE (RFC 3550 §6.6): at most 31 SSRCs; the reason (optional, empty for none) at most 255 octets.
size_t write_bye(std::span<const uint32_t> ssrcs, std::string_view reason, std::span<uint8_t> out);

// Report blocks' cumulative-lost field is 24-bit signed: values outside are clamped
// (RFC 3550 §A.3 does the same before sending).
int32_t clamp_cumulative_lost(int64_t lost);

} // namespace wabridge::rtp

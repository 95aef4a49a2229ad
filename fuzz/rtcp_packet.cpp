// libFuzzer target for the RTCP compound parser and builders (RFC 3550 §6.4-6.6, §A.2). Beyond
// "no crash, no sanitizer report", on every input it checks:
//  1. every parsed string view lies inside the input, and the counts respect the capacities;
//  2. the parsed items, rebuilt as a compound (an SR per sender info, an RR per report block so
//     each keeps its reporter, an SDES per CNAME, BYEs with the SSRCs and reason), parse again
//     to exactly the same items;
//  3. writing that compound again from the re-parsed items gives the same bytes.
#include "wabridge/rtp/rtcp.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using namespace wabridge::rtp;

[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "rtcp_packet invariant violated: %s\n", what);
    std::abort();
}

bool inside(std::string_view s, const uint8_t* data, size_t size) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    return s.empty() || (p >= data && p + s.size() <= data + size);
}

// Writes the items of `c` as a compound into `out`; returns its size.
size_t rebuild(const RtcpCompound& c, std::span<uint8_t> out) {
    size_t n = 0;
    auto put = [&](size_t written) {
        if (written == 0) violated("a builder refused parsed items");
        n += written;
    };
    for (const auto& s : c.senders())
        put(write_sender_report(s.ssrc, s.info, {}, out.subspan(n)));
    // RFC 3550 §6.1: the compound starts with an SR or RR, even when there is nothing to report.
    if (c.senders().empty() && c.reports().empty())
        put(write_receiver_report(0, {}, out.subspan(n)));
    for (const auto& r : c.reports()) {
        put(write_receiver_report(r.reporter_ssrc, {&r.block, 1}, out.subspan(n)));
    }
    for (const auto& cn : c.sdes_cnames())
        put(write_sdes_cname(cn.ssrc, cn.cname, out.subspan(n)));
    if (c.has_bye) {
        // One BYE per 31 SSRCs; the reason rides on the first.
        auto ssrcs = c.bye();
        std::string_view reason = c.bye_reason;
        do {
            const size_t take = ssrcs.size() < kMaxRtcpCount ? ssrcs.size() : kMaxRtcpCount;
            put(write_bye(ssrcs.first(take), reason, out.subspan(n)));
            ssrcs = ssrcs.subspan(take);
            reason = {};
        } while (!ssrcs.empty());
    }
    return n;
}

bool same_items(const RtcpCompound& a, const RtcpCompound& b) {
    if (a.sender_info_count != b.sender_info_count ||
        a.report_block_count != b.report_block_count || a.cname_count != b.cname_count ||
        a.bye_ssrc_count != b.bye_ssrc_count || a.has_bye != b.has_bye ||
        a.bye_reason != b.bye_reason) {
        return false;
    }
    for (size_t i = 0; i < a.sender_info_count; ++i) {
        if (a.sender_infos[i].ssrc != b.sender_infos[i].ssrc ||
            !(a.sender_infos[i].info == b.sender_infos[i].info)) {
            return false;
        }
    }
    for (size_t i = 0; i < a.report_block_count; ++i) {
        if (a.report_blocks[i].reporter_ssrc != b.report_blocks[i].reporter_ssrc ||
            !(a.report_blocks[i].block == b.report_blocks[i].block)) {
            return false;
        }
    }
    for (size_t i = 0; i < a.cname_count; ++i) {
        if (a.cnames[i].ssrc != b.cnames[i].ssrc || a.cnames[i].cname != b.cnames[i].cname) {
            return false;
        }
    }
    for (size_t i = 0; i < a.bye_ssrc_count; ++i) {
        if (a.bye_ssrcs[i] != b.bye_ssrcs[i]) return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto parsed = parse_rtcp({data, size});
    if (!parsed) {
        if (to_string(parsed.error()) == "unknown") violated("error without a name");
        return 0;
    }
    const RtcpCompound& c = parsed.value();
    if (c.sender_info_count > kMaxSenderInfos || c.report_block_count > kMaxReportBlocks ||
        c.cname_count > kMaxCnames || c.bye_ssrc_count > kMaxByeSsrcs) {
        violated("a count exceeds its capacity");
    }
    if (c.packet_count == 0 || c.packet_count * 4 > size) violated("packet count");
    if (!inside(c.bye_reason, data, size)) violated("BYE reason outside the input");
    for (const auto& cn : c.sdes_cnames()) {
        if (!inside(cn.cname, data, size)) violated("CNAME outside the input");
    }
    for (const auto& r : c.reports()) {
        if (r.block.cumulative_lost < -0x800000 || r.block.cumulative_lost > 0x7fffff) {
            violated("cumulative lost outside 24 bits");
        }
    }

    static uint8_t out[32768];
    const size_t n = rebuild(c, out);
    auto again = parse_rtcp({out, n});
    if (!again) violated("rebuilt compound does not parse");
    if (again->skipped_packets != 0 || again->dropped_items != 0) violated("rebuilt extras");
    if (!same_items(c, again.value())) violated("items changed through write/parse");

    static uint8_t out2[32768];
    const size_t n2 = rebuild(again.value(), out2);
    if (n2 != n || std::memcmp(out, out2, n) != 0) violated("write/parse/write is not stable");
    return 0;
}

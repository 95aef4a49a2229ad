// libFuzzer target for the RTP parser and writer (RFC 3550 §5.1). Beyond "no crash, no
// sanitizer report", on every input it checks:
//  1. a parsed packet's parts are views inside the input that add up to it exactly;
//  2. write_rtp of the parsed header and payload parses again to the same header fields
//     (without CSRCs, extension and padding, which write_rtp does not emit) and the same payload;
//  3. write_rtp into a buffer one octet too small writes nothing.
#include "wabridge/rtp/rtp_packet.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using namespace wabridge::rtp;

[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "rtp_packet invariant violated: %s\n", what);
    std::abort();
}

bool inside(std::span<const uint8_t> part, const uint8_t* data, size_t size) {
    return part.empty() || (part.data() >= data && part.data() + part.size() <= data + size);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)looks_like_rtcp({data, size});
    auto parsed = parse_rtp({data, size});
    if (!parsed) {
        if (to_string(parsed.error()) == "unknown") violated("error without a name");
        return 0;
    }
    const RtpPacket& p = parsed.value();
    if (!inside(p.csrcs, data, size) || !inside(p.extension, data, size) ||
        !inside(p.payload, data, size)) {
        violated("a view points outside the input");
    }
    const size_t ext_header = p.header.has_extension ? 4 : 0;
    if (kRtpHeaderSize + p.csrcs.size() + ext_header + p.extension.size() + p.payload.size() +
            p.padding !=
        size) {
        violated("parts do not add up to the datagram");
    }
    if (p.csrcs.size() != size_t{p.header.csrc_count} * 4) violated("CSRC list size");
    if (p.header.payload_type > 127) violated("payload type wider than 7 bits");

    static uint8_t out[70000];
    const size_t n = write_rtp(p.header, p.payload, out);
    if (n != kRtpHeaderSize + p.payload.size()) violated("write_rtp size");
    auto again = parse_rtp({out, n});
    if (!again) violated("written packet does not parse");
    const RtpHeader& a = again->header;
    const RtpHeader& h = p.header;
    if (a.marker != h.marker || a.payload_type != h.payload_type || a.sequence != h.sequence ||
        a.timestamp != h.timestamp || a.ssrc != h.ssrc) {
        violated("header fields changed");
    }
    if (a.csrc_count != 0 || a.has_extension || again->padding != 0) {
        violated("write_rtp emitted CSRCs, extension or padding");
    }
    if (again->payload.size() != p.payload.size() ||
        (!p.payload.empty() &&
         std::memcmp(again->payload.data(), p.payload.data(), p.payload.size()) != 0)) {
        violated("payload changed");
    }
    if (write_rtp(p.header, p.payload, {out, n - 1}) != 0) violated("wrote into a short buffer");
    return 0;
}

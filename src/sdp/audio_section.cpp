#include "audio_section.hpp"

#include <algorithm>

namespace wabridge::sdp::detail {

namespace {
constexpr const char* kStreamId = "wabridge";
constexpr const char* kTrackId = "wabridge-audio";

bool is_ipv6(const std::string& address) {
    return address.find(':') != std::string::npos;
}
} // namespace

SessionDescription session_frame(const LocalTransport& local) {
    SessionDescription sd;
    // RFC 8866 §5.2 origin; the address is a placeholder, as browsers and Meta's own sample
    // answer write it (the media address is in c= and the candidates).
    sd.origin = Origin{"-", std::to_string(local.session_id), "2", "IN", "IP4", "127.0.0.1"};
    sd.session_name = "-";
    sd.timing = "0 0";
    // The stream semantic every accepted WhatsApp answer carries (wa-answer-accepted-01/02).
    sd.add("msid-semantic", "WMS *");
    return sd;
}

MediaDescription audio_section(const LocalTransport& local, const AudioSectionParams& p) {
    MediaDescription m;
    m.media = "audio";
    m.proto = p.proto;
    m.formats.push_back(std::to_string(p.opus_pt));
    if (p.dtmf_pt) m.formats.push_back(std::to_string(*p.dtmf_pt));

    // m= port and c= carry the default candidate (RFC 8839 §4.2.1.1); without candidates, the
    // "discard" placeholder 9 and 0.0.0.0 as in RFC 8840 §4.1.1.
    m.has_connection = true;
    if (!local.candidates.empty()) {
        const Candidate& first = local.candidates.front();
        m.port = first.port;
        m.connection = Connection{"IN", is_ipv6(first.address) ? "IP6" : "IP4", first.address};
    } else {
        m.port = 9;
        m.connection = Connection{"IN", "IP4", "0.0.0.0"};
    }
    // With rtcp-mux the RTCP port is the RTP port; browsers and every accepted WhatsApp answer
    // write this placeholder form.
    m.add("rtcp", "9 IN IP4 0.0.0.0");
    for (const auto& c : local.candidates)
        m.add("candidate", format_candidate(c));
    m.add("ice-ufrag", local.ice_ufrag);
    m.add("ice-pwd", local.ice_pwd);
    m.add("fingerprint", "sha-256 " + local.fingerprint_sha256);
    m.add("setup", std::string(to_string(p.setup)));
    if (!p.mid.empty()) m.add("mid", p.mid);
    m.add_flag(std::string(to_string(p.direction)));
    m.add("msid", std::string(kStreamId) + " " + kTrackId);
    m.add_flag("rtcp-mux");
    const std::string opus = std::to_string(p.opus_pt);
    m.add("rtpmap", opus + " opus/48000/2");
    // RFC 7587 §6.1: what our encoder sends; FEC on, 20 ms frames, bitrate within the peer's cap.
    m.add("fmtp", opus + " minptime=" + std::to_string(p.ptime_ms) +
                      ";useinbandfec=1;maxaveragebitrate=" + std::to_string(p.bitrate_bps));
    if (p.dtmf_pt) m.add("rtpmap", std::to_string(*p.dtmf_pt) + " telephone-event/8000");
    m.add("ptime", std::to_string(p.ptime_ms));
    // RFC 5576 §4.1: one SSRC for the whole call, with its CNAME.
    m.add("ssrc", std::to_string(local.ssrc) + " cname:" + local.cname);
    return m;
}

void take_codecs(const RemoteAudio& r, const AudioPolicy& policy, NegotiatedAudio& n) {
    n.opus_payload_type = r.opus.payload_type;
    if (r.telephone_event) n.dtmf_payload_type = r.telephone_event->payload_type;
    uint32_t bitrate = std::min(policy.max_bitrate_bps,
                                r.opus_max_average_bitrate().value_or(policy.max_bitrate_bps));
    n.send_bitrate_bps = std::clamp(bitrate, kOpusMinBitrate, kOpusMaxBitrate);
}

} // namespace wabridge::sdp::detail

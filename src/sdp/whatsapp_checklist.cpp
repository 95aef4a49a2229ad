#include "wabridge/sdp/whatsapp_checklist.hpp"

#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/remote_audio.hpp"
#include "wabridge/util/text.hpp"

#include <algorithm>
#include <optional>

namespace wabridge::sdp {

namespace {

struct Checker {
    std::vector<Finding> findings;
    void required(std::string rule, std::string message) {
        findings.push_back({std::move(rule), RuleLevel::required, std::move(message)});
    }
    void recommended(std::string rule, std::string message) {
        findings.push_back({std::move(rule), RuleLevel::recommended, std::move(message)});
    }
};

const Attribute* media_or_session(const MediaDescription& m, const SessionDescription& sd,
                                  std::string_view name) {
    if (const Attribute* a = m.find(name)) return a;
    return sd.find(name);
}

bool lf_without_cr(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) return true;
    }
    return false;
}

void check_audio(Checker& c, const SessionDescription& offer, const RemoteAudio& offered,
                 const SessionDescription& answer, const MediaDescription& m) {
    // Rule 5: Opus opus/48000/2 on the offered payload type, ptime 20.
    const std::string opus_pt = std::to_string(offered.opus.payload_type);
    bool opus_ok = false;
    for (const Attribute* a : m.find_all("rtpmap")) {
        if (text::iequals(a->value, opus_pt + " opus/48000/2")) opus_ok = true;
    }
    if (!opus_ok || std::find(m.formats.begin(), m.formats.end(), opus_pt) == m.formats.end()) {
        c.required("opus_offered_pt",
                   "answer must carry opus/48000/2 on the offered PT " + opus_pt);
    }
    if (const Attribute* ptime = m.find("ptime"); ptime && ptime->value != "20") {
        c.required("ptime_20", "a=ptime must be 20, got " + ptime->value);
    }
    // Rule 6: DTMF only as telephone-event/8000 on the offered PT.
    for (const Attribute* a : m.find_all("rtpmap")) {
        auto sp = a->value.find(' ');
        if (sp == std::string::npos) continue;
        std::string rest = text::to_lower(std::string_view(a->value).substr(sp + 1));
        if (rest.rfind("telephone-event/", 0) != 0) continue;
        std::string pt = a->value.substr(0, sp);
        bool offered_pt =
            offered.telephone_event && pt == std::to_string(offered.telephone_event->payload_type);
        if (rest != "telephone-event/8000" || !offered_pt) {
            c.required("dtmf_8000",
                       "DTMF must be telephone-event/8000 on the offered PT, got " + a->value);
        }
    }
    // Rule 7: exactly one fingerprint, sha-256.
    auto fps = m.find_all("fingerprint");
    auto session_fps = answer.find_all("fingerprint");
    size_t total = fps.size() + session_fps.size();
    if (total == 0) {
        c.required("single_fingerprint", "no a=fingerprint (\"No fingerprint found in SDP\")");
    } else if (total > 1) {
        c.required("single_fingerprint", std::to_string(total) +
                                             " a=fingerprint lines; WhatsApp rejects more than one "
                                             "with 138008 — keep only sha-256");
    } else {
        const Attribute* fp = fps.empty() ? session_fps.front() : fps.front();
        auto sp = fp->value.find(' ');
        if (sp == std::string::npos || !text::iequals(fp->value.substr(0, sp), "sha-256") ||
            !is_sha256_fingerprint(fp->value.substr(sp + 1))) {
            c.required("single_fingerprint", "the fingerprint must be a valid sha-256 digest");
        }
        if (fps.empty()) {
            c.recommended("fingerprint_media_level",
                          "fingerprint is at session level; put it in the m=audio section");
        }
    }
    // Rule 8: setup active.
    const Attribute* setup = media_or_session(m, answer, "setup");
    if (!setup || setup->value != "active") {
        c.recommended("setup_active", std::string("a=setup should be active (we are the DTLS "
                                                  "client), got ") +
                                          (setup ? setup->value : "none"));
    }
    // Rule 9: our own ICE credentials.
    const Attribute* ufrag = media_or_session(m, answer, "ice-ufrag");
    const Attribute* pwd = media_or_session(m, answer, "ice-pwd");
    if (!ufrag || !pwd) {
        c.required("own_ice_credentials", "a=ice-ufrag and a=ice-pwd are required");
    } else if (ufrag->value == offered.ice_ufrag || pwd->value == offered.ice_pwd) {
        c.required("own_ice_credentials", "ICE credentials echo WhatsApp's; generate your own");
    }
    // Rule 10: no ice-lite.
    if (answer.has("ice-lite") || m.has("ice-lite")) {
        c.recommended("no_ice_lite", "a=ice-lite: WhatsApp is lite, so the answerer must run "
                                     "full ICE as controlling agent");
    }
    // Rules 11 and 12: UDP candidates, no trickle.
    size_t udp = 0;
    for (const Attribute* a : m.find_all("candidate")) {
        auto cand = parse_candidate(a->value, a->line);
        if (!cand) {
            c.required("candidates_udp", cand.error().describe());
            continue;
        }
        if (!cand->is_udp()) {
            c.recommended("candidates_udp",
                          "TCP candidate " + cand->address + "; WhatsApp is UDP only");
        } else if (cand->address.size() > 6 &&
                   cand->address.compare(cand->address.size() - 6, 6, ".local") == 0) {
            c.recommended("candidates_udp", "mDNS candidate " + cand->address + " is unreachable");
        } else {
            ++udp;
        }
    }
    if (udp == 0) {
        c.recommended("candidates_udp", "no UDP candidate; include a publicly reachable host "
                                        "or srflx candidate");
    }
    if (const Attribute* opts = media_or_session(m, answer, "ice-options");
        opts && opts->value.find("trickle") != std::string::npos) {
        c.recommended("no_trickle", "a=ice-options:trickle; WhatsApp never trickles");
    }
    // Rule 13: mid and BUNDLE.
    const Attribute* mid = m.find("mid");
    if (!offered.mid.empty()) {
        if (!mid || mid->value != offered.mid) {
            c.required("mid_bundle", "a=mid must equal the offer's '" + offered.mid + "'");
        }
        bool bundled = false;
        for (const Attribute* g : answer.find_all("group")) {
            auto f = text::split(g->value, ' ');
            bundled |= !f.empty() && f[0] == "BUNDLE" &&
                       std::find(f.begin() + 1, f.end(), offered.mid) != f.end();
        }
        if (offered.bundled && !bundled) {
            c.required("mid_bundle", "a=group:BUNDLE " + offered.mid + " is missing");
        }
    }
    // Rule 14 and 15.
    if (!m.has("rtcp-mux")) c.required("rtcp_mux", "a=rtcp-mux is missing");
    // Rule 15: sendrecv for WhatsApp's sendrecv offers; in general the mirror of the offer's
    // direction (RFC 3264 §6.1).
    Direction expected = answer_direction(offered.direction);
    Direction got = read_direction(m, answer);
    if (got != expected) {
        c.required("sendrecv", "a=" + std::string(to_string(expected)) + " is needed (offer: " +
                                   std::string(to_string(offered.direction)) +
                                   "), got a=" + std::string(to_string(got)));
    }
    // Rule 4 (SSRC part): one SSRC.
    std::vector<std::string> ssrcs;
    for (const Attribute* a : m.find_all("ssrc")) {
        std::string id = a->value.substr(0, a->value.find(' '));
        if (std::find(ssrcs.begin(), ssrcs.end(), id) == ssrcs.end()) ssrcs.push_back(id);
    }
    if (ssrcs.size() > 1) c.required("one_audio_ssrc", "more than one SSRC in the answer");
    // Opus bitrate within the offer's cap (RFC 7587 §6.1).
    if (auto cap = offered.opus_max_average_bitrate()) {
        for (const Attribute* a : m.find_all("fmtp")) {
            if (a->value.rfind(opus_pt + " ", 0) != 0) continue;
            auto pos = a->value.find("maxaveragebitrate=");
            if (pos == std::string::npos) continue;
            auto end = a->value.find(';', pos);
            auto v = text::parse_uint(
                std::string_view(a->value).substr(
                    pos + 18, end == std::string::npos ? std::string::npos : end - pos - 18),
                UINT32_MAX);
            if (!v || *v > *cap) {
                c.recommended("opus_bitrate",
                              "maxaveragebitrate is above the offer's " + std::to_string(*cap));
            }
        }
    }
    // Rule 17: extmaps are not needed.
    if (m.has("extmap")) c.recommended("no_extmap", "a=extmap lines are not needed");
    (void)offer;
}

} // namespace

const std::vector<std::string>& whatsapp_rule_ids() {
    static const std::vector<std::string> ids = {
        "parsable",           "crlf",
        "one_audio_ssrc",     "opus_offered_pt",
        "ptime_20",           "dtmf_8000",
        "single_fingerprint", "fingerprint_media_level",
        "setup_active",       "own_ice_credentials",
        "no_ice_lite",        "candidates_udp",
        "no_trickle",         "mid_bundle",
        "rtcp_mux",           "sendrecv",
        "opus_bitrate",       "no_extmap",
    };
    return ids;
}

std::vector<Finding> check_whatsapp_answer(std::string_view offer_text,
                                           std::string_view answer_text) {
    Checker c;
    auto offer = parse(offer_text);
    if (!offer) {
        c.required("parsable", "offer: " + offer.error().describe());
        return c.findings;
    }
    auto offered = read_remote_audio(offer.value());
    if (!offered) {
        c.required("parsable", "offer: " + offered.error().describe());
        return c.findings;
    }
    // Rule 2: CRLF line endings.
    if (lf_without_cr(answer_text)) c.required("crlf", "lines must end with CRLF, not bare LF");
    auto answer = parse(answer_text);
    if (!answer) {
        c.required("parsable", "answer: " + answer.error().describe());
        return c.findings;
    }
    // Rule 4: exactly one usable m=audio, at the offer's position.
    const auto& media = answer->media;
    size_t active_audio = 0;
    for (const auto& m : media)
        active_audio += (m.media == "audio" && m.port != 0);
    if (media.size() != offer->media.size()) {
        c.required("one_audio_ssrc", "the answer has " + std::to_string(media.size()) +
                                         " m= sections; the offer has " +
                                         std::to_string(offer->media.size()));
    }
    if (active_audio != 1 || offered->media_index >= media.size() ||
        media[offered->media_index].media != "audio") {
        c.required("one_audio_ssrc", "the answer needs exactly one m=audio section, accepted, in "
                                     "the position of the offer's");
        return c.findings;
    }
    check_audio(c, offer.value(), offered.value(), answer.value(), media[offered->media_index]);
    return c.findings;
}

} // namespace wabridge::sdp

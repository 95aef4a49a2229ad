#include "wabridge/sdp/remote_audio.hpp"

#include "wabridge/util/text.hpp"

#include <algorithm>
#include <cctype>

namespace wabridge::sdp {

namespace {

using text::iequals;

Err<Error> fail(ErrorCode code, size_t line, std::string reason) {
    return err(Error{code, line, std::move(reason)});
}

// Media-level value wins over session-level (RFC 8839 §5.4, RFC 8122 §5 allow both levels).
const Attribute* find_either(const MediaDescription& m, const SessionDescription& sd,
                             std::string_view name) {
    if (const Attribute* a = m.find(name)) return a;
    return sd.find(name);
}

bool is_dtls_rtp_proto(std::string_view proto) {
    return iequals(proto, "UDP/TLS/RTP/SAVPF") || iequals(proto, "UDP/TLS/RTP/SAVP");
}

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] (RFC 8866 §6.6)
Result<Codec, Error> parse_rtpmap(const Attribute& a) {
    auto sp = a.value.find(' ');
    auto bad = [&] {
        return fail(ErrorCode::bad_attribute, a.line,
                    "a=rtpmap must be '<pt> <name>/<clock>[/<channels>]'");
    };
    if (sp == std::string::npos) return bad();
    auto pt = text::parse_uint(std::string_view(a.value).substr(0, sp), 127);
    if (!pt) return bad();
    auto parts = text::split(std::string_view(a.value).substr(sp + 1), '/');
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) return bad();
    auto clock = text::parse_uint(parts[1], 10'000'000);
    if (!clock || *clock == 0) return bad();
    Codec c;
    c.payload_type = static_cast<uint8_t>(*pt);
    c.name = std::string(parts[0]);
    c.clock_rate = static_cast<uint32_t>(*clock);
    if (parts.size() == 3) {
        auto ch = text::parse_uint(parts[2], 255);
        if (!ch || *ch == 0) return bad();
        c.channels = static_cast<uint32_t>(*ch);
    }
    return c;
}

// a=fmtp:<format> <format specific parameters>; for Opus and telephone-event these are
// "key=value;key=value" (RFC 7587 §7) or "0-15" (RFC 4733 §2.4.1). Tolerates "; " separators.
std::vector<std::pair<std::string, std::string>> parse_fmtp_params(std::string_view params) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto item : text::split(params, ';')) {
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        if (item.empty()) continue;
        auto eq = item.find('=');
        if (eq == std::string_view::npos)
            out.emplace_back(std::string(item), "");
        else
            out.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    }
    return out;
}

// RFC 3551 §6 static payload types that peers may list without an rtpmap.
std::optional<Codec> static_codec(uint8_t pt) {
    switch (pt) {
    case 0:
        return Codec{0, "PCMU", 8000, 1, {}};
    case 8:
        return Codec{8, "PCMA", 8000, 1, {}};
    case 9:
        return Codec{9, "G722", 8000, 1, {}};
    default:
        return std::nullopt;
    }
}

Result<std::vector<Codec>, Error> read_codecs(const MediaDescription& m) {
    std::vector<Codec> codecs;
    for (const auto& fmt : m.formats) {
        auto pt = static_cast<uint8_t>(*text::parse_uint(fmt, 127)); // checked by the parser
        std::optional<Codec> codec;
        for (const Attribute* a : m.find_all("rtpmap")) {
            auto parsed = parse_rtpmap(*a);
            if (!parsed) return err(parsed.error());
            if (parsed->payload_type == pt) {
                codec = std::move(parsed.value());
                break;
            }
        }
        if (!codec) codec = static_codec(pt);
        if (!codec) continue; // a dynamic PT without rtpmap is unusable; skip it
        for (const Attribute* a : m.find_all("fmtp")) {
            auto sp = a->value.find(' ');
            auto fpt = text::parse_uint(std::string_view(a->value).substr(0, sp), 127);
            if (!fpt) {
                return fail(ErrorCode::bad_attribute, a->line,
                            "a=fmtp must start with a payload type");
            }
            if (*fpt == pt && sp != std::string::npos) {
                codec->fmtp = parse_fmtp_params(std::string_view(a->value).substr(sp + 1));
            }
        }
        codecs.push_back(std::move(*codec));
    }
    return codecs;
}

bool has_opus(const MediaDescription& m) {
    for (const Attribute* a : m.find_all("rtpmap")) {
        auto sp = a->value.find(' ');
        if (sp != std::string::npos) {
            auto name = std::string_view(a->value).substr(sp + 1);
            if (name.size() >= 5 && iequals(name.substr(0, 5), "opus/")) return true;
        }
    }
    return false;
}

// The audio section to use: the first audio m= section that is not rejected (port 0 without
// a=bundle-only, RFC 8843 §6) and offers Opus; else the first audio section, for the error.
const MediaDescription* pick_audio(const SessionDescription& sd, size_t& index) {
    const MediaDescription* first_audio = nullptr;
    for (size_t i = 0; i < sd.media.size(); ++i) {
        const auto& m = sd.media[i];
        if (m.media != "audio") continue;
        bool active = m.port != 0 || m.has("bundle-only");
        if (!first_audio && active) {
            first_audio = &m;
            index = i;
        }
        if (active && has_opus(m)) {
            index = i;
            return &m;
        }
    }
    return first_audio;
}

bool is_ufrag_char(char c) {
    // RFC 8839 §5.4 ice-char, plus '=' which WhatsApp puts at the end of its ice-pwd.
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

bool valid_ice_token(std::string_view s, size_t min, size_t max) {
    if (s.size() < min || s.size() > max) return false;
    return std::all_of(s.begin(), s.end(), is_ufrag_char);
}

} // namespace

std::string_view to_string(Setup s) {
    switch (s) {
    case Setup::actpass:
        return "actpass";
    case Setup::active:
        return "active";
    case Setup::passive:
        return "passive";
    case Setup::holdconn:
        return "holdconn";
    }
    return "actpass";
}

std::string_view to_string(Direction d) {
    switch (d) {
    case Direction::sendrecv:
        return "sendrecv";
    case Direction::sendonly:
        return "sendonly";
    case Direction::recvonly:
        return "recvonly";
    case Direction::inactive:
        return "inactive";
    }
    return "sendrecv";
}

Direction read_direction(const MediaDescription& m, const SessionDescription& sd) {
    for (const AttributeList* list :
         {static_cast<const AttributeList*>(&m), static_cast<const AttributeList*>(&sd)}) {
        std::optional<Direction> found;
        for (const auto& a : list->attributes) {
            if (a.has_value) continue;
            if (a.name == "sendrecv")
                found = Direction::sendrecv;
            else if (a.name == "sendonly")
                found = Direction::sendonly;
            else if (a.name == "recvonly")
                found = Direction::recvonly;
            else if (a.name == "inactive")
                found = Direction::inactive;
        }
        if (found) return *found;
    }
    return Direction::sendrecv;
}

Direction answer_direction(Direction offered) {
    switch (offered) {
    case Direction::sendonly:
        return Direction::recvonly;
    case Direction::recvonly:
        return Direction::sendonly;
    case Direction::inactive:
        return Direction::inactive;
    case Direction::sendrecv:
        break;
    }
    return Direction::sendrecv;
}

const std::string* Codec::fmtp_param(std::string_view key) const {
    for (const auto& [k, v] : fmtp) {
        if (iequals(k, key)) return &v;
    }
    return nullptr;
}

std::optional<uint32_t> RemoteAudio::opus_max_average_bitrate() const {
    const std::string* v = opus.fmtp_param("maxaveragebitrate");
    if (!v) return std::nullopt;
    auto n = text::parse_uint(*v, UINT32_MAX);
    if (!n) return std::nullopt;
    return static_cast<uint32_t>(*n);
}

bool is_sha256_fingerprint(std::string_view digest) {
    if (digest.size() != 32 * 3 - 1) return false;
    for (size_t i = 0; i < digest.size(); ++i) {
        char c = digest[i];
        if (i % 3 == 2) {
            if (c != ':') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

Result<RemoteAudio, Error> read_remote_audio(const SessionDescription& sd) {
    RemoteAudio r;
    const MediaDescription* m = pick_audio(sd, r.media_index);
    if (!m) return fail(ErrorCode::no_audio, 0, "no usable m=audio section");

    // Transport: DTLS-SRTP over UDP only (RFC 5764). SDES (a=crypto, RFC 4568) is refused.
    r.proto = m->proto;
    bool sdes = find_either(*m, sd, "crypto") != nullptr;
    if (!is_dtls_rtp_proto(m->proto)) {
        if (sdes) {
            return fail(ErrorCode::sdes_only, m->line,
                        "m=audio uses SDES (a=crypto) keying; wabridge needs DTLS-SRTP");
        }
        return fail(ErrorCode::unsupported_transport, m->line,
                    "m=audio proto " + m->proto + " is not UDP/TLS/RTP/SAVPF");
    }

    // Codecs: Opus is mandatory (RFC 7587 §7 requires opus/48000/2).
    auto codecs = read_codecs(*m);
    if (!codecs) return err(codecs.error());
    r.codecs = std::move(codecs.value());
    bool found_opus = false;
    for (const auto& c : r.codecs) {
        if (!found_opus && iequals(c.name, "opus")) {
            if (c.clock_rate != 48000 || (c.channels != 2 && c.channels != 1)) {
                return fail(ErrorCode::no_opus, m->line,
                            "Opus must be opus/48000/2 (RFC 7587 §7), got opus/" +
                                std::to_string(c.clock_rate));
            }
            r.opus = c;
            found_opus = true;
        }
        if (!r.telephone_event && iequals(c.name, "telephone-event") && c.clock_rate == 8000) {
            r.telephone_event = c;
        }
    }
    if (!found_opus) return fail(ErrorCode::no_opus, m->line, "m=audio offers no Opus codec");

    // DTLS fingerprint (RFC 8122 §5); only sha-256 is accepted (WhatsApp answers must carry
    // exactly one sha-256 fingerprint, whatsapp-calling.md §5 rule 7).
    std::vector<const Attribute*> fingerprints = m->find_all("fingerprint");
    if (fingerprints.empty()) fingerprints = sd.find_all("fingerprint");
    if (fingerprints.empty()) {
        if (sdes) {
            return fail(
                ErrorCode::sdes_only, m->line,
                "only SDES (a=crypto) keying is offered; wabridge needs a DTLS fingerprint");
        }
        return fail(ErrorCode::no_fingerprint, m->line, "no a=fingerprint for DTLS");
    }
    std::string other_algorithms;
    for (const Attribute* a : fingerprints) {
        auto sp = a->value.find(' ');
        if (sp == std::string::npos) {
            return fail(ErrorCode::bad_attribute, a->line,
                        "a=fingerprint must be '<hash-func> <digest>'");
        }
        std::string algorithm = text::to_lower(std::string_view(a->value).substr(0, sp));
        std::string digest = a->value.substr(sp + 1);
        if (algorithm != "sha-256") {
            other_algorithms += (other_algorithms.empty() ? "" : ", ") + algorithm;
            continue;
        }
        if (!is_sha256_fingerprint(digest)) {
            return fail(ErrorCode::bad_attribute, a->line,
                        "a=fingerprint sha-256 digest must be 32 colon-separated hex bytes");
        }
        for (char& c : digest)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        r.sha256_fingerprints.push_back(std::move(digest));
    }
    if (r.sha256_fingerprints.empty()) {
        return fail(ErrorCode::unsupported_fingerprint, fingerprints.front()->line,
                    "a=fingerprint uses " + other_algorithms + "; wabridge needs sha-256");
    }

    // ICE credentials (RFC 8839 §5.4): ufrag 4-256 chars, pwd 22-256 chars.
    const Attribute* ufrag = find_either(*m, sd, "ice-ufrag");
    const Attribute* pwd = find_either(*m, sd, "ice-pwd");
    if (!ufrag || !pwd) {
        return fail(ErrorCode::no_ice_credentials, m->line,
                    std::string("no a=") + (!ufrag ? "ice-ufrag" : "ice-pwd"));
    }
    if (!valid_ice_token(ufrag->value, 4, 256)) {
        return fail(ErrorCode::bad_ice_credentials, ufrag->line,
                    "a=ice-ufrag must be 4-256 ice-chars (RFC 8839 §5.4)");
    }
    if (!valid_ice_token(pwd->value, 22, 256)) {
        return fail(ErrorCode::bad_ice_credentials, pwd->line,
                    "a=ice-pwd must be 22-256 ice-chars (RFC 8839 §5.4)");
    }
    r.ice_ufrag = ufrag->value;
    r.ice_pwd = pwd->value;
    r.ice_lite = sd.has("ice-lite") || m->has("ice-lite");
    if (const Attribute* opts = find_either(*m, sd, "ice-options")) {
        for (auto o : text::split(opts->value, ' '))
            r.ice_trickle |= o == "trickle";
    }

    // DTLS role (RFC 4145 §4: an absent a=setup means "active").
    if (const Attribute* setup = find_either(*m, sd, "setup")) {
        r.setup_present = true;
        std::string v = text::to_lower(setup->value);
        if (v == "actpass")
            r.setup = Setup::actpass;
        else if (v == "active")
            r.setup = Setup::active;
        else if (v == "passive")
            r.setup = Setup::passive;
        else if (v == "holdconn")
            r.setup = Setup::holdconn;
        else
            return fail(ErrorCode::bad_setup, setup->line,
                        "a=setup:" + setup->value + " is unknown");
    } else {
        r.setup = Setup::active;
    }

    // RTP/RTCP multiplexing is required: wabridge runs one ICE component (RFC 5761, RFC 8858).
    r.rtcp_mux_only = m->has("rtcp-mux-only");
    r.rtcp_mux = m->has("rtcp-mux") || r.rtcp_mux_only;
    if (!r.rtcp_mux) return fail(ErrorCode::no_rtcp_mux, m->line, "m=audio has no a=rtcp-mux");

    r.direction = read_direction(*m, sd);

    if (const Attribute* mid = m->find("mid")) r.mid = mid->value;
    for (const Attribute* g : sd.find_all("group")) {
        auto fields = text::split(g->value, ' ');
        if (fields.empty() || fields[0] != "BUNDLE" || r.mid.empty()) continue;
        r.bundled |= std::find(fields.begin() + 1, fields.end(), r.mid) != fields.end();
    }

    if (const Attribute* ptime = m->find("ptime")) {
        auto v = text::parse_uint(ptime->value, 1000);
        if (!v) return fail(ErrorCode::bad_attribute, ptime->line, "a=ptime is not a number");
        r.ptime = static_cast<uint32_t>(*v);
    }

    for (const Attribute* a : m->find_all("candidate")) {
        auto c = parse_candidate(a->value, a->line);
        if (!c) return err(c.error());
        r.candidates.push_back(std::move(c.value()));
    }

    for (const Attribute* a : m->find_all("ssrc")) {
        auto sp = a->value.find(' ');
        auto id = text::parse_uint(std::string_view(a->value).substr(0, sp), UINT32_MAX);
        if (!id) return fail(ErrorCode::bad_attribute, a->line, "a=ssrc id is not a 32-bit number");
        auto ssrc = static_cast<uint32_t>(*id);
        if (std::find(r.ssrcs.begin(), r.ssrcs.end(), ssrc) == r.ssrcs.end())
            r.ssrcs.push_back(ssrc);
    }

    r.port = m->port;
    if (m->has_connection)
        r.connection_address = m->connection.address;
    else if (sd.has_connection)
        r.connection_address = sd.connection.address;
    return r;
}

} // namespace wabridge::sdp

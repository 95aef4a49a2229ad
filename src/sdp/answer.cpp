#include "wabridge/sdp/answer.hpp"

#include "audio_section.hpp"
#include "wabridge/sdp/writer.hpp"
#include "wabridge/util/text.hpp"

#include <algorithm>

namespace wabridge::sdp {

namespace {

// RFC 5763 §5 / RFC 4145 §4.1: the answerer takes the role the offer leaves open, and prefers
// to be the DTLS client ("active") when the offer says actpass — WhatsApp wants that
// (whatsapp-calling.md §5 rule 8).
Result<Setup, Error> answer_setup(const RemoteAudio& r) {
    switch (r.setup) {
    case Setup::actpass:
        return Setup::active;
    case Setup::passive:
        return Setup::active;
    case Setup::active:
        return Setup::passive;
    case Setup::holdconn:
        break;
    }
    return err(Error{ErrorCode::bad_setup, 0, "offer has a=setup:holdconn; no DTLS role is left"});
}

// RFC 3264 §6: every offered m= line appears in the answer; the ones we do not take are
// rejected with port 0. A rejected section leaves the BUNDLE group (RFC 8843 §7.3.3).
MediaDescription rejected_section(const MediaDescription& offered) {
    MediaDescription m;
    m.media = offered.media;
    m.port = 0;
    m.proto = offered.proto;
    m.formats = offered.formats;
    m.has_connection = true;
    m.connection = Connection{"IN", "IP4", "0.0.0.0"};
    if (const Attribute* mid = offered.find("mid")) m.add("mid", mid->value);
    return m;
}

} // namespace

Result<Answer, Error> create_answer(const SessionDescription& offer, const LocalTransport& local,
                                    const AudioPolicy& policy) {
    auto remote = read_remote_audio(offer);
    if (!remote) return err(remote.error());
    auto setup = answer_setup(remote.value());
    if (!setup) return err(setup.error());

    Answer answer;
    NegotiatedAudio& n = answer.negotiated;
    n.remote = std::move(remote.value());
    const RemoteAudio& r = n.remote;
    detail::take_codecs(r, policy, n);
    n.dtls_role = setup.value() == Setup::active ? DtlsRole::client : DtlsRole::server;
    // RFC 8445 §6.1.1: a full agent facing a lite agent MUST be controlling; between two full
    // agents the offerer controls, so the answerer is controlled.
    n.ice_controlling = r.ice_lite;
    n.local_direction = answer_direction(r.direction);

    SessionDescription sd = detail::session_frame(local);
    if (r.bundled)
        sd.attributes.insert(sd.attributes.begin(), {"group", "BUNDLE " + r.mid, true, 0});

    detail::AudioSectionParams p;
    p.proto = text::iequals(r.proto, "UDP/TLS/RTP/SAVP") ? "UDP/TLS/RTP/SAVP" : "UDP/TLS/RTP/SAVPF";
    p.mid = r.mid;
    p.setup = setup.value();
    p.direction = n.local_direction;
    p.opus_pt = n.opus_payload_type;
    p.dtmf_pt = n.dtmf_payload_type;
    p.bitrate_bps = n.send_bitrate_bps;
    p.ptime_ms = policy.ptime_ms;

    for (size_t i = 0; i < offer.media.size(); ++i) {
        if (i == r.media_index)
            sd.media.push_back(detail::audio_section(local, p));
        else
            sd.media.push_back(rejected_section(offer.media[i]));
    }
    answer.sdp = write(sd);
    return answer;
}

Result<Answer, Error> answer_offer(std::string_view offer_text, const LocalTransport& local,
                                   const AudioPolicy& policy) {
    auto offer = parse(offer_text);
    if (!offer) return err(offer.error());
    return create_answer(offer.value(), local, policy);
}

} // namespace wabridge::sdp

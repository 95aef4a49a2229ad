#include "wabridge/sdp/offer.hpp"

#include "audio_section.hpp"
#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/remote_audio.hpp"
#include "wabridge/sdp/writer.hpp"

#include <algorithm>

namespace wabridge::sdp {

std::string create_offer(const LocalTransport& local, const AudioPolicy& policy) {
    SessionDescription sd = detail::session_frame(local);
    // RFC 8843 §7.2: the offerer lists the bundled mids; WhatsApp's own offers use mid "audio".
    sd.attributes.insert(sd.attributes.begin(), {"group", "BUNDLE audio", true, 0});

    detail::AudioSectionParams p;
    p.mid = "audio";
    p.setup = Setup::actpass; // RFC 5763 §5: the offerer MUST use actpass
    p.direction = Direction::sendrecv;
    p.opus_pt = kOfferOpusPayloadType;
    p.dtmf_pt = kOfferDtmfPayloadType;
    p.bitrate_bps = std::clamp(policy.max_bitrate_bps, kOpusMinBitrate, kOpusMaxBitrate);
    p.ptime_ms = policy.ptime_ms;
    sd.media.push_back(detail::audio_section(local, p));
    return write(sd);
}

Result<NegotiatedAudio, Error> read_answer(std::string_view answer_text,
                                           const AudioPolicy& policy) {
    auto answer = parse(answer_text);
    if (!answer) return err(answer.error());
    auto remote = read_remote_audio(answer.value());
    if (!remote) return err(remote.error());
    NegotiatedAudio n;
    n.remote = std::move(remote.value());
    const RemoteAudio& r = n.remote;
    if (!r.setup_present || r.setup == Setup::actpass || r.setup == Setup::holdconn) {
        return err(Error{ErrorCode::bad_setup, 0,
                         "the answer needs a=setup:active or passive (RFC 5763 §5)"});
    }
    if (r.opus.payload_type != kOfferOpusPayloadType) {
        return err(Error{ErrorCode::no_opus, 0,
                         "the answer moved Opus to payload type " +
                             std::to_string(r.opus.payload_type) + "; we offered " +
                             std::to_string(kOfferOpusPayloadType)});
    }
    detail::take_codecs(r, policy, n);
    n.dtls_role = r.setup == Setup::active ? DtlsRole::server : DtlsRole::client;
    n.ice_controlling = true;
    n.local_direction = answer_direction(r.direction);
    return n;
}

} // namespace wabridge::sdp

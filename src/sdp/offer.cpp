#include "wabridge/sdp/offer.hpp"

#include "audio_section.hpp"
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

} // namespace wabridge::sdp

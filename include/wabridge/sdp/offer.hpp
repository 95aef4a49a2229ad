// Offer generator for business-initiated calls (whatsapp-calling.md §4.3): actpass, Opus on
// PT 111 plus telephone-event/8000 on PT 126, our candidates, no trickle.
#pragma once

#include "wabridge/sdp/answer.hpp"
#include "wabridge/sdp/error.hpp"
#include "wabridge/sdp/local_transport.hpp"
#include "wabridge/util/result.hpp"

#include <string>

namespace wabridge::sdp {

constexpr uint8_t kOfferOpusPayloadType = 111;
constexpr uint8_t kOfferDtmfPayloadType = 126;

std::string create_offer(const LocalTransport& local, const AudioPolicy& policy = {});

// Reads the peer's answer to create_offer()'s offer (RFC 3264 §7): the DTLS role from its
// a=setup (active: we are the DTLS server; passive: the client; actpass or none is refused,
// RFC 5763 §5), Opus on the payload type we offered, the bitrate it asks for, DTMF if kept.
// We are ICE-controlling as the offerer (RFC 8445 §6.1.1), and must be when the peer is lite.
Result<NegotiatedAudio, Error> read_answer(std::string_view answer_text,
                                           const AudioPolicy& policy = {});

} // namespace wabridge::sdp

// Offer generator for business-initiated calls (whatsapp-calling.md §4.3): actpass, Opus on
// PT 111 plus telephone-event/8000 on PT 126, our candidates, no trickle.
#pragma once

#include "wabridge/sdp/local_transport.hpp"

#include <string>

namespace wabridge::sdp {

constexpr uint8_t kOfferOpusPayloadType = 111;
constexpr uint8_t kOfferDtmfPayloadType = 126;

std::string create_offer(const LocalTransport& local, const AudioPolicy& policy = {});

} // namespace wabridge::sdp

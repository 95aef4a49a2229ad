// Answer generator, WhatsApp profile (whatsapp-calling.md §5). Given a peer's offer and our
// transport, it chooses what the call will use and writes the answer SDP.
#pragma once

#include "wabridge/sdp/error.hpp"
#include "wabridge/sdp/local_transport.hpp"
#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/remote_audio.hpp"
#include "wabridge/util/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace wabridge::sdp {

enum class DtlsRole { client, server };

// The outcome of negotiation that the transport and media layers act on.
struct NegotiatedAudio {
    RemoteAudio remote;
    uint8_t opus_payload_type = 111;
    std::optional<uint8_t> dtmf_payload_type;
    uint32_t send_bitrate_bps = 20000; // min(offer's maxaveragebitrate, policy), >= 6000
    DtlsRole dtls_role = DtlsRole::client;
    bool ice_controlling = true; // RFC 8445 §6.1.1: controlling when the peer is lite
    Direction local_direction = Direction::sendrecv;
};

struct Answer {
    std::string sdp; // CRLF lines, ready for the Graph API's session.sdp
    NegotiatedAudio negotiated;
};

Result<Answer, Error> create_answer(const SessionDescription& offer, const LocalTransport& local,
                                    const AudioPolicy& policy = {});

// Parses the offer text, then answers it.
Result<Answer, Error> answer_offer(std::string_view offer_text, const LocalTransport& local,
                                   const AudioPolicy& policy = {});

} // namespace wabridge::sdp

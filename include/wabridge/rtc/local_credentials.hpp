// Fresh per-call identity for our side of the SDP: random ICE credentials, SSRC, CNAME and
// session id, plus the process certificate's fingerprint. Randomness comes from OpenSSL.
#pragma once

#include "wabridge/crypto/certificate.hpp"
#include "wabridge/sdp/local_transport.hpp"

#include <string>
#include <vector>

namespace wabridge::rtc {

// `length` characters drawn uniformly from [A-Za-z0-9], a subset of RFC 8839 ice-char that
// needs no escaping anywhere (JSON, URLs, logs).
std::string random_ice_string(size_t length);

// ufrag 16 chars (WhatsApp uses 16), pwd 32 chars (RFC 8839 §5.4 asks for at least 22, i.e.
// 128 bits), SSRC non-zero, CNAME 16 chars (RFC 7022 §4.2), session id below 2^63.
sdp::LocalTransport new_local_transport(const Certificate& certificate,
                                        std::vector<sdp::Candidate> candidates);

} // namespace wabridge::rtc

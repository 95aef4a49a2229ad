// What wabridge puts in its own SDP about itself: ICE credentials, DTLS fingerprint,
// candidates and the one SSRC it sends with. Produced by the transport layer, consumed by the
// SDP generators (which stay pure: no randomness, no sockets, no clock).
#pragma once

#include "wabridge/sdp/candidate.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace wabridge::sdp {

struct LocalTransport {
    std::string ice_ufrag; // RFC 8839 §5.4, freshly random per call
    std::string ice_pwd;
    std::string fingerprint_sha256; // "AB:CD:..." of the process certificate
    std::vector<Candidate> candidates;
    uint32_t ssrc = 0;       // the one SSRC of the whole call
    std::string cname;       // RTCP CNAME (RFC 7022)
    uint64_t session_id = 0; // o= sess-id, < 2^63 (RFC 8829 §5.2.1)
};

// Our audio policy: what the encoder is allowed to send.
struct AudioPolicy {
    uint32_t max_bitrate_bps = 20000; // WhatsApp's maxaveragebitrate
    uint32_t ptime_ms = 20;
};

// Opus maxaveragebitrate bounds (RFC 7587 §6.1).
constexpr uint32_t kOpusMinBitrate = 6000;
constexpr uint32_t kOpusMaxBitrate = 510000;

// Host candidates for each (address, port), in preference order. Priorities follow RFC 8445
// §5.1.2.1 with local preference falling by one per address; foundations are stable per address.
std::vector<Candidate> host_candidates(const std::vector<std::string>& addresses, uint16_t port);

} // namespace wabridge::sdp

namespace wabridge::sdp {

// 1:1 NAT, as Janus' nat_1_1_mapping: with a public IP set, a host address of the same family is
// advertised as the public IP; any other address as itself.
std::string advertised_address(const std::string& host_address, const std::string& public_ip);

// The addresses to advertise under that rule: the public IP first, then the other family's
// host addresses, deduplicated. Without a public IP, the host addresses as given.
std::vector<std::string> advertised_addresses(const std::vector<std::string>& host_addresses,
                                              const std::string& public_ip);

// Gathered host candidates under the same rule, one per advertised address and port.
std::vector<Candidate> advertised_candidates(const std::vector<Candidate>& host_candidates,
                                             const std::string& public_ip);

} // namespace wabridge::sdp

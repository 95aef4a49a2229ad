// ICE candidate attribute (RFC 8839 §5.1):
//   candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority SP
//                         connection-address SP port SP "typ" SP cand-type
//                         [SP "raddr" SP connection-address SP "rport" SP port]
//                         *(SP extension-att-name SP extension-att-value)
#pragma once

#include "wabridge/sdp/error.hpp"
#include "wabridge/util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wabridge::sdp {

struct Candidate {
    std::string foundation;
    uint32_t component = 1;
    std::string transport = "udp"; // lower-cased
    uint32_t priority = 0;
    std::string address;
    uint16_t port = 0;
    std::string type = "host"; // host | srflx | prflx | relay | other token
    std::string related_address;
    uint16_t related_port = 0;
    bool has_related = false;
    std::vector<std::pair<std::string, std::string>> extensions; // generation, network-cost, ufrag…

    bool is_udp() const { return transport == "udp"; }
};

// Parses the value after "a=candidate:". `line` is used only for the error.
Result<Candidate, Error> parse_candidate(std::string_view value, size_t line = 0);

// Formats the value for "a=candidate:" (extensions included).
std::string format_candidate(const Candidate& c);

// RFC 8445 §5.1.2.1: priority = 2^24 * type-pref + 2^8 * local-pref + (256 - component-id).
uint32_t candidate_priority(uint32_t type_preference, uint32_t local_preference,
                            uint32_t component);

// RFC 8445 §5.1.2.2: type preference 126 for host candidates.
constexpr uint32_t kHostTypePreference = 126;

} // namespace wabridge::sdp

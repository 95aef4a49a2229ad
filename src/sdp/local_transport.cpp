#include "wabridge/sdp/local_transport.hpp"

#include <algorithm>

namespace wabridge::sdp {

namespace {
// RFC 8445 §5.1.1.3: the foundation is the same for candidates of the same type, base address
// and protocol. A short FNV-1a hash of the address keeps it stable and within 32 ice-chars.
std::string foundation_for(const std::string& address) {
    uint32_t h = 2166136261u;
    for (char c : address) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return std::to_string(h);
}
} // namespace

std::vector<Candidate> host_candidates(const std::vector<std::string>& addresses, uint16_t port) {
    std::vector<Candidate> out;
    uint32_t local_preference = 65535;
    for (const auto& address : addresses) {
        Candidate c;
        c.foundation = foundation_for(address);
        c.component = 1;
        c.transport = "udp";
        c.priority = candidate_priority(kHostTypePreference, local_preference, 1);
        c.address = address;
        c.port = port;
        c.type = "host";
        out.push_back(std::move(c));
        if (local_preference > 0) --local_preference;
    }
    return out;
}

} // namespace wabridge::sdp

namespace wabridge::sdp {

std::string advertised_address(const std::string& host_address, const std::string& public_ip) {
    auto v6 = [](const std::string& a) { return a.find(':') != std::string::npos; };
    if (public_ip.empty() || v6(host_address) != v6(public_ip)) return host_address;
    return public_ip;
}

std::vector<std::string> advertised_addresses(const std::vector<std::string>& host_addresses,
                                              const std::string& public_ip) {
    if (public_ip.empty()) return host_addresses;
    std::vector<std::string> out{public_ip};
    for (const auto& a : host_addresses) {
        std::string mapped = advertised_address(a, public_ip);
        if (std::find(out.begin(), out.end(), mapped) == out.end())
            out.push_back(std::move(mapped));
    }
    return out;
}

std::vector<Candidate> advertised_candidates(const std::vector<Candidate>& host_candidates,
                                             const std::string& public_ip) {
    std::vector<Candidate> out;
    for (Candidate c : host_candidates) {
        c.address = advertised_address(c.address, public_ip);
        bool duplicate = std::any_of(out.begin(), out.end(), [&](const Candidate& have) {
            return have.address == c.address && have.port == c.port;
        });
        if (!duplicate) out.push_back(std::move(c));
    }
    return out;
}

} // namespace wabridge::sdp

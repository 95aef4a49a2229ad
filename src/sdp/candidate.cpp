#include "wabridge/sdp/candidate.hpp"

#include "wabridge/util/text.hpp"

namespace wabridge::sdp {

namespace {

Err<Error> bad(size_t line, std::string reason) {
    return err(Error{ErrorCode::bad_candidate, line, "a=candidate: " + std::move(reason)});
}

// RFC 8839 §5.1: ice-char = ALPHA / DIGIT / "+" / "/"
bool is_ice_chars(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (!ok) return false;
    }
    return true;
}

} // namespace

Result<Candidate, Error> parse_candidate(std::string_view value, size_t line) {
    auto fields = text::split_sp_strict(value);
    if (!fields || fields->size() < 8) return bad(line, "needs at least 8 fields");
    const auto& f = *fields;
    Candidate c;
    // foundation = 1*32ice-char
    if (!is_ice_chars(f[0]) || f[0].size() > 32)
        return bad(line, "foundation is not 1-32 ice-chars");
    c.foundation = std::string(f[0]);
    // component-id = 1*3DIGIT (1..256)
    auto component = text::parse_uint(f[1], 256);
    if (!component || *component == 0) return bad(line, "component-id is not 1..256");
    c.component = static_cast<uint32_t>(*component);
    c.transport = text::to_lower(f[2]); // "UDP" is common in the wild
    // priority = 1*10DIGIT, and it must fit 32 bits (RFC 8445 §5.1.2)
    auto priority = text::parse_uint(f[3], UINT32_MAX);
    if (!priority) return bad(line, "priority is not a 32-bit number");
    c.priority = static_cast<uint32_t>(*priority);
    c.address = std::string(f[4]);
    auto port = text::parse_uint(f[5], 65535);
    if (!port) return bad(line, "port is not a number from 0 to 65535");
    c.port = static_cast<uint16_t>(*port);
    if (f[6] != "typ") return bad(line, "expected 'typ' after the port");
    c.type = text::to_lower(f[7]);

    size_t i = 8;
    while (i < f.size()) {
        if (i + 1 >= f.size())
            return bad(line, "extension '" + std::string(f[i]) + "' has no value");
        if (f[i] == "raddr" || f[i] == "rport") {
            if (f[i] == "raddr") {
                c.related_address = std::string(f[i + 1]);
                c.has_related = true;
            } else {
                auto rport = text::parse_uint(f[i + 1], 65535);
                if (!rport) return bad(line, "rport is not a number from 0 to 65535");
                c.related_port = static_cast<uint16_t>(*rport);
            }
        } else {
            c.extensions.emplace_back(std::string(f[i]), std::string(f[i + 1]));
        }
        i += 2;
    }
    return c;
}

std::string format_candidate(const Candidate& c) {
    std::string out = c.foundation + " " + std::to_string(c.component) + " " + c.transport + " " +
                      std::to_string(c.priority) + " " + c.address + " " + std::to_string(c.port) +
                      " typ " + c.type;
    if (c.has_related) {
        out += " raddr " + c.related_address + " rport " + std::to_string(c.related_port);
    }
    for (const auto& [name, value] : c.extensions)
        out += " " + name + " " + value;
    return out;
}

uint32_t candidate_priority(uint32_t type_preference, uint32_t local_preference,
                            uint32_t component) {
    return (type_preference << 24) + ((local_preference & 0xffff) << 8) + (256 - component);
}

} // namespace wabridge::sdp

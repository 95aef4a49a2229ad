#include "wabridge/ai/realtime_url.hpp"

#include <charconv>

namespace wabridge::ai {

namespace {
// RFC 3986 §2.3: unreserved characters stay, everything else is %XX.
std::string percent_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}
} // namespace

std::string RealtimeUrl::target(std::string_view model) const {
    return path + (path.find('?') == std::string::npos ? "?" : "&") +
           "model=" + percent_encode(model);
}

Result<RealtimeUrl, std::string> parse_realtime_url(std::string_view url) {
    RealtimeUrl u;
    if (url.starts_with("wss://")) {
        url.remove_prefix(6);
    } else if (url.starts_with("ws://")) {
        u.tls = false;
        u.port = 80;
        url.remove_prefix(5);
    } else {
        return err(std::string("the URL must start with ws:// or wss://"));
    }
    const size_t slash = url.find_first_of("/?");
    std::string_view authority = url.substr(0, slash);
    u.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    if (u.path.front() == '?') u.path.insert(0, "/");
    if (authority.empty() || authority.find('@') != std::string_view::npos)
        return err(std::string("the URL needs a host (and no user info)"));
    std::string_view port_text;
    if (authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) return err(std::string("unclosed [ in the host"));
        u.host = std::string(authority.substr(1, close - 1));
        std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return err(std::string("junk after the IPv6 host"));
            port_text = rest.substr(1);
        }
    } else {
        const size_t colon = authority.find(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (u.host.empty()) return err(std::string("the URL needs a host"));
    if (!port_text.empty()) {
        unsigned value = 0;
        auto [p, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || value == 0 ||
            value > 65535)
            return err("bad port '" + std::string(port_text) + "'");
        u.port = static_cast<uint16_t>(value);
    }
    const bool v6 = u.host.find(':') != std::string::npos;
    u.host_header = v6 ? "[" + u.host + "]" : u.host;
    if (!port_text.empty()) u.host_header += ":" + std::to_string(u.port);
    return u;
}

} // namespace wabridge::ai

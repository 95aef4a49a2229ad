// URL splitting for outgoing connections (RFC 3986 §3.2 authority, §3.3 path).
#include "wabridge/net/url.hpp"

#include "wabridge/util/text.hpp"

#include <cctype>

namespace wabridge::net {

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

Result<Url, std::string> parse_url(std::string_view url, std::string_view schemes) {
    Url u;
    const size_t sep = url.find("://");
    if (sep == std::string_view::npos) return err("the URL must start with " + std::string(schemes));
    u.scheme = text::to_lower(url.substr(0, sep));
    bool allowed = false;
    for (std::string_view s : text::split(schemes, ','))
        allowed = allowed || s == u.scheme;
    if (!allowed) return err("the URL must start with one of " + std::string(schemes));
    u.tls = u.scheme == "wss" || u.scheme == "https";
    u.port = u.tls ? 443 : 80;
    url.remove_prefix(sep + 3);
    for (unsigned char c : url) {
        if (c <= 0x20 || c == 0x7f) return err(std::string("the URL has a space or control byte"));
    }
    const size_t slash = url.find_first_of("/?#");
    std::string_view authority = url.substr(0, slash);
    std::string_view rest = slash == std::string_view::npos ? "" : url.substr(slash);
    if (const size_t hash = rest.find('#'); hash != std::string_view::npos)
        rest = rest.substr(0, hash);
    u.path = rest.empty() ? "/" : std::string(rest);
    if (u.path.front() == '?') u.path.insert(0, "/");
    if (authority.empty() || authority.find('@') != std::string_view::npos)
        return err(std::string("the URL needs a host (and no user info)"));
    std::string_view port_text;
    if (authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) return err(std::string("unclosed [ in the host"));
        u.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return err(std::string("junk after the IPv6 host"));
            port_text = after.substr(1);
            if (port_text.empty()) return err(std::string("empty port"));
        }
    } else {
        const size_t colon = authority.find(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return err(std::string("empty port"));
        }
    }
    if (u.host.empty()) return err(std::string("the URL needs a host"));
    if (!port_text.empty()) {
        auto value = text::parse_uint(port_text, 65535);
        if (!value || *value == 0) return err("bad port '" + std::string(port_text) + "'");
        u.port = static_cast<uint16_t>(*value);
    }
    const bool v6 = u.host.find(':') != std::string::npos;
    u.host_header = v6 ? "[" + u.host + "]" : u.host;
    if (!port_text.empty()) u.host_header += ":" + std::to_string(u.port);
    return u;
}

} // namespace wabridge::net

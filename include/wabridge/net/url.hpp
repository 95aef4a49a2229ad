// Absolute URLs of the servers the bridge connects to: ws://, wss://, http://, https:// with a
// host (a name, an IPv4 literal or a bracketed IPv6 literal), an optional port and a path with
// query (RFC 3986 §3). No user info, no fragment.
#pragma once

#include "wabridge/util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace wabridge::net {

struct Url {
    std::string scheme; // lower case: ws, wss, http, https
    bool tls = true;    // wss, https
    std::string host;   // without brackets
    uint16_t port = 443;
    std::string path = "/";  // path and query as given ("/" when empty)
    std::string host_header; // "host", "host:port", "[v6]:port" (port only when given)
};

// Accepts only the schemes listed in `schemes` (e.g. "http,https").
Result<Url, std::string> parse_url(std::string_view url, std::string_view schemes);

// RFC 3986 §2.3: unreserved characters stay, everything else is %XX.
std::string percent_encode(std::string_view s);

} // namespace wabridge::net

// OPENAI_REALTIME_URL split into what the connection needs: ws:// or wss://, host, port, and
// the request target with the model appended as ?model= (RFC 3986 §3; IPv6 hosts in brackets).
#pragma once

#include "wabridge/util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace wabridge::ai {

struct RealtimeUrl {
    bool tls = true;
    std::string host; // without brackets
    uint16_t port = 443;
    std::string path = "/";  // path and query as given
    std::string host_header; // "host", "host:port", "[v6]:port"
    // path plus "model=<model>" (percent-encoded), joined with ? or &.
    std::string target(std::string_view model) const;
};

Result<RealtimeUrl, std::string> parse_realtime_url(std::string_view url);

} // namespace wabridge::ai

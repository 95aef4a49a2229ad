#include "wabridge/ai/realtime_url.hpp"

#include "wabridge/net/url.hpp"

namespace wabridge::ai {

std::string RealtimeUrl::target(std::string_view model) const {
    return path + (path.find('?') == std::string::npos ? "?" : "&") +
           "model=" + net::percent_encode(model);
}

Result<RealtimeUrl, std::string> parse_realtime_url(std::string_view url) {
    auto parsed = net::parse_url(url, "ws,wss");
    if (!parsed) return err(parsed.error());
    RealtimeUrl u;
    u.tls = parsed->tls;
    u.host = parsed->host;
    u.port = parsed->port;
    u.path = parsed->path;
    u.host_header = parsed->host_header;
    return u;
}

} // namespace wabridge::ai

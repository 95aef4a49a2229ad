// The machine's usable unicast addresses, for host candidates (RFC 8445 §5.1.1.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wabridge::net {

// Addresses of interfaces that are up, skipping loopback and IPv6 link-local (fe80::/10, which
// needs a scope id no peer can use). IPv4 first, then IPv6, each in kernel order.
std::vector<std::string> non_loopback_addresses();

enum class IpKind { none, unspecified, unicast };

// Literal IPv4/IPv6 addresses only (names are never resolved here): none for anything else,
// embedded NULs included; unspecified for 0.0.0.0 and ::.
IpKind classify_ip(std::string_view text);

// True when `text` is an IPv4 or IPv6 literal (unspecified included).
inline bool is_ip_literal(std::string_view text) {
    return classify_ip(text) != IpKind::none;
}

} // namespace wabridge::net

#include "wabridge/net/interfaces.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <memory>
#include <net/if.h>
#include <netinet/in.h>

namespace wabridge::net {

std::vector<std::string> non_loopback_addresses() {
    ifaddrs* raw = nullptr;
    if (getifaddrs(&raw) != 0) return {};
    std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> list(raw, &freeifaddrs);
    std::vector<std::string> v4, v6;
    for (ifaddrs* i = list.get(); i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
        char buf[INET6_ADDRSTRLEN] = {};
        if (i->ifa_addr->sa_family == AF_INET) {
            auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
            if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) v4.emplace_back(buf);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
            if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
                continue;
            if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf)) v6.emplace_back(buf);
        }
    }
    v4.insert(v4.end(), v6.begin(), v6.end());
    return v4;
}

IpKind classify_ip(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) return IpKind::none;
    const std::string s(text);
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        return v4.s_addr == htonl(INADDR_ANY) ? IpKind::unspecified : IpKind::unicast;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        return IN6_IS_ADDR_UNSPECIFIED(&v6) ? IpKind::unspecified : IpKind::unicast;
    }
    return IpKind::none;
}

} // namespace wabridge::net

// Fixed inputs for the SDP generator tests.
#pragma once

#include "wabridge/sdp/local_transport.hpp"

#include <string>

namespace wabridge::sdp::test_fixtures {

inline const std::string kOurFingerprint = "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:"
                                           "2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9";

inline LocalTransport local_transport() {
    LocalTransport t;
    t.ice_ufrag = "OurUfrag0123abcd";
    t.ice_pwd = "OurPassword0123456789abcdefghijk";
    t.fingerprint_sha256 = kOurFingerprint;
    t.candidates = host_candidates({"203.0.113.7", "2001:db8::7"}, 10000);
    t.ssrc = 12345678;
    t.cname = "wabridgeCname123";
    t.session_id = 4242424242;
    return t;
}

// Replaces the first occurrence of `from` (which must exist) with `to`.
inline std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto pos = s.find(from);
    if (pos == std::string::npos) return s + "\n#replace-missed:" + from;
    return s.replace(pos, from.size(), to);
}

} // namespace wabridge::sdp::test_fixtures

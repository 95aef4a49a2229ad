#include "wabridge/rtc/local_credentials.hpp"

#include "wabridge/crypto/openssl.hpp"

namespace wabridge::rtc {

std::string random_ice_string(size_t length) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    constexpr unsigned kSize = sizeof(kAlphabet) - 1; // 62
    constexpr unsigned kLimit = 256 - (256 % kSize);  // reject bytes >= 248: no modulo bias
    std::string out;
    out.reserve(length);
    unsigned char buf[64];
    while (out.size() < length) {
        openssl::random_bytes(buf, sizeof buf);
        for (unsigned char b : buf) {
            if (b >= kLimit) continue;
            out += kAlphabet[b % kSize];
            if (out.size() == length) break;
        }
    }
    return out;
}

sdp::LocalTransport new_local_transport(const Certificate& certificate,
                                        std::vector<sdp::Candidate> candidates) {
    sdp::LocalTransport t;
    t.ice_ufrag = random_ice_string(16);
    t.ice_pwd = random_ice_string(32);
    t.fingerprint_sha256 = certificate.sha256_fingerprint();
    t.candidates = std::move(candidates);
    do {
        openssl::random_bytes(&t.ssrc, sizeof t.ssrc);
    } while (t.ssrc == 0);
    t.cname = random_ice_string(16);
    openssl::random_bytes(&t.session_id, sizeof t.session_id);
    t.session_id >>= 1; // RFC 8829 §5.2.1: representable as a positive 64-bit signed integer
    return t;
}

} // namespace wabridge::rtc

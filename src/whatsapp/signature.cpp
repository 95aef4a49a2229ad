// HMAC-SHA256 signatures for webhook bodies (whatsapp-calling.md §2.2; RFC 2104, RFC 4231).
#include "wabridge/whatsapp/signature.hpp"

#include <array>
#include <cstdint>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace wabridge::whatsapp {

namespace {

constexpr std::string_view kPrefix = "sha256=";
constexpr size_t kMacBytes = 32;
using Mac = std::array<unsigned char, kMacBytes>;

// OpenSSL is handed a non-null pointer even for empty input.
constexpr unsigned char kEmpty[1] = {0};

Mac hmac_sha256(std::string_view body, std::string_view secret) {
    Mac mac{};
    unsigned int len = 0;
    const void* key = secret.empty() ? static_cast<const void*>(kEmpty) : secret.data();
    const auto* data = body.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(body.data());
    if (!HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), data, body.size(), mac.data(),
              &len) ||
        len != kMacBytes) {
        // Only an OpenSSL malfunction gets here; an all-zero MAC never matches a real one
        // by accident and sign_sha256 callers see an obviously wrong value.
        mac.fill(0);
    }
    return mac;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

std::string sign_sha256(std::string_view body, std::string_view secret) {
    static constexpr char kHex[] = "0123456789abcdef";
    const Mac mac = hmac_sha256(body, secret);
    std::string out(kPrefix);
    out.reserve(kPrefix.size() + 2 * kMacBytes);
    for (unsigned char b : mac) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0x0F]);
    }
    return out;
}

std::string_view to_string(SignatureCheck check) {
    switch (check) {
    case SignatureCheck::ok:
        return "ok";
    case SignatureCheck::missing:
        return "missing";
    case SignatureCheck::malformed:
        return "malformed";
    case SignatureCheck::mismatch:
        return "mismatch";
    }
    return "unknown";
}

SignatureCheck verify_sha256(const std::string* header_value, std::string_view raw_body,
                             std::string_view secret) {
    if (!header_value || header_value->empty()) return SignatureCheck::missing;
    const std::string_view given(*header_value);
    // §2.2: "sha256=" then 64 hex digits, nothing else (no spaces, no second value).
    if (given.size() != kPrefix.size() + 2 * kMacBytes ||
        given.substr(0, kPrefix.size()) != kPrefix)
        return SignatureCheck::malformed;
    Mac claimed{};
    for (size_t i = 0; i < kMacBytes; ++i) {
        const int hi = hex_value(given[kPrefix.size() + 2 * i]);
        const int lo = hex_value(given[kPrefix.size() + 2 * i + 1]);
        if (hi < 0 || lo < 0) return SignatureCheck::malformed;
        claimed[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    if (secret.empty()) return SignatureCheck::mismatch;
    const Mac expected = hmac_sha256(raw_body, secret);
    return CRYPTO_memcmp(claimed.data(), expected.data(), kMacBytes) == 0
               ? SignatureCheck::ok
               : SignatureCheck::mismatch;
}

} // namespace wabridge::whatsapp

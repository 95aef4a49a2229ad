// Webhook endpoint verification, whatsapp-calling.md §2.1. The query is decoded as
// application/x-www-form-urlencoded (WHATWG URL Standard §5.1 "urlencoded parsing"), except
// that a malformed percent escape invalidates its pair instead of being kept literally.
#include "wabridge/whatsapp/subscription.hpp"

#include <openssl/crypto.h>

namespace wabridge::whatsapp {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// '+' becomes a space and %XX its octet; nullopt on '%' not followed by two hex digits.
std::optional<std::string> form_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi << 4 | lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// Constant time over the configured token's length; a length mismatch still compares.
bool token_equals(std::string_view given, std::string_view want) {
    if (want.empty()) return false;
    const bool same_length = given.size() == want.size();
    const std::string_view compared = same_length ? given : want;
    return CRYPTO_memcmp(compared.data(), want.data(), want.size()) == 0 && same_length;
}

} // namespace

std::optional<std::string> verify_subscription(std::string_view query,
                                               std::string_view verify_token) {
    if (!query.empty() && query.front() == '?') query.remove_prefix(1);
    std::optional<std::string> mode, token, challenge;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        auto name = form_decode(pair.substr(0, eq));
        auto value =
            form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!name || !value) continue; // a malformed escape invalidates the pair
        std::optional<std::string>* slot = nullptr;
        if (*name == "hub.mode")
            slot = &mode;
        else if (*name == "hub.verify_token")
            slot = &token;
        else if (*name == "hub.challenge")
            slot = &challenge;
        if (!slot) continue;
        if (slot->has_value()) return std::nullopt; // named twice: ambiguous, refuse
        *slot = std::move(*value);
    }
    if (!mode || *mode != "subscribe") return std::nullopt;
    if (!token || !token_equals(*token, verify_token)) return std::nullopt;
    if (!challenge || challenge->empty() || challenge->size() > kMaxChallengeBytes)
        return std::nullopt;
    return challenge;
}

} // namespace wabridge::whatsapp

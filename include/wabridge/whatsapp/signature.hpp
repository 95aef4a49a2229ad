// HMAC-SHA256 body signatures (RFC 2104 with SHA-256, test vectors in RFC 4231): Meta signs
// every webhook POST with `X-Hub-Signature-256: sha256=<hex>` keyed by the App Secret
// (whatsapp-calling.md §2.2); wabridge signs its own outgoing call events the same way
// (`X-Wabridge-Signature`).
#pragma once

#include <string>
#include <string_view>

namespace wabridge::whatsapp {

// "sha256=" followed by the 64 lowercase hex digits of HMAC-SHA256(key = secret, raw body).
std::string sign_sha256(std::string_view body, std::string_view secret);

enum class SignatureCheck {
    ok,
    missing,   // no header, or an empty one
    malformed, // not exactly "sha256=" + 64 hex digits
    mismatch,  // well formed but not ours (always, when the secret is empty)
};

std::string_view to_string(SignatureCheck check);

// Checks a signature header against the raw body bytes, as received (§2.2: never re-serialise
// the JSON). The prefix is case-sensitive; the hex digits may be upper or lower case. The 32
// decoded octets are compared in constant time. An empty secret never verifies (anyone can
// compute an HMAC with an empty key), so a missing App Secret fails closed.
SignatureCheck verify_sha256(const std::string* header_value, std::string_view raw_body,
                             std::string_view secret);

} // namespace wabridge::whatsapp

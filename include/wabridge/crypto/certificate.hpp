// The process's DTLS identity: one ECDSA P-256 self-signed certificate, made once at start-up.
// ECDSA keeps the DTLS handshake small enough to avoid fragmentation (whatsapp-calling.md §5
// rule 18). Its SHA-256 fingerprint goes into every SDP (RFC 8122 §5); the DTLS layer uses the
// same key and certificate.
#pragma once

#include "wabridge/crypto/openssl.hpp"
#include "wabridge/util/result.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace wabridge {

class Certificate {
public:
    // Validity starts a day in the past (tolerates peers with skewed clocks) and lasts
    // `lifetime`. Returns OpenSSL's error text on failure.
    static Result<Certificate, std::string>
    generate(std::string_view common_name = "wabridge",
             std::chrono::hours lifetime = std::chrono::hours(24 * 365));

    EVP_PKEY* key() const { return key_.get(); }
    X509* x509() const { return cert_.get(); }

    // "AB:CD:..." — 32 upper-case hex bytes joined by colons (RFC 8122 §5 / RFC 4572 §5).
    const std::string& sha256_fingerprint() const { return fingerprint_; }

    std::string pem() const;

private:
    Certificate(openssl::PkeyPtr key, openssl::X509Ptr cert, std::string fingerprint)
        : key_(std::move(key))
        , cert_(std::move(cert))
        , fingerprint_(std::move(fingerprint)) {}

    openssl::PkeyPtr key_;
    openssl::X509Ptr cert_;
    std::string fingerprint_;
};

// The RFC 8122 fingerprint text of any certificate (for checking the peer's later).
Result<std::string, std::string> sha256_fingerprint(X509* cert);

} // namespace wabridge

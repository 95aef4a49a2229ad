// The OpenSSL adapter: RAII owners for the handles we use, the error queue as text, and the
// version string. Everything else in the tree uses OpenSSL only through these types.
#pragma once

#include <memory>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string>

namespace wabridge::openssl {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* p) const { X509_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string last_error();

// e.g. "OpenSSL 3.0.19 27 Jan 2026"
std::string version();

// Fills `out` with cryptographically strong random bytes. A failing CSPRNG leaves the process
// unable to make safe credentials, so it aborts with a message rather than continue.
void random_bytes(void* out, size_t len);

} // namespace wabridge::openssl

#include "wabridge/crypto/openssl.hpp"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

namespace wabridge::openssl {

std::string last_error() {
    std::string out;
    while (unsigned long code = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

std::string version() {
    return OpenSSL_version(OPENSSL_VERSION);
}

void random_bytes(void* out, size_t len) {
    auto* p = static_cast<unsigned char*>(out);
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : static_cast<int>(len);
        if (RAND_bytes(p, chunk) != 1) {
            std::fprintf(stderr, "wabridge: RAND_bytes failed: %s\n", last_error().c_str());
            std::abort();
        }
        p += chunk;
        len -= static_cast<size_t>(chunk);
    }
}

} // namespace wabridge::openssl

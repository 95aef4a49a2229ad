#include "wabridge/crypto/certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

namespace wabridge {

namespace {
Err<std::string> fail(std::string what) {
    return err(what + ": " + openssl::last_error());
}
} // namespace

Result<std::string, std::string> sha256_fingerprint(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32) return fail("X509_digest");
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(len * 3);
    for (unsigned int i = 0; i < len; ++i) {
        if (i) out += ':';
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

Result<Certificate, std::string> Certificate::generate(std::string_view common_name,
                                                       std::chrono::hours lifetime) {
    openssl::PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key) return fail("EC P-256 key generation");

    openssl::X509Ptr cert(X509_new());
    if (!cert) return fail("X509_new");
    if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return fail("X509_set_version");

    // A random positive 64-bit serial (RFC 5280 §4.1.2.2 asks for unique, positive serials).
    uint64_t serial = 0;
    openssl::random_bytes(&serial, sizeof serial);
    serial >>= 1;
    ASN1_INTEGER* sn = X509_get_serialNumber(cert.get());
    if (ASN1_INTEGER_set_uint64(sn, serial) != 1) return fail("serial");

    const long day = 24 * 3600;
    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -day) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                         std::chrono::duration_cast<std::chrono::seconds>(lifetime).count())) {
        return fail("validity");
    }
    X509_NAME* name = X509_get_subject_name(cert.get());
    std::string cn(common_name);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(cert.get(), name) != 1) {
        return fail("subject");
    }
    if (X509_set_pubkey(cert.get(), key.get()) != 1) return fail("X509_set_pubkey");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return fail("X509_sign");

    auto fp = wabridge::sha256_fingerprint(cert.get());
    if (!fp) return err(fp.error());
    return Certificate(std::move(key), std::move(cert), std::move(fp.value()));
}

std::string Certificate::pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_X509(bio.get(), cert_.get()) != 1) return {};
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
}

} // namespace wabridge

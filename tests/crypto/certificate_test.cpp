#include "wabridge/crypto/certificate.hpp"

#include <cctype>
#include <chrono>
#include <gtest/gtest.h>
#include <memory>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string>
#include <vector>

namespace wabridge {
namespace {

Certificate make_certificate(std::string_view cn = "wabridge",
                             std::chrono::hours lifetime = std::chrono::hours(24 * 365)) {
    auto cert = Certificate::generate(cn, lifetime);
    if (!cert) ADD_FAILURE() << "Certificate::generate failed: " << cert.error();
    return std::move(cert.value());
}

// SHA-256 over the DER encoding, formatted independently of the code under test.
std::string independent_fingerprint(X509* cert) {
    unsigned char* der = nullptr;
    int der_len = i2d_X509(cert, &der);
    EXPECT_GT(der_len, 0);
    if (der_len <= 0) return {};
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(
        der, [](unsigned char* p) { OPENSSL_free(p); });
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EXPECT_EQ(EVP_Digest(der, static_cast<size_t>(der_len), md, &md_len, EVP_sha256(), nullptr), 1);
    EXPECT_EQ(md_len, 32u);
    std::string out;
    char buf[4];
    for (unsigned int i = 0; i < md_len; ++i) {
        std::snprintf(buf, sizeof buf, "%02X", md[i]);
        if (i > 0) out += ':';
        out += buf;
    }
    return out;
}

// Seconds from now until `t` (negative when `t` is in the past).
long long seconds_from_now(const ASN1_TIME* t) {
    int days = 0, secs = 0;
    EXPECT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, t), 1);
    return static_cast<long long>(days) * 86400 + secs;
}

std::string serial_hex(X509* cert) {
    std::unique_ptr<BIGNUM, void (*)(BIGNUM*)> bn(
        ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr), BN_free);
    if (!bn) return {};
    char* hex = BN_bn2hex(bn.get());
    std::string out = hex ? hex : "";
    OPENSSL_free(hex);
    return out;
}

TEST(Certificate, KeyIsEcP256) {
    Certificate cert = make_certificate();
    ASSERT_NE(cert.key(), nullptr);
    ASSERT_NE(cert.x509(), nullptr);
    EXPECT_EQ(EVP_PKEY_get_base_id(cert.key()), EVP_PKEY_EC);
    EXPECT_EQ(EVP_PKEY_get_bits(cert.key()), 256);
    char group[64] = {};
    size_t group_len = 0;
    ASSERT_EQ(EVP_PKEY_get_group_name(cert.key(), group, sizeof group, &group_len), 1);
    EXPECT_STREQ(group, "prime256v1");

    // The certificate carries the same public key.
    EVP_PKEY* pub = X509_get0_pubkey(cert.x509());
    ASSERT_NE(pub, nullptr);
    EXPECT_EQ(EVP_PKEY_eq(pub, cert.key()), 1);
}

TEST(Certificate, SelfSignedWithSha256Ecdsa) {
    Certificate cert = make_certificate("bridge-test");
    EXPECT_EQ(X509_verify(cert.x509(), X509_get0_pubkey(cert.x509())), 1);
    EXPECT_EQ(X509_get_signature_nid(cert.x509()), NID_ecdsa_with_SHA256);
    EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.x509()), X509_get_issuer_name(cert.x509())),
              0);
    char cn[64] = {};
    ASSERT_GT(X509_NAME_get_text_by_NID(X509_get_subject_name(cert.x509()), NID_commonName, cn,
                                        sizeof cn),
              0);
    EXPECT_STREQ(cn, "bridge-test");
    EXPECT_EQ(X509_get_version(cert.x509()), X509_VERSION_3);

    // A different key must not verify it.
    Certificate other = make_certificate();
    EXPECT_NE(X509_verify(cert.x509(), other.key()), 1);
}

TEST(Certificate, DefaultValidityIsOneYearStartingInThePast) {
    Certificate cert = make_certificate();
    long long not_before = seconds_from_now(X509_get0_notBefore(cert.x509()));
    long long not_after = seconds_from_now(X509_get0_notAfter(cert.x509()));
    EXPECT_LT(not_before, 0);
    EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.x509())), 0);
    EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert.x509())), 0);
    const long long year = 365LL * 86400;
    EXPECT_GE(not_after, year - 86400);
    EXPECT_LE(not_after, year + 86400);
}

TEST(Certificate, CustomLifetime) {
    Certificate cert = make_certificate("short", std::chrono::hours(48));
    long long not_after = seconds_from_now(X509_get0_notAfter(cert.x509()));
    EXPECT_GE(not_after, 48LL * 3600 - 120);
    EXPECT_LE(not_after, 48LL * 3600 + 120);
    EXPECT_LT(seconds_from_now(X509_get0_notBefore(cert.x509())), 0);
}

TEST(Certificate, FingerprintFormat) {
    Certificate cert = make_certificate();
    const std::string& fp = cert.sha256_fingerprint();
    ASSERT_EQ(fp.size(), 32u * 3 - 1);
    for (size_t i = 0; i < fp.size(); ++i) {
        if (i % 3 == 2) {
            EXPECT_EQ(fp[i], ':') << "at " << i << " in " << fp;
        } else {
            bool upper_hex = (fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'A' && fp[i] <= 'F');
            EXPECT_TRUE(upper_hex) << "at " << i << " in " << fp;
        }
    }
}

TEST(Certificate, FingerprintMatchesIndependentDigest) {
    Certificate cert = make_certificate();
    EXPECT_EQ(cert.sha256_fingerprint(), independent_fingerprint(cert.x509()));
    auto free_fp = sha256_fingerprint(cert.x509());
    ASSERT_TRUE(free_fp.ok()) << free_fp.error();
    EXPECT_EQ(free_fp.value(), cert.sha256_fingerprint());
}

TEST(Certificate, TwoCertificatesDiffer) {
    Certificate a = make_certificate();
    Certificate b = make_certificate();
    EXPECT_NE(a.sha256_fingerprint(), b.sha256_fingerprint());
    std::string sa = serial_hex(a.x509());
    std::string sb = serial_hex(b.x509());
    ASSERT_FALSE(sa.empty());
    ASSERT_FALSE(sb.empty());
    EXPECT_NE(sa, sb);
    EXPECT_NE(ASN1_INTEGER_cmp(X509_get_serialNumber(a.x509()), X509_get_serialNumber(b.x509())),
              0);
    EXPECT_NE(EVP_PKEY_eq(a.key(), b.key()), 1);
}

TEST(Certificate, SerialIsPositive) {
    for (int i = 0; i < 8; ++i) {
        Certificate cert = make_certificate();
        std::unique_ptr<BIGNUM, void (*)(BIGNUM*)> bn(
            ASN1_INTEGER_to_BN(X509_get_serialNumber(cert.x509()), nullptr), BN_free);
        ASSERT_TRUE(bn);
        EXPECT_FALSE(BN_is_negative(bn.get()));
        EXPECT_LE(BN_num_bits(bn.get()), 63);
    }
}

TEST(Certificate, PemRoundTrip) {
    Certificate cert = make_certificate();
    std::string pem = cert.pem();
    ASSERT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u) << pem;
    const std::string end = "-----END CERTIFICATE-----\n";
    ASSERT_GE(pem.size(), end.size());
    EXPECT_EQ(pem.substr(pem.size() - end.size()), end);

    std::unique_ptr<BIO, int (*)(BIO*)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    ASSERT_TRUE(bio);
    openssl::X509Ptr parsed(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(parsed) << openssl::last_error();
    EXPECT_EQ(X509_cmp(parsed.get(), cert.x509()), 0);
    EXPECT_EQ(independent_fingerprint(parsed.get()), cert.sha256_fingerprint());
    auto fp = sha256_fingerprint(parsed.get());
    ASSERT_TRUE(fp.ok()) << fp.error();
    EXPECT_EQ(fp.value(), cert.sha256_fingerprint());
}

TEST(Certificate, FreeFingerprintOfUnrelatedCertificateDiffers) {
    Certificate a = make_certificate();
    Certificate b = make_certificate();
    auto fa = sha256_fingerprint(a.x509());
    auto fb = sha256_fingerprint(b.x509());
    ASSERT_TRUE(fa.ok());
    ASSERT_TRUE(fb.ok());
    EXPECT_EQ(fa.value(), independent_fingerprint(a.x509()));
    EXPECT_EQ(fb.value(), independent_fingerprint(b.x509()));
    EXPECT_NE(fa.value(), fb.value());
}

} // namespace
} // namespace wabridge

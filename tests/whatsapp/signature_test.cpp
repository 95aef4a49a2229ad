// HMAC-SHA256 webhook signatures (whatsapp-calling.md §2.2): RFC 4231 known answers, the
// header grammar ("sha256=" + 64 hex digits), constant-time comparison outcomes, and the
// empty-secret rule (never verifies).
#include "support/test_data.hpp"
#include "wabridge/whatsapp/signature.hpp"

#include <gtest/gtest.h>
#include <string>

namespace wabridge::whatsapp {
namespace {

std::string upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

TEST(Signature, Rfc4231KnownAnswers) {
    // RFC 4231 §4.3, test case 2: key "Jefe".
    EXPECT_EQ(sign_sha256("what do ya want for nothing?", "Jefe"),
              "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // RFC 4231 §4.2, test case 1: key 20 x 0x0b.
    EXPECT_EQ(sign_sha256("Hi There", std::string(20, '\x0b')),
              "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // RFC 4231 §4.4, test case 3: key 20 x 0xaa, data 50 x 0xdd.
    EXPECT_EQ(sign_sha256(std::string(50, '\xdd'), std::string(20, '\xaa')),
              "sha256=773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    // RFC 4231 §4.7, test case 6: a key longer than the block size (131 x 0xaa) is hashed.
    EXPECT_EQ(sign_sha256("Test Using Larger Than Block-Size Key - Hash Key First",
                          std::string(131, '\xaa')),
              "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    // Empty key, empty message (the well-known value; still computed, never verified).
    EXPECT_EQ(sign_sha256("", ""),
              "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Signature, SignatureIsLowercaseHexOfFixedLength) {
    const std::string s = sign_sha256("body", "secret");
    ASSERT_EQ(s.size(), 71u);
    EXPECT_EQ(s.substr(0, 7), "sha256=");
    for (char c : s.substr(7))
        EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << s;
}

TEST(Signature, VerifiesTheRawBodyOfARealPayload) {
    const std::string body = test::read_data("whatsapp/connect-user-initiated.json");
    ASSERT_FALSE(body.empty());
    const std::string secret = "0f3c5c1ad5e54b7e9a6a3b1c2d4e5f60"; // an App Secret's shape
    const std::string header = sign_sha256(body, secret);
    EXPECT_EQ(verify_sha256(&header, body, secret), SignatureCheck::ok);
    // Upper-case hex digits are accepted too.
    const std::string upper_header = "sha256=" + upper(header.substr(7));
    EXPECT_EQ(verify_sha256(&upper_header, body, secret), SignatureCheck::ok);
    // The same JSON re-serialised (one whitespace byte less) is another body: §2.2 says never
    // re-serialise before hashing.
    std::string reformatted = body;
    reformatted.erase(reformatted.find("\n  "), 1);
    EXPECT_EQ(verify_sha256(&header, reformatted, secret), SignatureCheck::mismatch);
    // Another secret (e.g. the verify token or the access token by mistake).
    EXPECT_EQ(verify_sha256(&header, body, "the-verify-token"), SignatureCheck::mismatch);
}

TEST(Signature, MissingHeader) {
    const std::string empty;
    EXPECT_EQ(verify_sha256(nullptr, "{}", "secret"), SignatureCheck::missing);
    EXPECT_EQ(verify_sha256(&empty, "{}", "secret"), SignatureCheck::missing);
}

TEST(Signature, MalformedHeaders) {
    const std::string good = sign_sha256("{}", "secret");
    const std::string hex = good.substr(7);
    const std::string cases[] = {
        "sha1=" + hex,                       // wrong algorithm
        "SHA256=" + hex,                     // prefix is case-sensitive
        "sha256:" + hex,                     // wrong separator
        hex,                                 // no prefix at all
        "sha256=",                           // no digits
        "sha256=" + hex.substr(1),           // 63 digits
        "sha256=" + hex + "0",               // 65 digits
        "sha256=" + hex.substr(2),           // 62 digits (31 octets)
        "sha256=" + hex.substr(0, 63) + "g", // non-hex
        "sha256=" + hex.substr(0, 63) + " ", // trailing space in place of a digit
        " sha256=" + hex.substr(1),          // leading space
        "sha256= " + hex.substr(1),          // space after '='
        "sha256=" + hex + ",sha256=" + hex,  // two values
        "sha256=" + std::string(64, 'x'),
        std::string("sha256=") + std::string(63, '0') + '\0',
    };
    for (const std::string& h : cases)
        EXPECT_EQ(verify_sha256(&h, "{}", "secret"), SignatureCheck::malformed) << h;
}

TEST(Signature, Mismatches) {
    const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
    std::string header = sign_sha256(body, "secret");
    // Every single flipped digit is detected, wherever it is.
    for (size_t i = 7; i < header.size(); ++i) {
        std::string h = header;
        h[i] = h[i] == '0' ? '1' : '0';
        EXPECT_EQ(verify_sha256(&h, body, "secret"), SignatureCheck::mismatch) << i;
    }
    const std::string zeros = "sha256=" + std::string(64, '0');
    EXPECT_EQ(verify_sha256(&zeros, body, "secret"), SignatureCheck::mismatch);
    EXPECT_EQ(verify_sha256(&header, body + " ", "secret"), SignatureCheck::mismatch);
    EXPECT_EQ(verify_sha256(&header, body, "secreT"), SignatureCheck::mismatch);
    EXPECT_EQ(verify_sha256(&header, body, "secret"), SignatureCheck::ok);
}

TEST(Signature, EmptySecretNeverVerifies) {
    const std::string body = "{}";
    const std::string signed_with_empty = sign_sha256(body, "");
    EXPECT_EQ(verify_sha256(&signed_with_empty, body, ""), SignatureCheck::mismatch);
    const std::string other = sign_sha256(body, "secret");
    EXPECT_EQ(verify_sha256(&other, body, ""), SignatureCheck::mismatch);
    // Format problems are still reported as such.
    const std::string bad = "sha256=xyz";
    EXPECT_EQ(verify_sha256(&bad, body, ""), SignatureCheck::malformed);
    EXPECT_EQ(verify_sha256(nullptr, body, ""), SignatureCheck::missing);
}

TEST(Signature, BinaryBodiesAndSecrets) {
    const std::string body("a\0b\xff", 4);
    const std::string secret("k\0y", 3);
    const std::string h = sign_sha256(body, secret);
    EXPECT_EQ(verify_sha256(&h, body, secret), SignatureCheck::ok);
    EXPECT_EQ(verify_sha256(&h, std::string_view(body).substr(0, 3), secret),
              SignatureCheck::mismatch);
    EXPECT_EQ(verify_sha256(&h, body, "k"), SignatureCheck::mismatch);
    const std::string empty_body = sign_sha256("", "secret");
    EXPECT_EQ(verify_sha256(&empty_body, "", "secret"), SignatureCheck::ok);
}

TEST(Signature, Names) {
    EXPECT_EQ(to_string(SignatureCheck::ok), "ok");
    EXPECT_EQ(to_string(SignatureCheck::missing), "missing");
    EXPECT_EQ(to_string(SignatureCheck::malformed), "malformed");
    EXPECT_EQ(to_string(SignatureCheck::mismatch), "mismatch");
}

} // namespace
} // namespace wabridge::whatsapp

// Base64 codec: the RFC 4648 §10 test vectors, the padding and alphabet rules of §3, and a
// comparison with OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock over every length up to 300.
#include "wabridge/ai/base64.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <string>
#include <vector>

namespace wabridge::ai {
namespace {

std::vector<uint8_t> bytes_of(std::string_view s) {
    return std::vector<uint8_t>(s.begin(), s.end());
}

std::string decode_or(std::string_view text, std::string_view fallback = "<error>") {
    std::vector<uint8_t> out;
    auto r = base64_decode(text, out);
    if (!r) return std::string(fallback);
    EXPECT_EQ(r.value(), out.size());
    return std::string(out.begin(), out.end());
}

TEST(Base64, Rfc4648Section10Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(bytes_of(plain)), encoded) << plain;
        EXPECT_EQ(decode_or(encoded), plain) << encoded;
        EXPECT_EQ(base64_encoded_size(std::string_view(plain).size()),
                  std::string_view(encoded).size());
    }
}

TEST(Base64, AllOctetsAndTheTwoLastCharacters) {
    std::vector<uint8_t> all(256);
    for (int i = 0; i < 256; ++i)
        all[i] = static_cast<uint8_t>(i);
    const std::string enc = base64_encode(all);
    EXPECT_EQ(enc.substr(0, 8), "AAECAwQF");
    EXPECT_EQ(enc.substr(enc.size() - 8), "/P3+/w==");
    std::vector<uint8_t> back;
    ASSERT_TRUE(base64_decode(enc, back).ok());
    EXPECT_EQ(back, all);
    EXPECT_EQ(base64_encode(std::vector<uint8_t>{0xFB, 0xFF}), "+/8=");
}

TEST(Base64, UnpaddedInputIsAcceptedLeniently) {
    EXPECT_EQ(decode_or("Zg"), "f");
    EXPECT_EQ(decode_or("Zm8"), "fo");
    EXPECT_EQ(decode_or("Zm9vYg"), "foob");
}

TEST(Base64, RejectsBadPaddingAlphabetAndLength) {
    for (const char* bad : {"Z", "Zm9vY", "Zg=", "Zg===", "Z===", "====", "=", "Zm9v=", "Zg==Zg==",
                            "Zm=v", "Zm9 v", "Zm9v\n", "Zm9-", "Zm9_", "Zm9v\xC3\xA9"}) {
        std::vector<uint8_t> out{1, 2, 3};
        EXPECT_FALSE(base64_decode(bad, out).ok()) << bad;
        EXPECT_EQ(out, (std::vector<uint8_t>{1, 2, 3})) << "left as it was: " << bad;
    }
    std::vector<uint8_t> out;
    EXPECT_FALSE(base64_decode(std::string_view("Zm\0v", 4), out).ok());
}

TEST(Base64, AppendsToExistingOutput) {
    std::string text = "prefix:";
    base64_encode(bytes_of("foo"), text);
    EXPECT_EQ(text, "prefix:Zm9v");
    std::vector<uint8_t> out{9};
    auto r = base64_decode("Zm9v", out);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), 3u);
    EXPECT_EQ(out, (std::vector<uint8_t>{9, 'f', 'o', 'o'}));
}

TEST(Base64, MatchesOpenSslForEveryLengthUpTo300) {
    uint32_t x = 12345;
    for (size_t n = 0; n <= 300; ++n) {
        std::vector<uint8_t> data(n);
        for (auto& b : data) {
            x = x * 1103515245u + 12345u;
            b = static_cast<uint8_t>(x >> 16);
        }
        std::string ref(base64_encoded_size(n) + 1, '\0');
        const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(ref.data()), data.data(),
                                        static_cast<int>(n));
        ref.resize(static_cast<size_t>(len));
        const std::string ours = base64_encode(data);
        ASSERT_EQ(ours, ref) << n;
        std::vector<uint8_t> back;
        ASSERT_TRUE(base64_decode(ours, back).ok()) << n;
        ASSERT_EQ(back, data) << n;
    }
}

} // namespace
} // namespace wabridge::ai

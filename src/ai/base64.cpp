// Base64 codec, RFC 4648 §4 (standard alphabet, '=' padding).
#include "wabridge/ai/base64.hpp"

#include <array>

namespace wabridge::ai {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_reverse() {
    std::array<uint8_t, 256> table{};
    for (auto& v : table)
        v = kInvalid;
    for (uint8_t i = 0; i < 64; ++i)
        table[static_cast<uint8_t>(kAlphabet[i])] = i;
    return table;
}
constexpr std::array<uint8_t, 256> kReverse = make_reverse();

} // namespace

void base64_encode(std::span<const uint8_t> bytes, std::string& out) {
    const size_t start = out.size();
    out.resize(start + base64_encoded_size(bytes.size()));
    char* dst = out.data() + start;
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = static_cast<uint32_t>(bytes[i]) << 16 |
                           static_cast<uint32_t>(bytes[i + 1]) << 8 | bytes[i + 2];
        *dst++ = kAlphabet[v >> 18];
        *dst++ = kAlphabet[(v >> 12) & 63];
        *dst++ = kAlphabet[(v >> 6) & 63];
        *dst++ = kAlphabet[v & 63];
    }
    const size_t rest = bytes.size() - i;
    if (rest == 0) return;
    // §4: a final quantum of 8 bits gives two characters and "==", 16 bits three and "=".
    uint32_t v = static_cast<uint32_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    *dst++ = kAlphabet[v >> 18];
    *dst++ = kAlphabet[(v >> 12) & 63];
    *dst++ = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    *dst++ = '=';
}

std::string base64_encode(std::span<const uint8_t> bytes) {
    std::string out;
    base64_encode(bytes, out);
    return out;
}

Result<size_t, std::string> base64_decode(std::string_view text, std::vector<uint8_t>& out) {
    // Strip up to two pad characters; they may only close the text.
    size_t len = text.size();
    size_t pads = 0;
    while (len > 0 && text[len - 1] == '=' && pads < 2) {
        --len;
        ++pads;
    }
    if (pads > 0 && text.size() % 4 != 0) return err(std::string("base64: bad padding"));
    const size_t tail = len % 4; // sextets in the final partial quantum
    if (tail == 1) return err(std::string("base64: truncated quantum"));
    if (pads > 0 && pads != 4 - tail) return err(std::string("base64: bad padding"));

    const size_t start = out.size();
    out.resize(start + len / 4 * 3 + (tail == 0 ? 0 : tail - 1));
    uint8_t* dst = out.data() + start;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        const uint8_t a = kReverse[static_cast<uint8_t>(text[i])];
        const uint8_t b = kReverse[static_cast<uint8_t>(text[i + 1])];
        const uint8_t c = kReverse[static_cast<uint8_t>(text[i + 2])];
        const uint8_t d = kReverse[static_cast<uint8_t>(text[i + 3])];
        if ((a | b | c | d) & 0x80) { // kInvalid has the top bit; sextets never do
            out.resize(start);
            return err(std::string("base64: invalid character"));
        }
        const uint32_t v = static_cast<uint32_t>(a) << 18 | static_cast<uint32_t>(b) << 12 |
                           static_cast<uint32_t>(c) << 6 | d;
        *dst++ = static_cast<uint8_t>(v >> 16);
        *dst++ = static_cast<uint8_t>(v >> 8);
        *dst++ = static_cast<uint8_t>(v);
    }
    if (tail > 0) {
        uint32_t v = 0;
        for (size_t k = 0; k < tail; ++k) {
            const uint8_t s = kReverse[static_cast<uint8_t>(text[i + k])];
            if (s == kInvalid) {
                out.resize(start);
                return err(std::string("base64: invalid character"));
            }
            v |= static_cast<uint32_t>(s) << (18 - 6 * k);
        }
        *dst++ = static_cast<uint8_t>(v >> 16);
        if (tail == 3) *dst++ = static_cast<uint8_t>(v >> 8);
    }
    return out.size() - start;
}

} // namespace wabridge::ai

// Base64 (RFC 4648 §4, the standard alphabet with '=' padding), as the OpenAI Realtime API
// carries audio inside JSON strings: input_audio_buffer.append.audio going up,
// response.output_audio.delta.delta coming down.
#pragma once

#include "wabridge/util/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::ai {

// Length of the padded encoding of `n` octets.
constexpr size_t base64_encoded_size(size_t n) {
    return (n + 2) / 3 * 4;
}

// Appends the padded encoding of `bytes` to `out`.
void base64_encode(std::span<const uint8_t> bytes, std::string& out);
std::string base64_encode(std::span<const uint8_t> bytes);

// Decodes `text`, appending the octets to `out`. Accepts the padded form and, leniently, the
// unpadded one (RFC 4648 §3.2); rejects any character outside the alphabet (whitespace
// included, §3.3), misplaced or excess padding, and a length that leaves a lone sextet.
// Non-zero bits in a final partial quantum are ignored (§3.5 lets a decoder accept them).
// On error `out` is left as it was.
Result<size_t, std::string> base64_decode(std::string_view text, std::vector<uint8_t>& out);

} // namespace wabridge::ai

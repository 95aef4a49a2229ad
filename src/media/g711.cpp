// ITU-T G.711 μ-law and A-law, from the segment definitions (see g711.hpp).
#include "wabridge/media/g711.hpp"

#include <algorithm>
#include <bit>

namespace wabridge::media {

namespace {

// μ-law in the int16 domain is the 14-bit law scaled by 4: the bias of 33 becomes 132.
// Magnitudes clip at 32635 so that magnitude + bias (at most 32767) stays inside segment 7.
constexpr int kUlawBias = 132;
constexpr int kUlawClip = 32635;

// Index of the highest set bit (value > 0).
int top_bit(unsigned value) {
    return std::bit_width(value) - 1;
}

// ~x for negatives: the magnitude the mirrored positive quantiser sees (0..32767).
int folded_magnitude(int16_t sample) {
    return sample >= 0 ? sample : ~static_cast<int>(sample);
}

} // namespace

// G.711 Table 2 (μ-law): with the bias added, segment s covers biased magnitudes
// [128 << s, 256 << s); the mantissa is the 4 bits below the leading one.
uint8_t linear_to_ulaw(int16_t sample) {
    const int sign = sample < 0 ? 0x80 : 0x00;
    const int biased = std::min(folded_magnitude(sample), kUlawClip) + kUlawBias;
    const int segment = top_bit(static_cast<unsigned>(biased)) - 7; // 0..7
    const int mantissa = (biased >> (segment + 3)) & 0x0F;
    return static_cast<uint8_t>(~(sign | (segment << 4) | mantissa));
}

// The decoder's value is the middle of the code's interval: (mantissa + 16.5) * 8 << segment,
// minus the bias.
int16_t ulaw_to_linear(uint8_t code) {
    const int bits = static_cast<uint8_t>(~code);
    const int segment = (bits >> 4) & 0x07;
    const int mantissa = bits & 0x0F;
    const int magnitude = (((mantissa << 3) + kUlawBias) << segment) - kUlawBias;
    return static_cast<int16_t>((bits & 0x80) ? -magnitude : magnitude);
}

// G.711 Table 1 (A-law) on the 12-bit magnitude (the int16 magnitude >> 3): segment 0 is linear
// with step 2 over [0, 32); segment s >= 1 covers [16 << s, 32 << s) with step 1 << s.
uint8_t linear_to_alaw(int16_t sample) {
    const int sign = sample >= 0 ? 0x80 : 0x00;          // A-law: sign bit 1 is positive
    const int magnitude = folded_magnitude(sample) >> 3; // 0..4095
    int segment = 0;
    int mantissa = 0;
    if (magnitude < 32) {
        mantissa = magnitude >> 1;
    } else {
        segment = top_bit(static_cast<unsigned>(magnitude)) - 4; // 1..7
        mantissa = (magnitude >> segment) & 0x0F;
    }
    return static_cast<uint8_t>((sign | (segment << 4) | mantissa) ^ 0x55);
}

// The middle of the interval, back in the int16 domain (<< 3): segment 0 decodes to
// 2m + 1, segment s to (m + 16.5) << s, in 12-bit units.
int16_t alaw_to_linear(uint8_t code) {
    const int bits = code ^ 0x55;
    const int segment = (bits >> 4) & 0x07;
    const int mantissa = bits & 0x0F;
    int magnitude = 0;
    if (segment == 0)
        magnitude = (mantissa << 1) + 1;
    else
        magnitude = ((mantissa << 1) + 33) << (segment - 1);
    magnitude <<= 3;
    return static_cast<int16_t>((bits & 0x80) ? magnitude : -magnitude);
}

void encode_ulaw(std::span<const int16_t> in, std::span<uint8_t> out) {
    const size_t n = std::min(in.size(), out.size());
    for (size_t i = 0; i < n; ++i)
        out[i] = linear_to_ulaw(in[i]);
}

void decode_ulaw(std::span<const uint8_t> in, std::span<int16_t> out) {
    const size_t n = std::min(in.size(), out.size());
    for (size_t i = 0; i < n; ++i)
        out[i] = ulaw_to_linear(in[i]);
}

void encode_alaw(std::span<const int16_t> in, std::span<uint8_t> out) {
    const size_t n = std::min(in.size(), out.size());
    for (size_t i = 0; i < n; ++i)
        out[i] = linear_to_alaw(in[i]);
}

void decode_alaw(std::span<const uint8_t> in, std::span<int16_t> out) {
    const size_t n = std::min(in.size(), out.size());
    for (size_t i = 0; i < n; ++i)
        out[i] = alaw_to_linear(in[i]);
}

} // namespace wabridge::media

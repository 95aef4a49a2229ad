// ITU-T G.711 companding: 16-bit linear PCM <-> 8-bit μ-law (PCMU) and A-law (PCMA), one sample
// at a time, computed from the segment/mantissa definition (no lookup tables).
//
// Linear samples are the full int16 range. G.711 itself works on 14-bit (μ-law) and 13-bit
// (A-law) magnitudes; the low 2 (μ-law) / 3 (A-law) bits of an int16 are below the finest step
// and are quantised away. Negative inputs use the one's-complement magnitude (~x), as ITU-T
// G.191's reference does, so the negative half mirrors the positive half exactly and -32768
// needs no special case.
#pragma once

#include <cstdint>
#include <span>

namespace wabridge::media {

// μ-law (G.711 Table 2): sign, 3-bit segment, 4-bit mantissa, all bits inverted on the
// wire. 0xFF and 0x7F are +0 and -0; 0x80/0x00 are +/-32124. Inputs beyond +/-32635 clip to
// the largest code.
uint8_t linear_to_ulaw(int16_t sample);
int16_t ulaw_to_linear(uint8_t code);

// A-law (G.711 Table 1): sign (1 = positive), 3-bit segment, 4-bit mantissa, even bits
// inverted on the wire (XOR 0x55). 0xD5/0x55 are +/-8; 0xAA/0x2A are +/-32256.
uint8_t linear_to_alaw(int16_t sample);
int16_t alaw_to_linear(uint8_t code);

// Whole buffers: converts min(in.size(), out.size()) samples (callers size them equally).
void encode_ulaw(std::span<const int16_t> in, std::span<uint8_t> out);
void decode_ulaw(std::span<const uint8_t> in, std::span<int16_t> out);
void encode_alaw(std::span<const int16_t> in, std::span<uint8_t> out);
void decode_alaw(std::span<const uint8_t> in, std::span<int16_t> out);

} // namespace wabridge::media

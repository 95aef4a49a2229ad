// G.711 μ-law / A-law: the code points the standard fixes, the quantiser's error bound over the
// whole int16 range, idempotence, monotonicity and the SNR of a sine.
#include "wabridge/media/g711.hpp"

#include <cmath>
#include <cstdlib>
#include <gtest/gtest.h>
#include <vector>

namespace wabridge::media {
namespace {

// The codes of one law in order of increasing decoded value: most negative first.
std::vector<uint8_t> ulaw_codes_ascending() {
    std::vector<uint8_t> codes;
    // μ-law magnitude index i (segment << 4 | mantissa) is sent inverted: 0x7F - i is -i,
    // 0xFF - i is +i.
    for (int i = 127; i >= 0; --i)
        codes.push_back(static_cast<uint8_t>(0x7F - i));
    for (int i = 0; i <= 127; ++i)
        codes.push_back(static_cast<uint8_t>(0xFF - i));
    return codes;
}

std::vector<uint8_t> alaw_codes_ascending() {
    std::vector<uint8_t> codes;
    // A-law: sign bit 0 is negative, the even bits are inverted (XOR 0x55).
    for (int i = 127; i >= 0; --i)
        codes.push_back(static_cast<uint8_t>(i ^ 0x55));
    for (int i = 0; i <= 127; ++i)
        codes.push_back(static_cast<uint8_t>((0x80 | i) ^ 0x55));
    return codes;
}

// Half the quantisation step at a code's decoded value, in int16 units.
int ulaw_half_step(uint8_t code) {
    const int segment = (static_cast<uint8_t>(~code) >> 4) & 7;
    return 4 << segment;
}
int alaw_half_step(uint8_t code) {
    const int segment = ((code ^ 0x55) >> 4) & 7;
    return segment == 0 ? 8 : 4 << segment;
}

TEST(G711, UlawKnownCodePoints) {
    EXPECT_EQ(ulaw_to_linear(0xFF), 0);      // +0
    EXPECT_EQ(ulaw_to_linear(0x7F), 0);      // -0
    EXPECT_EQ(ulaw_to_linear(0x80), 32124);  // 8031 * 4, the largest positive value
    EXPECT_EQ(ulaw_to_linear(0x00), -32124); // ...and negative
    EXPECT_EQ(ulaw_to_linear(0xF0), 120);    // segment 0, mantissa 15: 30 in 14-bit units
    EXPECT_EQ(ulaw_to_linear(0xEF), 132);    // segment 1 starts at 33 in 14-bit units
    EXPECT_EQ(ulaw_to_linear(0xEE), 148);    // 37: segment 1 steps by 4
    EXPECT_EQ(ulaw_to_linear(0x6F), -132);

    EXPECT_EQ(linear_to_ulaw(0), 0xFF);
    EXPECT_EQ(linear_to_ulaw(-1), 0x7F); // -1 is below the finest step: -0
    EXPECT_EQ(linear_to_ulaw(32767), 0x80);
    EXPECT_EQ(linear_to_ulaw(-32768), 0x00);
    EXPECT_EQ(linear_to_ulaw(120), 0xF0);
    EXPECT_EQ(linear_to_ulaw(132), 0xEF);
    EXPECT_EQ(linear_to_ulaw(-132), 0x6F);
}

TEST(G711, AlawKnownCodePoints) {
    EXPECT_EQ(alaw_to_linear(0xD5), 8);
    EXPECT_EQ(alaw_to_linear(0x55), -8);
    EXPECT_EQ(alaw_to_linear(0xAA), 32256);
    EXPECT_EQ(alaw_to_linear(0x2A), -32256);
    EXPECT_EQ(alaw_to_linear(0xC5), 264); // segment 1 starts at 33 in 13-bit units
    EXPECT_EQ(alaw_to_linear(0xDA), 248); // segment 0, mantissa 15: 31
    EXPECT_EQ(alaw_to_linear(0x45), -264);

    EXPECT_EQ(linear_to_alaw(0), 0xD5);
    EXPECT_EQ(linear_to_alaw(-1), 0x55);
    EXPECT_EQ(linear_to_alaw(32767), 0xAA);
    EXPECT_EQ(linear_to_alaw(-32768), 0x2A);
    EXPECT_EQ(linear_to_alaw(264), 0xC5);
    EXPECT_EQ(linear_to_alaw(-264), 0x45);
}

TEST(G711, DecodeEncodeDecodeIsIdentityForAll256Codes) {
    for (int c = 0; c < 256; ++c) {
        const auto code = static_cast<uint8_t>(c);
        EXPECT_EQ(ulaw_to_linear(linear_to_ulaw(ulaw_to_linear(code))), ulaw_to_linear(code))
            << "u-law code " << c;
        EXPECT_EQ(alaw_to_linear(linear_to_alaw(alaw_to_linear(code))), alaw_to_linear(code))
            << "A-law code " << c;
        // A-law has no negative zero, so its codes round-trip exactly; μ-law's -0 becomes +0.
        EXPECT_EQ(linear_to_alaw(alaw_to_linear(code)), code) << "A-law code " << c;
        if (code != 0x7F) {
            EXPECT_EQ(linear_to_ulaw(ulaw_to_linear(code)), code) << "u-law code " << c;
        }
    }
}

TEST(G711, DecodedValuesIncreaseMonotonicallyAcrossSegments) {
    const auto ulaw = ulaw_codes_ascending();
    for (size_t i = 1; i < ulaw.size(); ++i) {
        const int previous = ulaw_to_linear(ulaw[i - 1]);
        const int current = ulaw_to_linear(ulaw[i]);
        if (ulaw[i - 1] == 0x7F) { // -0 then +0
            EXPECT_EQ(previous, current);
            continue;
        }
        EXPECT_LT(previous, current) << "u-law codes " << int(ulaw[i - 1]) << " " << int(ulaw[i]);
    }
    const auto alaw = alaw_codes_ascending();
    for (size_t i = 1; i < alaw.size(); ++i)
        EXPECT_LT(alaw_to_linear(alaw[i - 1]), alaw_to_linear(alaw[i]))
            << "A-law codes " << int(alaw[i - 1]) << " " << int(alaw[i]);
    // The steps double from one segment to the next (the mantissa is linear inside one).
    EXPECT_EQ(ulaw_to_linear(0xEE) - ulaw_to_linear(0xEF), 16);   // segment 1: 4 << 2
    EXPECT_EQ(ulaw_to_linear(0xDE) - ulaw_to_linear(0xDF), 32);   // segment 2
    EXPECT_EQ(ulaw_to_linear(0x80) - ulaw_to_linear(0x81), 1024); // segment 7
    EXPECT_EQ(alaw_to_linear(0xC4) - alaw_to_linear(0xC5), 16);   // A-law segment 1 (0x90 ^ 0x55)
    EXPECT_EQ(alaw_to_linear(0xAA) - alaw_to_linear(0xAB), 1024); // segment 7
}

// Every int16 lands in the interval whose middle is its decoded value: the error is at most half
// a step (μ-law saturates above 32635, the edge of its top interval).
TEST(G711, EveryInputQuantisesToItsNearestLevel) {
    for (int x = -32768; x <= 32767; ++x) {
        const auto sample = static_cast<int16_t>(x);
        const uint8_t u = linear_to_ulaw(sample);
        const int folded = x >= 0 ? x : -x - 1;
        if (folded <= 32635) {
            ASSERT_LE(std::abs(ulaw_to_linear(u) - x), ulaw_half_step(u)) << "u-law input " << x;
        } else {
            ASSERT_EQ(u, x > 0 ? 0x80 : 0x00) << "u-law clip " << x;
        }
        const uint8_t a = linear_to_alaw(sample);
        ASSERT_LE(std::abs(alaw_to_linear(a) - x), alaw_half_step(a)) << "A-law input " << x;
    }
}

double sine_snr_db(double dbfs, bool ulaw) {
    const double amplitude = 32768.0 * std::pow(10.0, dbfs / 20.0) * std::sqrt(2.0); // RMS dBFS
    std::vector<int16_t> in(8000);
    for (size_t i = 0; i < in.size(); ++i)
        in[i] =
            static_cast<int16_t>(std::lround(amplitude * std::sin(2 * M_PI * 1017.0 * i / 8000)));
    std::vector<uint8_t> coded(in.size());
    std::vector<int16_t> out(in.size());
    if (ulaw) {
        encode_ulaw(in, coded);
        decode_ulaw(coded, out);
    } else {
        encode_alaw(in, coded);
        decode_alaw(coded, out);
    }
    double signal = 0, noise = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        signal += double(in[i]) * in[i];
        noise += (double(out[i]) - in[i]) * (double(out[i]) - in[i]);
    }
    return 10 * std::log10(signal / noise);
}

TEST(G711, SineSnrAtMinus10dBFS) {
    // G.711's nominal SNR for a sine is about 38 dB over a wide range of levels.
    const double u = sine_snr_db(-10, true);
    const double a = sine_snr_db(-10, false);
    EXPECT_GE(u, 35.0);
    EXPECT_GE(a, 35.0);
    // ...and companding keeps it well above a 13/14-bit linear quantiser's at low levels.
    EXPECT_GE(sine_snr_db(-40, true), 30.0);
    EXPECT_GE(sine_snr_db(-40, false), 25.0);
    std::printf("[ G711     ] sine SNR at -10 dBFS: u-law %.1f dB, A-law %.1f dB; at -40 dBFS: "
                "u-law %.1f dB, A-law %.1f dB\n",
                u, a, sine_snr_db(-40, true), sine_snr_db(-40, false));
}

TEST(G711, BufferFunctionsConvertTheShorterLength) {
    const std::vector<int16_t> in = {0, -1, 32767, -32768, 264};
    std::vector<uint8_t> out(3, 0x11);
    encode_alaw(in, out);
    EXPECT_EQ(out, (std::vector<uint8_t>{0xD5, 0x55, 0xAA}));
    std::vector<int16_t> back(5, 7);
    decode_ulaw(std::vector<uint8_t>{0xFF, 0x00}, back);
    EXPECT_EQ(back, (std::vector<int16_t>{0, -32124, 7, 7, 7}));
}

} // namespace
} // namespace wabridge::media

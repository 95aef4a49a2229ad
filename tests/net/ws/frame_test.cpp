// RFC 6455 framing: the §5.7 examples both ways, lengths, fragmentation, the message cap, UTF-8
// validation, close frames and every protocol violation the decoder must catch.
#include "wabridge/net/ws/frame.hpp"

#include <gtest/gtest.h>

namespace wabridge::ws {
namespace {

std::string bytes(std::initializer_list<int> list) {
    std::string out;
    for (int b : list)
        out += static_cast<char>(b);
    return out;
}

// RFC 6455 §5.7.
const std::string kUnmaskedHello = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string kMaskedHello =
    bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
const std::string kHel = bytes({0x01, 0x03, 0x48, 0x65, 0x6c});
const std::string kLo = bytes({0x80, 0x02, 0x6c, 0x6f});
const std::string kPingHello = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string kMaskedPongHello =
    bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
const MaskKey kRfcMask = {0x37, 0xfa, 0x21, 0x3d};

std::string binary_payload(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>((i * 7 + 3) & 0xFF);
    return s;
}

// A server frame (unmasked) with the minimal length encoding.
std::string server_frame(int first_byte, std::string_view payload) {
    std::string out(1, static_cast<char>(first_byte));
    const size_t n = payload.size();
    if (n < 126) {
        out += static_cast<char>(n);
    } else if (n <= 0xFFFF) {
        out += bytes({126, static_cast<int>(n >> 8), static_cast<int>(n & 0xFF)});
    } else {
        out += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += static_cast<char>((uint64_t{n} >> shift) & 0xFF);
    }
    out.append(payload);
    return out;
}

std::vector<Message> decode_ok(const std::string& wire, size_t cap = kDefaultMaxMessageBytes) {
    Decoder d(cap);
    std::vector<Message> out;
    auto r = d.feed(wire, out);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return out;
}

DecodeError decode_error(const std::string& wire, size_t cap = kDefaultMaxMessageBytes) {
    Decoder d(cap);
    std::vector<Message> out;
    auto r = d.feed(wire, out);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return {};
    EXPECT_TRUE(d.failed());
    // Sticky.
    auto again = d.feed(kUnmaskedHello, out);
    EXPECT_FALSE(again.ok());
    return r.error();
}

TEST(WsFrame, Rfc57UnmaskedTextHello) {
    auto m = decode_ok(kUnmaskedHello);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].type, MessageType::text);
    EXPECT_EQ(m[0].data, "Hello");
}

TEST(WsFrame, Rfc57MaskedHelloIsWhatTheEncoderWrites) {
    std::string out;
    ASSERT_TRUE(append_frame(out, Opcode::text, true, "Hello", kRfcMask));
    EXPECT_EQ(out, kMaskedHello);
    // §5.1: the same bytes from a server are a protocol error.
    DecodeError e = decode_error(kMaskedHello);
    EXPECT_EQ(e.close_code, close_code::protocol_error);
    EXPECT_EQ(e.message, "masked frame from the server");
}

TEST(WsFrame, Rfc57FragmentedHello) {
    Decoder d;
    std::vector<Message> out;
    ASSERT_TRUE(d.feed(kHel, out).ok());
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(d.in_message());
    ASSERT_TRUE(d.feed(kLo, out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, MessageType::text);
    EXPECT_EQ(out[0].data, "Hello");
    EXPECT_FALSE(d.in_message());
    EXPECT_EQ(d.stats().frames, 2u);
    EXPECT_EQ(d.stats().messages, 1u);
}

TEST(WsFrame, Rfc57PingAndMaskedPong) {
    auto m = decode_ok(kPingHello);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].type, MessageType::ping);
    EXPECT_EQ(m[0].data, "Hello");
    std::string out;
    ASSERT_TRUE(append_frame(out, Opcode::pong, true, "Hello", kRfcMask));
    EXPECT_EQ(out, kMaskedPongHello);
}

TEST(WsFrame, Rfc57Binary256With16BitLength) {
    const std::string payload = binary_payload(256);
    const std::string wire = bytes({0x82, 0x7E, 0x01, 0x00}) + payload;
    auto m = decode_ok(wire);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].type, MessageType::binary);
    EXPECT_EQ(m[0].data, payload);
    // The encoder picks the same 16-bit form, masked.
    std::string out;
    ASSERT_TRUE(append_frame(out, Opcode::binary, true, payload, kRfcMask));
    ASSERT_EQ(out.size(), 4u + 4u + 256u);
    EXPECT_EQ(out.substr(0, 8), bytes({0x82, 0xFE, 0x01, 0x00, 0x37, 0xfa, 0x21, 0x3d}));
    std::string unmasked = out.substr(8);
    apply_mask(unmasked.data(), unmasked.size(), kRfcMask);
    EXPECT_EQ(unmasked, payload);
}

TEST(WsFrame, Rfc57Binary64KiBWith64BitLength) {
    const std::string payload = binary_payload(65536);
    const std::string wire =
        bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}) + payload;
    auto m = decode_ok(wire);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].data, payload);
    std::string out;
    ASSERT_TRUE(append_frame(out, Opcode::binary, true, payload, kRfcMask));
    EXPECT_EQ(out.substr(0, 14), bytes({0x82, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                                        0x37, 0xfa, 0x21, 0x3d}));
    // 65535 still fits the 16-bit form.
    std::string edge;
    ASSERT_TRUE(append_frame(edge, Opcode::binary, true, binary_payload(65535), kRfcMask));
    EXPECT_EQ(edge.substr(0, 4), bytes({0x82, 0xFE, 0xFF, 0xFF}));
    // 125 fits the 7-bit form, 126 does not.
    std::string small;
    ASSERT_TRUE(append_frame(small, Opcode::binary, false, binary_payload(125), kRfcMask));
    EXPECT_EQ(small.substr(0, 2), bytes({0x02, 0xFD}));
}

TEST(WsFrame, ByteAtATimeMatchesOneFeed) {
    const std::string wire = kUnmaskedHello + kHel + kPingHello + kLo +
                             bytes({0x82, 0x7E, 0x01, 0x00}) + binary_payload(256) +
                             server_frame(0x8A, "") + server_frame(0x81, "");
    const auto whole = decode_ok(wire);
    ASSERT_EQ(whole.size(), 6u);
    Decoder d;
    std::vector<Message> pieces;
    for (char c : wire)
        ASSERT_TRUE(d.feed(std::string_view(&c, 1), pieces).ok());
    ASSERT_EQ(pieces.size(), whole.size());
    const MessageType expected[] = {MessageType::text,   MessageType::ping, MessageType::text,
                                    MessageType::binary, MessageType::pong, MessageType::text};
    for (size_t i = 0; i < whole.size(); ++i) {
        EXPECT_EQ(pieces[i].type, expected[i]) << i;
        EXPECT_EQ(whole[i].type, expected[i]) << i;
        EXPECT_EQ(pieces[i].data, whole[i].data) << i;
    }
    // The ping between the fragments of "Hello" is delivered before the message it interrupted.
    EXPECT_EQ(pieces[1].data, "Hello");
    EXPECT_EQ(pieces[2].data, "Hello");
    EXPECT_EQ(pieces[5].data, "");
    EXPECT_EQ(d.stats().bytes, wire.size());
}

TEST(WsFrame, MessageCapAcrossFragmentsIs1009) {
    // Exactly the cap passes.
    EXPECT_EQ(decode_ok(server_frame(0x02, "12345") + server_frame(0x80, "67890"), 10)[0].data,
              "1234567890");
    // One byte more fails at the header of the fragment that would cross it.
    Decoder d(10);
    std::vector<Message> out;
    ASSERT_TRUE(d.feed(server_frame(0x02, "123456"), out).ok());
    auto r = d.feed(bytes({0x80, 0x05}), out); // header only: no payload byte was sent
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().close_code, close_code::message_too_big);
    EXPECT_EQ(r.error().message, "message exceeds 10 bytes");
    EXPECT_TRUE(out.empty());
}

TEST(WsFrame, HugeDeclaredLengthsFailBeforeAnyPayload) {
    // 2^40 bytes declared, well-formed, over the 16 MiB default cap: 1009 from the header alone.
    DecodeError big = decode_error(bytes({0x82, 0x7F, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0, 0}));
    EXPECT_EQ(big.close_code, close_code::message_too_big);
    // 16 MiB + 1.
    EXPECT_EQ(decode_error(bytes({0x82, 0x7F, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x01})).close_code,
              close_code::message_too_big);
    // The most significant bit of a 64-bit length must be 0 (§5.2).
    DecodeError msb = decode_error(bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(msb.close_code, close_code::protocol_error);
    EXPECT_EQ(msb.message, "64-bit payload length with the most significant bit set");
}

TEST(WsFrame, NonMinimalLengthsAreProtocolErrors) {
    for (const std::string& wire :
         {bytes({0x82, 0x7E, 0x00, 0x05}), bytes({0x82, 0x7E, 0x00, 0x7D}),
          bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0x00, 0xC8}),
          bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF})}) {
        DecodeError e = decode_error(wire);
        EXPECT_EQ(e.close_code, close_code::protocol_error);
        EXPECT_EQ(e.message, "payload length not minimally encoded");
    }
    // The smallest values of each form are accepted: 126 in 16 bits, 65536 in 64 bits.
    EXPECT_EQ(decode_ok(bytes({0x82, 0x7E, 0x00, 0x7E}) + binary_payload(126))[0].data.size(),
              126u);
}

TEST(WsFrame, ReservedBitsAndOpcodesAreProtocolErrors) {
    for (int rsv : {0x40, 0x20, 0x10}) {
        DecodeError e = decode_error(server_frame(0x81 | rsv, "x"));
        EXPECT_EQ(e.close_code, close_code::protocol_error);
        EXPECT_EQ(e.message, "reserved bits set without a negotiated extension");
    }
    for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        DecodeError e = decode_error(server_frame(0x80 | op, ""));
        EXPECT_EQ(e.close_code, close_code::protocol_error) << op;
        EXPECT_EQ(e.message, "reserved opcode " + std::to_string(op));
    }
}

TEST(WsFrame, ControlFrameRules) {
    EXPECT_EQ(decode_error(server_frame(0x09, "x")).message, "fragmented control frame");
    // A 126-byte ping (legal 16-bit encoding, illegal control size).
    EXPECT_EQ(decode_error(bytes({0x89, 0x7E, 0x00, 0x7E})).message,
              "control frame payload over 125 bytes");
    // 125 is the largest allowed.
    auto m = decode_ok(server_frame(0x89, std::string(125, 'p')));
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].data.size(), 125u);
    // The encoder refuses what the decoder would refuse.
    std::string out;
    EXPECT_FALSE(append_frame(out, Opcode::ping, true, std::string(126, 'p'), kRfcMask));
    EXPECT_FALSE(append_frame(out, Opcode::close, false, "", kRfcMask));
    EXPECT_TRUE(out.empty());
}

TEST(WsFrame, ContinuationRules) {
    EXPECT_EQ(decode_error(server_frame(0x80, "lo")).message,
              "continuation frame without a message");
    EXPECT_EQ(decode_error(kHel + kUnmaskedHello).message,
              "new data frame inside a fragmented message");
    EXPECT_EQ(decode_error(kHel + server_frame(0x02, "x")).message,
              "new data frame inside a fragmented message");
    // A finished message allows a new one; a zero-length final continuation ends it.
    auto m = decode_ok(kHel + server_frame(0x00, "lo") + server_frame(0x80, "") + kUnmaskedHello);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0].data, "Hello");
    EXPECT_EQ(m[1].data, "Hello");
}

TEST(WsFrame, InvalidUtf8TextIs1007) {
    for (const std::string& bad : {bytes({0xC0, 0x80}),             // overlong NUL
                                   bytes({0xE0, 0x80, 0xAF}),       // overlong '/'
                                   bytes({0xED, 0xA0, 0x80}),       // U+D800 surrogate
                                   bytes({0xF4, 0x90, 0x80, 0x80}), // U+110000
                                   bytes({0xF8, 0x88, 0x80, 0x80, 0x80}), bytes({0x80}),
                                   bytes({0xCE, 0xBA, 0xE1})}) { // truncated at the end
        DecodeError e = decode_error(server_frame(0x81, bad));
        EXPECT_EQ(e.close_code, close_code::invalid_payload);
        EXPECT_EQ(e.message, "invalid UTF-8 in a text message");
    }
    // Binary messages are not text.
    EXPECT_EQ(decode_ok(server_frame(0x82, bytes({0xC0, 0x80})))[0].data.size(), 2u);
}

TEST(WsFrame, Utf8SplitAcrossFragments) {
    // "κόσμε" with the fragment boundary inside the two-byte "ό" (CF 8C).
    const std::string kosme = "\xCE\xBA\xCF\x8C\xCF\x83\xCE\xBC\xCE\xB5";
    auto m =
        decode_ok(server_frame(0x01, kosme.substr(0, 3)) + server_frame(0x00, kosme.substr(3, 4)) +
                  server_frame(0x80, kosme.substr(7)));
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].data, kosme);
    // A four-byte emoji split 1+3.
    const std::string emoji = "\xF0\x9F\x98\x80";
    EXPECT_EQ(
        decode_ok(server_frame(0x01, emoji.substr(0, 1)) + server_frame(0x80, emoji.substr(1)))[0]
            .data,
        emoji);
    // Invalid bytes fail in the first fragment, before the message is complete.
    Decoder d;
    std::vector<Message> out;
    auto r = d.feed(server_frame(0x01, bytes({'o', 'k', 0xED, 0xBF})), out);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().close_code, close_code::invalid_payload);
    // A sequence left open by the final fragment fails.
    EXPECT_EQ(
        decode_error(server_frame(0x01, "a") + server_frame(0x80, bytes({0xF0, 0x9F}))).close_code,
        close_code::invalid_payload);
}

TEST(WsFrame, Utf8ValidatorTable) {
    struct Case {
        std::string s;
        bool valid;
    };
    const Case cases[] = {
        {"", true},
        {"plain ascii, longer than eight bytes", true},
        {bytes({0x7F}), true},
        {bytes({0xC2, 0x80}), true},              // U+0080
        {bytes({0xDF, 0xBF}), true},              // U+07FF
        {bytes({0xE0, 0xA0, 0x80}), true},        // U+0800
        {bytes({0xED, 0x9F, 0xBF}), true},        // U+D7FF
        {bytes({0xEE, 0x80, 0x80}), true},        // U+E000
        {bytes({0xEF, 0xBF, 0xBF}), true},        // U+FFFF
        {bytes({0xF0, 0x90, 0x80, 0x80}), true},  // U+10000
        {bytes({0xF4, 0x8F, 0xBF, 0xBF}), true},  // U+10FFFF
        {bytes({0xC1, 0xBF}), false},             // overlong
        {bytes({0xE0, 0x9F, 0xBF}), false},       // overlong
        {bytes({0xF0, 0x8F, 0xBF, 0xBF}), false}, // overlong
        {bytes({0xED, 0xBF, 0xBF}), false},       // U+DFFF
        {bytes({0xF4, 0x90, 0x80, 0x80}), false}, // above U+10FFFF
        {bytes({0xF5, 0x80, 0x80, 0x80}), false},
        {bytes({0xFF}), false},
        {bytes({0xC2}), false},                                       // truncated
        {bytes({0xC2, 0x41}), false},                                 // continuation missing
        {"abcdefgh" + bytes({0xE2, 0x82, 0xAC}) + "ijklmnopq", true}, // € after a word
    };
    for (const Case& c : cases) {
        EXPECT_EQ(is_valid_utf8(c.s), c.valid) << testing::PrintToString(c.s);
        // Byte by byte gives the same answer.
        Utf8Validator v;
        bool ok = true;
        for (char ch : c.s)
            ok = v.feed(std::string_view(&ch, 1)) && ok;
        EXPECT_EQ(ok && v.complete(), c.valid) << testing::PrintToString(c.s);
    }
}

TEST(WsFrame, CloseFrames) {
    auto m = decode_ok(server_frame(0x88, bytes({0x03, 0xE9}) + "going away"));
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].type, MessageType::close);
    EXPECT_EQ(m[0].close_code, 1001);
    EXPECT_EQ(m[0].data, "going away");
    auto empty = decode_ok(server_frame(0x88, ""));
    ASSERT_EQ(empty.size(), 1u);
    EXPECT_EQ(empty[0].close_code, close_code::no_status);
    EXPECT_EQ(decode_error(server_frame(0x88, bytes({0x03}))).message,
              "close frame with a 1-byte payload");
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
        DecodeError e = decode_error(server_frame(0x88, bytes({code >> 8, code & 0xFF})));
        EXPECT_EQ(e.close_code, close_code::protocol_error) << code;
        EXPECT_EQ(e.message, "invalid close code " + std::to_string(code));
    }
    for (int code : {1000, 1003, 1007, 1011, 1012, 1014, 3000, 4999}) {
        auto ok = decode_ok(server_frame(0x88, bytes({code >> 8, code & 0xFF})));
        ASSERT_EQ(ok.size(), 1u) << code;
        EXPECT_EQ(ok[0].close_code, code);
    }
    DecodeError bad_reason = decode_error(server_frame(0x88, bytes({0x03, 0xE8, 0xC0, 0xAF})));
    EXPECT_EQ(bad_reason.close_code, close_code::invalid_payload);
    EXPECT_EQ(bad_reason.message, "invalid UTF-8 in the close reason");
}

TEST(WsFrame, BytesAfterCloseAreIgnored) {
    Decoder d;
    std::vector<Message> out;
    const std::string tail = kUnmaskedHello + bytes({0xFF, 0xFF});
    ASSERT_TRUE(d.feed(server_frame(0x88, bytes({0x03, 0xE8})) + tail, out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(d.closed());
    EXPECT_EQ(d.stats().bytes_after_close, tail.size());
    ASSERT_TRUE(d.feed(kUnmaskedHello, out).ok());
    EXPECT_EQ(out.size(), 1u);
    EXPECT_EQ(d.stats().bytes_after_close, tail.size() + kUnmaskedHello.size());
}

TEST(WsFrame, ParseFrameHeaderNeedsAllBytes) {
    const std::string h = bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 1, 2, 3, 4});
    for (size_t n = 0; n < h.size(); ++n)
        EXPECT_FALSE(parse_frame_header(h.substr(0, n)).has_value()) << n;
    auto parsed = parse_frame_header(h);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(parsed->fin);
    EXPECT_EQ(parsed->opcode, 2);
    EXPECT_TRUE(parsed->masked);
    EXPECT_EQ(parsed->length_code, 127);
    EXPECT_EQ(parsed->payload_length, 65536u);
    EXPECT_EQ(parsed->mask, (MaskKey{1, 2, 3, 4}));
    EXPECT_EQ(parsed->header_size, 14u);
}

TEST(WsFrame, MaskingInPiecesEqualsMaskingWhole) {
    std::string whole = binary_payload(37);
    std::string pieces = whole;
    apply_mask(whole.data(), whole.size(), kRfcMask);
    apply_mask(pieces.data(), 5, kRfcMask, 0);
    apply_mask(pieces.data() + 5, 11, kRfcMask, 5);
    apply_mask(pieces.data() + 16, 21, kRfcMask, 16);
    EXPECT_EQ(pieces, whole);
    EXPECT_EQ(static_cast<uint8_t>(whole[0]), (3 ^ 0x37));
}

TEST(WsFrame, ClosePayloadCutsReasonOnACharacterBoundary) {
    EXPECT_EQ(close_payload(1000, "bye"), bytes({0x03, 0xE8}) + "bye");
    EXPECT_EQ(close_payload(0, "ignored"), "");
    // 61 two-byte characters = 122 bytes, then a 3-byte one would straddle byte 123.
    std::string reason;
    for (int i = 0; i < 61; ++i)
        reason += "\xC3\xA9"; // é
    reason += "\xE2\x82\xAC"; // €
    const std::string p = close_payload(4000, reason);
    EXPECT_EQ(p.size(), 2u + 122u);
    EXPECT_TRUE(is_valid_utf8(std::string_view(p).substr(2)));
    EXPECT_EQ(close_payload(1000, std::string(200, 'r')).size(), 125u);
}

} // namespace
} // namespace wabridge::ws

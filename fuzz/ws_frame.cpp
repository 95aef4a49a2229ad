// libFuzzer target for the WebSocket client without sockets: after a valid 101 the input is fed
// as server bytes, in chunks whose size the input chooses, to ws::Client in the open state, while
// the client itself sometimes sends text and starts a close. Checks: no crash or sanitizer
// report; every byte written is a well-formed masked client frame (RFC 6455 §5.2, §5.3) with
// legal control frames, at most one close and nothing after it; text events are valid UTF-8
// (checked by a decoder independent of the one under test); messages respect the cap; exactly
// one terminal event (Closed or Error) and nothing after it.
#include "wabridge/net/ws/client.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace wabridge;

[[noreturn]] void violated(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "ws_frame invariant violated: %s\n%s\n", what, detail.c_str());
    std::abort();
}

// UTF-8 by decoding each code point (RFC 3629 §3, §4), not by the validator's state machine.
bool utf8_by_code_points(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        size_t len;
        uint32_t cp;
        if (b < 0x80) {
            ++i;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2;
            cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3;
            cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4;
            cp = b & 0x07;
        } else {
            return false;
        }
        if (i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (c & 0x3F);
        }
        const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

struct OutputSummary {
    size_t pongs = 0;
    size_t closes = 0;
    size_t texts = 0;
};

// Reads the client's output as a sequence of client frames, with its own byte arithmetic.
OutputSummary check_output(std::string_view out) {
    OutputSummary summary;
    size_t pos = 0;
    while (pos < out.size()) {
        if (summary.closes > 0) violated("bytes after the client's close frame");
        if (out.size() - pos < 2) violated("truncated frame header");
        const auto b0 = static_cast<unsigned char>(out[pos]);
        const auto b1 = static_cast<unsigned char>(out[pos + 1]);
        if ((b0 & 0x80) == 0) violated("client frame without FIN (the client never fragments)");
        if (b0 & 0x70) violated("RSV bits set");
        const int opcode = b0 & 0x0F;
        if ((b1 & 0x80) == 0) violated("unmasked client frame");
        size_t header = 2;
        uint64_t length = b1 & 0x7F;
        if (length == 126) {
            if (out.size() - pos < 4) violated("truncated 16-bit length");
            length = (uint64_t{static_cast<unsigned char>(out[pos + 2])} << 8) |
                     static_cast<unsigned char>(out[pos + 3]);
            if (length < 126) violated("non-minimal 16-bit length");
            header = 4;
        } else if (length == 127) {
            if (out.size() - pos < 10) violated("truncated 64-bit length");
            length = 0;
            for (size_t k = 0; k < 8; ++k)
                length = (length << 8) | static_cast<unsigned char>(out[pos + 2 + k]);
            if (length <= 0xFFFF || (length >> 63)) violated("bad 64-bit length");
            header = 10;
        }
        if (out.size() - pos - header < 4) violated("truncated masking key");
        const std::string_view key = out.substr(pos + header, 4);
        header += 4;
        if (length > out.size() - pos - header) violated("frame runs past the output");
        std::string payload(out.substr(pos + header, static_cast<size_t>(length)));
        for (size_t k = 0; k < payload.size(); ++k)
            payload[k] = static_cast<char>(payload[k] ^ key[k % 4]);
        switch (opcode) {
        case 0x1:
            if (!utf8_by_code_points(payload)) violated("client text is not UTF-8");
            ++summary.texts;
            break;
        case 0x9:
        case 0xA:
            if (payload.size() > 125) violated("control payload over 125 bytes");
            if (opcode == 0xA) ++summary.pongs;
            break;
        case 0x8: {
            if (payload.size() > 125 || payload.size() == 1) violated("bad close payload size");
            if (payload.size() >= 2) {
                const int code = (static_cast<unsigned char>(payload[0]) << 8) |
                                 static_cast<unsigned char>(payload[1]);
                if (!ws::is_valid_close_code(static_cast<uint16_t>(code))) {
                    violated("close code not sendable", std::to_string(code));
                }
                if (!utf8_by_code_points(std::string_view(payload).substr(2))) {
                    violated("close reason is not UTF-8");
                }
            }
            ++summary.closes;
            break;
        }
        default:
            violated("unexpected client opcode", std::to_string(opcode));
        }
        pos += header + static_cast<size_t>(length);
    }
    return summary;
}

const std::string kSwitching = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                               "\r\n";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    // Byte 0: chunk size. Byte 1: bit 0 the client closes halfway, bit 1 it sends a text
    // message after each chunk, bit 2 a small message cap (exercises 1009).
    const size_t chunk = (data[0] % 64) + 1;
    const uint8_t flags = data[1];
    std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

    ws::ClientSettings settings;
    settings.max_message_bytes = (flags & 4) ? 100 : 64 * 1024;
    uint8_t next = 0;
    ws::Client client(
        [&next] {
            ws::MaskKey k;
            for (auto& b : k)
                b = next++;
            return k;
        },
        settings);

    ws::HandshakeRequest request;
    request.host = "fuzz.invalid";
    request.target = "/v1/realtime";
    std::array<uint8_t, 16> nonce{};
    const std::string_view sample = "the sample nonce"; // RFC 6455 §1.3
    for (size_t i = 0; i < nonce.size(); ++i)
        nonce[i] = static_cast<uint8_t>(sample[i]);
    auto handshake = ws::build_handshake(request, nonce);
    if (!handshake) violated("handshake did not build");
    if (!client.start(handshake.value())) violated("start refused");
    client.take_output();
    auto opened = client.on_bytes(kSwitching);
    if (opened.size() != 1 || !std::holds_alternative<ws::Opened>(opened[0])) {
        violated("the 101 did not open the connection");
    }

    std::vector<ws::Event> events;
    std::string out;
    bool client_closed = false;
    for (size_t pos = 0; pos < input.size(); pos += chunk) {
        auto e = client.on_bytes(input.substr(pos, chunk));
        events.insert(events.end(), std::make_move_iterator(e.begin()),
                      std::make_move_iterator(e.end()));
        if ((flags & 2) && client.state() == ws::State::open) {
            if (!client.send_text("{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAAA\"}")) {
                violated("send_text refused while open");
            }
        }
        if ((flags & 1) && !client_closed && pos >= input.size() / 2 &&
            client.state() == ws::State::open) {
            if (!client.close(ws::close_code::going_away, "fuzz \xC3\xA9nd")) {
                violated("close refused while open");
            }
            client_closed = true;
        }
        // Partial writes: consume some of the output, the rest on the next round.
        const std::string_view pending = client.output();
        const size_t written = pending.size() / 2 + 1;
        out.append(pending.substr(0, written));
        client.consume_output(written);
    }
    auto last = client.on_peer_closed();
    events.insert(events.end(), std::make_move_iterator(last.begin()),
                  std::make_move_iterator(last.end()));
    out += client.take_output();

    // Events: messages, then exactly one terminal event.
    size_t terminal = 0;
    bool peer_close_event = false;
    for (const ws::Event& e : events) {
        if (terminal > 0) violated("event after the terminal event");
        if (const auto* t = std::get_if<ws::TextMessage>(&e)) {
            if (!utf8_by_code_points(t->text)) violated("text event is not UTF-8");
            if (t->text.size() > settings.max_message_bytes) violated("text over the cap");
        } else if (const auto* b = std::get_if<ws::BinaryMessage>(&e)) {
            if (b->data.size() > settings.max_message_bytes) violated("binary over the cap");
        } else if (const auto* c = std::get_if<ws::Closed>(&e)) {
            ++terminal;
            if (!utf8_by_code_points(c->reason)) violated("close reason event is not UTF-8");
            peer_close_event = c->clean;
        } else if (const auto* err = std::get_if<ws::Error>(&e)) {
            ++terminal;
            if (err->kind != ws::ErrorKind::protocol) violated("non-protocol error after open");
            if (err->close_code != 1002 && err->close_code != 1007 && err->close_code != 1009) {
                violated("unexpected failure code", std::to_string(err->close_code));
            }
        } else {
            violated("a second Opened event");
        }
    }
    if (terminal != 1) violated("not exactly one terminal event");
    if (client.state() != ws::State::closed) violated("not closed after the peer went away");

    const OutputSummary summary = check_output(out);
    if (summary.pongs != client.stats().pongs_out) violated("pong count mismatch");
    // A clean close means both close frames went by: one of them is ours.
    if (peer_close_event && summary.closes != 1) violated("clean close without our close frame");
    if (client_closed && summary.closes != 1) violated("our close frame is missing");
    return 0;
}

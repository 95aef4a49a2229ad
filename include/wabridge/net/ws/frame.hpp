// RFC 6455 §5 framing for the client side: the encoder for client-to-server frames (always
// masked, §5.3), the decoder for server-to-client frames (never masked, §5.1) that reassembles
// fragmented messages (§5.4), and the UTF-8 validation text messages and close reasons need (§8.1).
// Sans-IO: bytes in, messages and bytes out; no length is trusted before it is checked.
#pragma once

#include "wabridge/util/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wabridge::ws {

// RFC 6455 §5.2 / §11.8.
enum class Opcode : uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// Close status codes (RFC 6455 §7.4.1, IANA "WebSocket Close Code Number Registry").
namespace close_code {
constexpr uint16_t normal = 1000;
constexpr uint16_t going_away = 1001;
constexpr uint16_t protocol_error = 1002;
constexpr uint16_t unsupported_data = 1003;
constexpr uint16_t no_status = 1005; // never on the wire: the close frame had no code
constexpr uint16_t abnormal = 1006;  // never on the wire: the connection dropped without close
constexpr uint16_t invalid_payload = 1007;
constexpr uint16_t policy_violation = 1008;
constexpr uint16_t message_too_big = 1009;
constexpr uint16_t internal_error = 1011;
} // namespace close_code

// Largest control frame payload (§5.5) and largest close reason (125 - 2 code bytes).
constexpr size_t kMaxControlPayload = 125;
constexpr size_t kMaxCloseReason = 123;
// Default cap on one (possibly fragmented) message.
constexpr size_t kDefaultMaxMessageBytes = 16 * 1024 * 1024;

using MaskKey = std::array<uint8_t, 4>;

bool is_control(Opcode op) noexcept;
// A code that may appear in a close frame (§7.4.1, §7.4.2): 1000-1003, 1007-1014, 3000-4999.
bool is_valid_close_code(uint16_t code) noexcept;

// Incremental UTF-8 validation (RFC 3629 §4): no overlong forms, no surrogates (U+D800..U+DFFF),
// nothing above U+10FFFF. A sequence may be split across feeds.
class Utf8Validator {
public:
    // False as soon as the bytes so far cannot start valid UTF-8; stays false.
    bool feed(std::string_view bytes) noexcept;
    // True when everything fed is valid and no sequence is left unfinished.
    bool complete() const noexcept { return ok_ && pending_ == 0; }
    void reset() noexcept { *this = Utf8Validator{}; }

private:
    bool ok_ = true;
    uint8_t pending_ = 0; // continuation bytes still expected
    uint8_t lo_ = 0x80;   // allowed range of the next continuation byte
    uint8_t hi_ = 0xBF;
};

bool is_valid_utf8(std::string_view bytes) noexcept;

// The fixed part of a frame (§5.2), as found on the wire; nothing is validated but the size.
struct FrameHeader {
    bool fin = false;
    uint8_t rsv = 0;    // RSV1..RSV3 as bits 2..0
    uint8_t opcode = 0; // raw 4 bits: may be a reserved value
    bool masked = false;
    uint8_t length_code = 0; // the 7-bit length field: 0..125, 126 (16-bit) or 127 (64-bit)
    uint64_t payload_length = 0;
    MaskKey mask{};
    size_t header_size = 0; // 2..14 bytes
};

// The header at the start of `data`, or nullopt while `data` holds only part of it.
std::optional<FrameHeader> parse_frame_header(std::string_view data) noexcept;

// XORs `data` with the mask (§5.3); `offset` is the position of data[0] within the payload, so a
// payload can be (un)masked in pieces.
void apply_mask(char* data, size_t size, const MaskKey& mask, size_t offset = 0) noexcept;

// Appends one masked client frame (§5.2, §5.3) with the minimal length encoding. Control frames
// must have fin set and at most kMaxControlPayload bytes; otherwise nothing is appended and the
// result is false.
bool append_frame(std::string& out, Opcode op, bool fin, std::string_view payload,
                  const MaskKey& mask);

// A close frame's payload (§5.5.1): the code in network byte order, then the reason cut to
// kMaxCloseReason bytes without splitting a UTF-8 sequence. Code 0 means no code: empty payload.
std::string close_payload(uint16_t code, std::string_view reason);

enum class MessageType { text, binary, ping, pong, close };

struct Message {
    MessageType type = MessageType::binary;
    std::string data;        // the payload; for close, the reason (valid UTF-8)
    uint16_t close_code = 0; // close only: the code, or close_code::no_status when absent
};

// Why the decoder failed the connection, with the code the client sends in its close (§7.4.1):
// protocol_error (framing), invalid_payload (UTF-8), message_too_big (the cap),
// internal_error (out of memory).
struct DecodeError {
    uint16_t close_code = close_code::protocol_error;
    std::string message;
};

struct DecoderStats {
    uint64_t bytes = 0;             // fed before a close frame or an error
    uint64_t frames = 0;            // complete frames
    uint64_t messages = 0;          // complete text and binary messages
    uint64_t control_frames = 0;    // ping, pong and close
    uint64_t bytes_after_close = 0; // fed after the close frame, ignored (§5.5.1)
};

// Server-to-client frames in, whole messages out. Control frames may come between the fragments
// of a message (§5.4) and are delivered as they complete. After a close frame the decoder ignores
// every further byte; after an error it returns the same error on every feed.
class Decoder {
public:
    explicit Decoder(size_t max_message_bytes = kDefaultMaxMessageBytes) noexcept;

    // Appends each message completed by `data` to `out`, in order; messages completed before an
    // error are appended too.
    Result<std::monostate, DecodeError> feed(std::string_view data,
                                             std::vector<Message>& out) noexcept;

    bool closed() const noexcept { return closed_; } // a close frame was decoded
    bool failed() const noexcept { return error_.has_value(); }
    bool in_message() const noexcept { return in_message_; } // a fragmented message is open
    const DecoderStats& stats() const noexcept { return stats_; }

private:
    std::optional<DecodeError> start_frame();
    std::optional<DecodeError> payload_bytes(std::string_view bytes);
    std::optional<DecodeError> end_frame(std::vector<Message>& out);
    std::optional<DecodeError> feed_bytes(std::string_view data, std::vector<Message>& out);

    size_t max_message_bytes_;
    std::array<char, 14> header_buf_{};
    size_t header_len_ = 0;
    bool in_payload_ = false;
    FrameHeader frame_{};
    uint64_t remaining_ = 0;

    bool in_message_ = false; // a text or binary message has started and not finished
    MessageType message_type_ = MessageType::binary;
    std::string message_;
    Utf8Validator utf8_;
    std::string control_; // payload of the control frame being read

    bool closed_ = false;
    std::optional<DecodeError> error_;
    DecoderStats stats_;
};

} // namespace wabridge::ws

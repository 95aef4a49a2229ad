// RFC 6455 §5 framing: encoder, decoder and UTF-8 validation (see frame.hpp).
#include "wabridge/net/ws/frame.hpp"

#include <algorithm>
#include <cstring>

namespace wabridge::ws {

namespace {

// Size of the header whose second byte is `b1` (§5.2): 2, plus the extended length, plus the key.
size_t header_size_for(uint8_t b1) noexcept {
    const uint8_t len7 = b1 & 0x7F;
    size_t size = 2;
    if (len7 == 126) size += 2;
    if (len7 == 127) size += 8;
    if (b1 & 0x80) size += 4;
    return size;
}

bool is_known_opcode(uint8_t op) noexcept {
    switch (op) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xA:
        return true;
    default:
        return false;
    }
}

DecodeError protocol_error(std::string message) {
    return DecodeError{close_code::protocol_error, std::move(message)};
}

} // namespace

bool is_control(Opcode op) noexcept {
    return (static_cast<uint8_t>(op) & 0x8) != 0; // §5.5: opcodes with the high bit set
}

bool is_valid_close_code(uint16_t code) noexcept {
    // §7.4.1: 1004 is reserved, 1005 and 1006 must never be sent, 1015 is TLS-internal.
    // 1012-1014 were registered later (service restart, try again later, bad gateway).
    // §7.4.2: 3000-3999 are for libraries and frameworks, 4000-4999 private use.
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

bool Utf8Validator::feed(std::string_view bytes) noexcept {
    if (!ok_) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const size_t n = bytes.size();
    size_t i = 0;
    while (i < n) {
        if (pending_ == 0) {
            // ASCII runs eight bytes at a time: JSON is nearly all ASCII.
            while (i + 8 <= n) {
                uint64_t word;
                std::memcpy(&word, p + i, 8);
                if (word & 0x8080808080808080ULL) break;
                i += 8;
            }
            if (i >= n) break;
            const unsigned char b = p[i++];
            if (b < 0x80) continue;
            // RFC 3629 §4: C0/C1 would be overlong two-byte forms, F5..FF lie above U+10FFFF.
            if (b < 0xC2 || b > 0xF4) return ok_ = false;
            lo_ = 0x80;
            hi_ = 0xBF;
            if (b < 0xE0) {
                pending_ = 1;
            } else if (b < 0xF0) {
                pending_ = 2;
                if (b == 0xE0) lo_ = 0xA0; // overlong three-byte form
                if (b == 0xED) hi_ = 0x9F; // U+D800..U+DFFF are surrogates
            } else {
                pending_ = 3;
                if (b == 0xF0) lo_ = 0x90; // overlong four-byte form
                if (b == 0xF4) hi_ = 0x8F; // above U+10FFFF
            }
        } else {
            const unsigned char b = p[i++];
            if (b < lo_ || b > hi_) return ok_ = false;
            --pending_;
            lo_ = 0x80;
            hi_ = 0xBF;
        }
    }
    return true;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
    Utf8Validator v;
    return v.feed(bytes) && v.complete();
}

std::optional<FrameHeader> parse_frame_header(std::string_view data) noexcept {
    if (data.size() < 2) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    const size_t size = header_size_for(p[1]);
    if (data.size() < size) return std::nullopt;
    FrameHeader h;
    h.fin = (p[0] & 0x80) != 0;
    h.rsv = (p[0] >> 4) & 0x7;
    h.opcode = p[0] & 0x0F;
    h.masked = (p[1] & 0x80) != 0;
    h.length_code = p[1] & 0x7F;
    h.header_size = size;
    size_t pos = 2;
    if (h.length_code == 126) {
        h.payload_length = (uint64_t{p[2]} << 8) | p[3];
        pos = 4;
    } else if (h.length_code == 127) {
        for (size_t i = 0; i < 8; ++i)
            h.payload_length = (h.payload_length << 8) | p[2 + i];
        pos = 10;
    } else {
        h.payload_length = h.length_code;
    }
    if (h.masked) std::memcpy(h.mask.data(), p + pos, 4);
    return h;
}

void apply_mask(char* data, size_t size, const MaskKey& mask, size_t offset) noexcept {
    // §5.3: octet i of the payload is XORed with octet (i MOD 4) of the key.
    uint8_t m[4];
    for (size_t j = 0; j < 4; ++j)
        m[j] = mask[(offset + j) & 3];
    auto* p = reinterpret_cast<unsigned char*>(data);
    for (size_t i = 0; i < size; ++i)
        p[i] ^= m[i & 3];
}

bool append_frame(std::string& out, Opcode op, bool fin, std::string_view payload,
                  const MaskKey& mask) {
    const size_t n = payload.size();
    if (is_control(op) && (!fin || n > kMaxControlPayload)) return false; // §5.5
    out.reserve(out.size() + 14 + n);
    out += static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(op));
    // §5.2: the minimal number of bytes encodes the length; the mask bit is always set (§5.3).
    if (n < 126) {
        out += static_cast<char>(0x80 | n);
    } else if (n <= 0xFFFF) {
        out += static_cast<char>(0x80 | 126);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(n & 0xFF);
    } else {
        out += static_cast<char>(0x80 | 127);
        const uint64_t len = n;
        for (int shift = 56; shift >= 0; shift -= 8)
            out += static_cast<char>((len >> shift) & 0xFF);
    }
    out.append(reinterpret_cast<const char*>(mask.data()), 4);
    const size_t start = out.size();
    out.append(payload);
    apply_mask(out.data() + start, n, mask);
    return true;
}

std::string close_payload(uint16_t code, std::string_view reason) {
    if (code == 0) return {};
    if (reason.size() > kMaxCloseReason) {
        size_t cut = kMaxCloseReason;
        // Back up to the start of a UTF-8 sequence so the reason stays valid.
        while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80)
            --cut;
        reason = reason.substr(0, cut);
    }
    std::string out;
    out.reserve(2 + reason.size());
    out += static_cast<char>(code >> 8);
    out += static_cast<char>(code & 0xFF);
    out.append(reason);
    return out;
}

Decoder::Decoder(size_t max_message_bytes) noexcept
    : max_message_bytes_(max_message_bytes) {}

Result<std::monostate, DecodeError> Decoder::feed(std::string_view data,
                                                  std::vector<Message>& out) noexcept {
    if (error_) return err(*error_);
    try {
        if (closed_) {
            stats_.bytes_after_close += data.size();
            return std::monostate{};
        }
        if (auto e = feed_bytes(data, out)) {
            error_ = std::move(*e);
            return err(*error_);
        }
        return std::monostate{};
    } catch (...) {
        error_ = DecodeError{close_code::internal_error, "out of memory"};
        return err(*error_);
    }
}

std::optional<DecodeError> Decoder::feed_bytes(std::string_view data, std::vector<Message>& out) {
    size_t pos = 0;
    while (pos < data.size()) {
        const size_t avail = data.size() - pos;
        if (!in_payload_) {
            const size_t need =
                header_len_ < 2 ? 2 : header_size_for(static_cast<uint8_t>(header_buf_[1]));
            const size_t take = std::min(need - header_len_, avail);
            std::memcpy(header_buf_.data() + header_len_, data.data() + pos, take);
            header_len_ += take;
            pos += take;
            stats_.bytes += take;
            auto header = parse_frame_header(std::string_view(header_buf_.data(), header_len_));
            if (!header) continue;
            frame_ = *header;
            header_len_ = 0;
            if (auto e = start_frame()) return e;
            remaining_ = frame_.payload_length;
            in_payload_ = remaining_ > 0;
            if (in_payload_) continue;
        } else {
            const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, avail));
            if (auto e = payload_bytes(data.substr(pos, take))) return e;
            pos += take;
            remaining_ -= take;
            stats_.bytes += take;
            if (remaining_ > 0) continue;
            in_payload_ = false;
        }
        if (auto e = end_frame(out)) return e;
        if (closed_) {
            // §5.5.1: nothing the peer sends after its close frame is processed.
            stats_.bytes_after_close += data.size() - pos;
            return std::nullopt;
        }
    }
    return std::nullopt;
}

// RFC 6455 §5.2, §5.4, §5.5: everything checkable from the header, before any payload byte is
// stored (so a forged length never causes an allocation).
std::optional<DecodeError> Decoder::start_frame() {
    const FrameHeader& h = frame_;
    if (h.rsv != 0) return protocol_error("reserved bits set without a negotiated extension");
    if (!is_known_opcode(h.opcode)) {
        return protocol_error("reserved opcode " + std::to_string(h.opcode));
    }
    // §5.1: a client MUST close the connection when it receives a masked frame.
    if (h.masked) return protocol_error("masked frame from the server");
    if (h.length_code == 127 && (h.payload_length >> 63) != 0) {
        return protocol_error("64-bit payload length with the most significant bit set");
    }
    // §5.2: "the minimal number of bytes MUST be used to encode the length".
    if ((h.length_code == 126 && h.payload_length < 126) ||
        (h.length_code == 127 && h.payload_length <= 0xFFFF)) {
        return protocol_error("payload length not minimally encoded");
    }
    const auto op = static_cast<Opcode>(h.opcode);
    if (is_control(op)) {
        if (!h.fin) return protocol_error("fragmented control frame");
        if (h.payload_length > kMaxControlPayload) {
            return protocol_error("control frame payload over 125 bytes");
        }
        control_.clear();
        return std::nullopt;
    }
    if (op == Opcode::continuation) {
        if (!in_message_) return protocol_error("continuation frame without a message");
    } else if (in_message_) {
        return protocol_error("new data frame inside a fragmented message");
    }
    const size_t held = op == Opcode::continuation ? message_.size() : 0;
    if (h.payload_length > max_message_bytes_ - held) {
        return DecodeError{close_code::message_too_big,
                           "message exceeds " + std::to_string(max_message_bytes_) + " bytes"};
    }
    if (op != Opcode::continuation) {
        in_message_ = true;
        message_type_ = op == Opcode::text ? MessageType::text : MessageType::binary;
        message_.clear();
        utf8_.reset();
    }
    return std::nullopt;
}

std::optional<DecodeError> Decoder::payload_bytes(std::string_view bytes) {
    if (is_control(static_cast<Opcode>(frame_.opcode))) {
        control_.append(bytes);
        return std::nullopt;
    }
    message_.append(bytes);
    // §8.1: invalid UTF-8 fails the connection as soon as it is seen, even mid-message.
    if (message_type_ == MessageType::text && !utf8_.feed(bytes)) {
        return DecodeError{close_code::invalid_payload, "invalid UTF-8 in a text message"};
    }
    return std::nullopt;
}

std::optional<DecodeError> Decoder::end_frame(std::vector<Message>& out) {
    ++stats_.frames;
    const auto op = static_cast<Opcode>(frame_.opcode);
    if (is_control(op)) {
        ++stats_.control_frames;
        if (op == Opcode::close) {
            // §5.5.1: an optional 2-byte code, then an optional UTF-8 reason.
            if (control_.size() == 1) return protocol_error("close frame with a 1-byte payload");
            Message m{MessageType::close, {}, close_code::no_status};
            if (control_.size() >= 2) {
                const auto* p = reinterpret_cast<const unsigned char*>(control_.data());
                const auto code = static_cast<uint16_t>((p[0] << 8) | p[1]);
                if (!is_valid_close_code(code)) {
                    return protocol_error("invalid close code " + std::to_string(code));
                }
                const std::string_view reason = std::string_view(control_).substr(2);
                if (!is_valid_utf8(reason)) {
                    return DecodeError{close_code::invalid_payload,
                                       "invalid UTF-8 in the close reason"};
                }
                m.close_code = code;
                m.data.assign(reason);
            }
            out.push_back(std::move(m));
            closed_ = true;
            return std::nullopt;
        }
        out.push_back(Message{op == Opcode::ping ? MessageType::ping : MessageType::pong,
                              std::move(control_), 0});
        control_.clear();
        return std::nullopt;
    }
    if (!frame_.fin) return std::nullopt; // §5.4: more fragments follow
    if (message_type_ == MessageType::text && !utf8_.complete()) {
        return DecodeError{close_code::invalid_payload, "invalid UTF-8 in a text message"};
    }
    out.push_back(Message{message_type_, std::move(message_), 0});
    message_ = std::string();
    in_message_ = false;
    ++stats_.messages;
    return std::nullopt;
}

} // namespace wabridge::ws

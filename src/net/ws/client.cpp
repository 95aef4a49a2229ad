// The sans-IO WebSocket client state machine (see client.hpp). RFC 6455 §4 (opening handshake),
// §5.5 (control frames), §7 (closing the connection).
#include "wabridge/net/ws/client.hpp"

#include <algorithm>
#include <utility>

namespace wabridge::ws {

namespace {

http::ResponseLimits handshake_limits() {
    http::ResponseLimits limits;
    limits.max_header_bytes = 16 * 1024;
    limits.max_headers = 100;
    // A refusal's body is only kept for the error report; the rest is read and dropped.
    limits.max_body_bytes = kMaxErrorBody;
    limits.truncate_body = true;
    return limits;
}

// Consumed output is dropped from the front of the buffer once it is this large and at least
// half the buffer, so partial writes cost amortised O(1) per byte.
constexpr size_t kCompactThreshold = 64 * 1024;

} // namespace

Client::Client(MaskSource masks, const ClientSettings& settings)
    : masks_(std::move(masks))
    , response_(handshake_limits())
    , decoder_(settings.max_message_bytes) {}

bool Client::start(PreparedHandshake handshake) {
    if (state_ != State::idle || handshake.request.empty()) return false;
    handshake_ = std::move(handshake);
    out_ += handshake_.request;
    stats_.bytes_out += handshake_.request.size();
    state_ = State::handshaking;
    return true;
}

std::vector<Event> Client::on_bytes(std::span<const uint8_t> data) {
    return on_bytes(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

std::vector<Event> Client::on_bytes(std::string_view data) {
    std::vector<Event> events;
    stats_.bytes_in += data.size();
    switch (state_) {
    case State::idle:
        // A server speaks only after the request; nothing to hand these bytes to.
        state_ = State::closed;
        events.push_back(Error{
            ErrorKind::unexpected_bytes, "bytes received before the handshake started", 0, {}});
        break;
    case State::handshaking:
        on_handshake_bytes(data, events);
        break;
    case State::open:
    case State::closing:
        on_frame_bytes(data, events);
        break;
    case State::closed:
        stats_.ignored_bytes += data.size();
        break;
    }
    return events;
}

void Client::on_handshake_bytes(std::string_view data, std::vector<Event>& events) {
    auto used = response_.feed(data);
    if (!used) {
        fail_handshake(HandshakeError{HandshakeErrorKind::malformed_response,
                                      "malformed handshake response: " + used.error().message,
                                      response_.current().status,
                                      {}},
                       events);
        return;
    }
    if (response_.done()) {
        const http::ParsedResponse response = response_.take();
        auto accepted = validate_response(response, handshake_);
        if (!accepted) {
            fail_handshake(accepted.error(), events);
            return;
        }
        state_ = State::open;
        events.push_back(Opened{std::move(accepted->subprotocol)});
        // Frames that arrived in the same read as the 101 head.
        const std::string_view rest = data.substr(used.value());
        if (!rest.empty()) on_frame_bytes(rest, events);
        return;
    }
    // A refusal with a long or unbounded body: what is kept is enough to report it.
    const http::ParsedResponse& current = response_.current();
    if (response_.headers_complete() && current.status != 101 &&
        current.body.size() >= kMaxErrorBody) {
        auto refused = validate_response(current, handshake_);
        fail_handshake(refused.error(), events);
    }
}

void Client::on_frame_bytes(std::string_view data, std::vector<Event>& events) {
    std::vector<Message> messages;
    auto fed = decoder_.feed(data, messages);
    for (Message& m : messages) {
        if (state_ == State::closed) break;
        handle(m, events);
    }
    if (!fed && state_ != State::closed) fail(fed.error().close_code, fed.error().message, events);
}

void Client::handle(Message& m, std::vector<Event>& events) {
    switch (m.type) {
    case MessageType::text:
    case MessageType::binary:
        // §5.5.1: after our close the peer may still finish a message; it is not delivered.
        if (state_ != State::open) {
            ++stats_.dropped_in;
            return;
        }
        ++stats_.messages_in;
        if (m.type == MessageType::text) {
            events.push_back(TextMessage{std::move(m.data)});
        } else {
            events.push_back(BinaryMessage{std::move(m.data)});
        }
        return;
    case MessageType::ping:
        ++stats_.pings_in;
        // §5.5.2, §5.5.3: answer with a pong carrying the same payload, unless we already sent
        // our close (nothing may follow it).
        if (state_ == State::open) {
            queue_frame(Opcode::pong, m.data);
            ++stats_.pongs_out;
        }
        return;
    case MessageType::pong:
        ++stats_.pongs_in;
        return;
    case MessageType::close:
        // §5.5.1: the peer started the close: echo its code (no reason). When we started it, its
        // close completes the handshake.
        if (state_ == State::open) {
            const uint16_t echo = m.close_code == close_code::no_status ? 0 : m.close_code;
            queue_frame(Opcode::close, close_payload(echo, {}));
        }
        state_ = State::closed;
        events.push_back(Closed{m.close_code, std::move(m.data), true});
        return;
    }
}

// §7.1.7 "Fail the WebSocket Connection": send a close with the reason's code (unless one was
// already sent), process nothing more, and let the caller drop the connection.
void Client::fail(uint16_t code, std::string message, std::vector<Event>& events) {
    if (state_ == State::open) queue_frame(Opcode::close, close_payload(code, message));
    state_ = State::closed;
    events.push_back(Error{ErrorKind::protocol, std::move(message), code, {}});
}

void Client::fail_handshake(HandshakeError e, std::vector<Event>& events) {
    state_ = State::closed;
    std::string message = e.message;
    events.push_back(Error{ErrorKind::handshake, std::move(message), 0, std::move(e)});
}

std::vector<Event> Client::on_peer_closed() {
    std::vector<Event> events;
    switch (state_) {
    case State::idle:
    case State::handshaking: {
        // A refusal whose body ran to the end of the connection completes here.
        auto finished = response_.finish();
        if (finished && response_.done()) {
            auto refused = validate_response(response_.take(), handshake_);
            if (!refused) {
                fail_handshake(refused.error(), events);
                break;
            }
        }
        fail_handshake(HandshakeError{HandshakeErrorKind::incomplete,
                                      "connection closed during the handshake",
                                      response_.current().status,
                                      {}},
                       events);
        break;
    }
    case State::open:
    case State::closing:
        // §7.1.5: no close frame from the peer: code 1006, not clean.
        state_ = State::closed;
        events.push_back(Closed{close_code::abnormal, {}, false});
        break;
    case State::closed:
        break;
    }
    return events;
}

void Client::queue_frame(Opcode op, std::string_view payload) {
    const MaskKey key = masks_ ? masks_() : MaskKey{};
    const size_t before = out_.size();
    append_frame(out_, op, true, payload, key);
    stats_.bytes_out += out_.size() - before;
}

Result<std::monostate, SendError> Client::send_text(std::string_view text) {
    if (state_ != State::open) return err(SendError::not_open);
    if (!is_valid_utf8(text)) return err(SendError::invalid_utf8); // §5.6: text is UTF-8
    queue_frame(Opcode::text, text);
    ++stats_.messages_out;
    return std::monostate{};
}

Result<std::monostate, SendError> Client::send_binary(std::string_view data) {
    if (state_ != State::open) return err(SendError::not_open);
    queue_frame(Opcode::binary, data);
    ++stats_.messages_out;
    return std::monostate{};
}

Result<std::monostate, SendError> Client::send_ping(std::string_view payload) {
    if (state_ != State::open) return err(SendError::not_open);
    if (payload.size() > kMaxControlPayload) return err(SendError::too_long);
    queue_frame(Opcode::ping, payload);
    return std::monostate{};
}

Result<std::monostate, SendError> Client::close(uint16_t code, std::string_view reason) {
    if (state_ != State::open) return err(SendError::not_open);
    if (!is_valid_close_code(code)) return err(SendError::invalid_code);
    if (!is_valid_utf8(reason)) return err(SendError::invalid_utf8);
    queue_frame(Opcode::close, close_payload(code, reason));
    state_ = State::closing;
    return std::monostate{};
}

std::string Client::take_output() {
    std::string out;
    if (out_offset_ == 0) {
        out.swap(out_);
    } else {
        out = out_.substr(out_offset_);
        out_.clear();
    }
    out_offset_ = 0;
    return out;
}

std::string_view Client::output() const noexcept {
    return std::string_view(out_).substr(out_offset_);
}

void Client::consume_output(size_t n) noexcept {
    out_offset_ += std::min(n, out_.size() - out_offset_);
    if (out_offset_ == out_.size()) {
        out_.clear();
        out_offset_ = 0;
    } else if (out_offset_ >= kCompactThreshold && out_offset_ >= out_.size() / 2) {
        out_.erase(0, out_offset_);
        out_offset_ = 0;
    }
}

size_t Client::pending_output_bytes() const noexcept {
    return out_.size() - out_offset_;
}

} // namespace wabridge::ws

// The sans-IO WebSocket client (RFC 6455): the opening handshake, message exchange and the
// closing handshake as a state machine. Bytes read from the socket go in through on_bytes(); bytes
// to write come out of the output buffer; what happened comes back as events. No sockets, no
// clock, no threads: the caller owns the connection, its timers (handshake and close timeouts)
// and the CSPRNG that supplies the masking keys.
#pragma once

#include "wabridge/net/http/response_parser.hpp"
#include "wabridge/net/ws/frame.hpp"
#include "wabridge/net/ws/handshake.hpp"
#include "wabridge/util/result.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wabridge::ws {

// Events. Exactly one of Closed or Error ends a connection, and nothing follows it.
struct Opened {
    std::string subprotocol; // "" when none was negotiated
};
struct TextMessage {
    std::string text; // valid UTF-8
};
struct BinaryMessage {
    std::string data;
};
// The connection ended. clean: both close frames were exchanged (§7.1.4). code: the peer's close
// code (close_code::no_status when its frame had none), or close_code::abnormal when the
// connection dropped without a close frame from the peer (§7.1.5).
struct Closed {
    uint16_t code = close_code::abnormal;
    std::string reason;
    bool clean = false;
};

enum class ErrorKind {
    handshake, // the opening handshake failed: see `handshake`
    protocol,  // the client failed the connection (§7.1.7) and sent a close with `close_code`
    unexpected_bytes, // the peer sent bytes before the handshake request was written
};
struct Error {
    ErrorKind kind = ErrorKind::protocol;
    std::string message;      // one line, never any request header value
    uint16_t close_code = 0;  // protocol: the code sent (1002, 1007, 1009 or 1011)
    HandshakeError handshake; // handshake: the details (status and body of a refusal)
};

using Event = std::variant<Opened, TextMessage, BinaryMessage, Closed, Error>;

enum class State {
    idle,        // start() not called yet
    handshaking, // request queued, waiting for the 101
    open,        // messages flow both ways
    closing,     // we sent a close frame and wait for the peer's (§7.1.2)
    closed,      // terminal: Closed or Error was delivered
};

enum class SendError {
    not_open,     // not in the open state (never opened, or a close was sent or received)
    invalid_utf8, // text or close reason that is not UTF-8 (§5.6, §5.5.1)
    invalid_code, // a close code that may not be sent (§7.4)
    too_long,     // a ping payload over 125 bytes (§5.5)
};

struct ClientSettings {
    size_t max_message_bytes = kDefaultMaxMessageBytes; // received messages; over it: close 1009
};

struct ClientStats {
    uint64_t bytes_in = 0;  // all bytes given to on_bytes
    uint64_t bytes_out = 0; // all bytes queued for output (handshake included)
    uint64_t messages_in = 0;
    uint64_t messages_out = 0;
    uint64_t pings_in = 0;
    uint64_t pongs_in = 0;
    uint64_t pongs_out = 0;
    uint64_t dropped_in = 0;    // messages received while closing: not delivered (§5.5.1)
    uint64_t ignored_bytes = 0; // bytes received after the connection ended
};

// Draws a fresh masking key for each frame (§5.3: from a strong source of entropy; production
// passes a function over openssl::random_bytes, tests a deterministic one).
using MaskSource = std::function<MaskKey()>;

class Client {
public:
    explicit Client(MaskSource masks, const ClientSettings& settings = {});

    // Queues the handshake request (build_handshake) and waits for the response. Only from idle.
    bool start(PreparedHandshake handshake);

    // Bytes read from the connection. Bytes that follow the 101 head in the same read are frames.
    std::vector<Event> on_bytes(std::string_view data);
    std::vector<Event> on_bytes(std::span<const uint8_t> data);

    // The peer closed the connection (read returned 0) or it broke. Completes a refusal whose body
    // ran to the end of the connection; otherwise ends with Closed{1006} or a handshake Error.
    std::vector<Event> on_peer_closed();

    // One unfragmented message each, masked with a fresh key. Only while open.
    Result<std::monostate, SendError> send_text(std::string_view text);
    Result<std::monostate, SendError> send_binary(std::string_view data);
    Result<std::monostate, SendError> send_ping(std::string_view payload = {});

    // Starts the closing handshake (§5.5.1, §7.1.2): queues a close frame with `code` and the
    // reason cut to 123 bytes. No data frame is sent or delivered afterwards; the peer's close
    // ends it with Closed{clean = true}. The caller bounds the wait with its own timer and then
    // drops the connection (on_peer_closed()).
    Result<std::monostate, SendError> close(uint16_t code = close_code::normal,
                                            std::string_view reason = {});

    // Output: bytes to write, in order.
    std::string take_output();
    std::string_view output() const noexcept; // without consuming, for partial writes
    void consume_output(size_t n) noexcept;   // drops the first n bytes of output()
    size_t pending_output_bytes() const noexcept;

    State state() const noexcept { return state_; }
    // The connection is finished: write what is pending, then close the socket (§7.1.1 lets the
    // client close once both close frames went by; after a failure it should close at once).
    bool wants_disconnect() const noexcept { return state_ == State::closed; }
    const ClientStats& stats() const noexcept { return stats_; }
    const DecoderStats& decoder_stats() const noexcept { return decoder_.stats(); }

private:
    void on_handshake_bytes(std::string_view data, std::vector<Event>& events);
    void on_frame_bytes(std::string_view data, std::vector<Event>& events);
    void handle(Message& m, std::vector<Event>& events);
    void fail(uint16_t code, std::string message, std::vector<Event>& events);
    void fail_handshake(HandshakeError e, std::vector<Event>& events);
    void queue_frame(Opcode op, std::string_view payload);

    MaskSource masks_;
    State state_ = State::idle;
    PreparedHandshake handshake_;
    http::ResponseParser response_;
    Decoder decoder_;
    std::string out_;
    size_t out_offset_ = 0; // bytes of out_ already consumed
    ClientStats stats_;
};

} // namespace wabridge::ws

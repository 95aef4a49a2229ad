// The client state machine driven end to end with scripted server bytes: handshake (accepted,
// refused, malformed), messages both ways, auto-pong, both closing handshakes, failures with
// 1002/1007/1009, peer drops, and output backpressure.
#include "wabridge/net/ws/client.hpp"

#include <gtest/gtest.h>

namespace wabridge::ws {
namespace {

std::string bytes(std::initializer_list<int> list) {
    std::string out;
    for (int b : list)
        out += static_cast<char>(b);
    return out;
}

std::array<uint8_t, 16> rfc_nonce() {
    const std::string_view s = "the sample nonce"; // key dGhlIHNhbXBsZSBub25jZQ== (§1.3)
    std::array<uint8_t, 16> n{};
    for (size_t i = 0; i < n.size(); ++i)
        n[i] = static_cast<uint8_t>(s[i]);
    return n;
}

const std::string kSwitching = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                               "\r\n";

// An unmasked server frame.
std::string server_frame(int first_byte, std::string_view payload) {
    std::string out(1, static_cast<char>(first_byte));
    if (payload.size() < 126) {
        out += static_cast<char>(payload.size());
    } else {
        out += bytes(
            {126, static_cast<int>(payload.size() >> 8), static_cast<int>(payload.size() & 0xFF)});
    }
    out.append(payload);
    return out;
}

std::string close_frame(int code, std::string_view reason) {
    return server_frame(0x88, bytes({code >> 8, code & 0xFF}) + std::string(reason));
}

// A client frame as read back from the output: checked to be masked, then unmasked.
struct SentFrame {
    bool fin;
    int opcode;
    MaskKey mask;
    std::string payload;
};

std::vector<SentFrame> sent_frames(std::string_view out) {
    std::vector<SentFrame> frames;
    while (!out.empty()) {
        auto h = parse_frame_header(out);
        EXPECT_TRUE(h.has_value());
        if (!h) break;
        EXPECT_TRUE(h->masked) << "client frames are always masked (§5.3)";
        EXPECT_EQ(h->rsv, 0);
        EXPECT_LE(h->header_size + h->payload_length, out.size());
        std::string payload(out.substr(h->header_size, h->payload_length));
        apply_mask(payload.data(), payload.size(), h->mask);
        frames.push_back({h->fin, h->opcode, h->mask, payload});
        out.remove_prefix(h->header_size + h->payload_length);
    }
    return frames;
}

// Masking keys 01 02 03 04, 05 06 07 08, ...: one fresh key per frame.
struct Harness {
    uint8_t next = 1;
    Client client;

    explicit Harness(ClientSettings settings = {})
        : client(
              [this] {
                  MaskKey k;
                  for (auto& b : k)
                      b = next++;
                  return k;
              },
              settings) {}

    // Starts the handshake and returns the request bytes written.
    std::string start() {
        HandshakeRequest r;
        r.host = "api.openai.com";
        r.target = "/v1/realtime?model=gpt-realtime";
        r.headers = {{"Authorization", "Bearer sk-test"}};
        auto h = build_handshake(r, rfc_nonce());
        EXPECT_TRUE(h.ok());
        EXPECT_TRUE(client.start(h.value()));
        return client.take_output();
    }

    void open() {
        start();
        auto events = client.on_bytes(kSwitching);
        ASSERT_EQ(events.size(), 1u);
        ASSERT_TRUE(std::holds_alternative<Opened>(events[0]));
        ASSERT_EQ(client.state(), State::open);
    }
};

TEST(WsClient, FullExchangeWithFramesInTheHandshakeRead) {
    Harness h;
    const std::string request = h.start();
    EXPECT_EQ(request.rfind("GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\n", 0), 0u);
    EXPECT_NE(request.find("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos);
    EXPECT_EQ(h.client.state(), State::handshaking);
    EXPECT_EQ(h.client.pending_output_bytes(), 0u);

    // The 101 and the server's first event arrive in one read.
    const std::string first_event = R"({"type":"session.created"})";
    auto events = h.client.on_bytes(kSwitching + server_frame(0x81, first_event));
    ASSERT_EQ(events.size(), 2u);
    ASSERT_TRUE(std::holds_alternative<Opened>(events[0]));
    EXPECT_EQ(std::get<Opened>(events[0]).subprotocol, "");
    ASSERT_TRUE(std::holds_alternative<TextMessage>(events[1]));
    EXPECT_EQ(std::get<TextMessage>(events[1]).text, first_event);

    // Client text goes out masked with the first key.
    ASSERT_TRUE(h.client.send_text(R"({"type":"session.update"})").ok());
    const std::string out = h.client.take_output();
    const std::string expected_header = bytes({0x81, 0x80 | 25, 1, 2, 3, 4});
    EXPECT_EQ(out.substr(0, 6), expected_header);
    auto frames = sent_frames(out);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_TRUE(frames[0].fin);
    EXPECT_EQ(frames[0].opcode, 1);
    EXPECT_EQ(frames[0].payload, R"({"type":"session.update"})");

    // Binary both ways.
    events = h.client.on_bytes(server_frame(0x82, bytes({0, 1, 2})));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<BinaryMessage>(events[0]).data, bytes({0, 1, 2}));
    ASSERT_TRUE(h.client.send_binary(bytes({9, 8})).ok());
    frames = sent_frames(h.client.take_output());
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 2);
    EXPECT_EQ(frames[0].mask, (MaskKey{5, 6, 7, 8}));
    EXPECT_EQ(frames[0].payload, bytes({9, 8}));

    // We close; the server's close completes the handshake.
    ASSERT_TRUE(h.client.close(close_code::normal, "call ended").ok());
    EXPECT_EQ(h.client.state(), State::closing);
    frames = sent_frames(h.client.take_output());
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 8);
    EXPECT_EQ(frames[0].payload, bytes({0x03, 0xE8}) + "call ended");
    EXPECT_FALSE(h.client.send_text("late").ok());
    EXPECT_EQ(h.client.send_text("late").error(), SendError::not_open);

    events = h.client.on_bytes(close_frame(1000, ""));
    ASSERT_EQ(events.size(), 1u);
    const auto& closed = std::get<Closed>(events[0]);
    EXPECT_EQ(closed.code, 1000);
    EXPECT_TRUE(closed.clean);
    EXPECT_EQ(h.client.state(), State::closed);
    EXPECT_TRUE(h.client.wants_disconnect());
    EXPECT_EQ(h.client.pending_output_bytes(), 0u); // no second close frame
    EXPECT_EQ(h.client.stats().messages_in, 2u);
    EXPECT_EQ(h.client.stats().messages_out, 2u);
}

TEST(WsClient, ServerClosesWith1001AndReason) {
    Harness h;
    h.open();
    auto events = h.client.on_bytes(close_frame(1001, "session expired"));
    ASSERT_EQ(events.size(), 1u);
    const auto& closed = std::get<Closed>(events[0]);
    EXPECT_EQ(closed.code, 1001);
    EXPECT_EQ(closed.reason, "session expired");
    EXPECT_TRUE(closed.clean);
    // §5.5.1: the client echoes the code in a masked close frame.
    const std::string out = h.client.take_output();
    EXPECT_EQ(out, bytes({0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE9 ^ 2}));
    EXPECT_EQ(h.client.state(), State::closed);
    // Nothing more is produced or delivered.
    EXPECT_FALSE(h.client.send_text("x").ok());
    EXPECT_FALSE(h.client.close().ok());
    EXPECT_TRUE(h.client.on_bytes(server_frame(0x81, "ignored")).empty());
    EXPECT_TRUE(h.client.on_peer_closed().empty());
    EXPECT_EQ(h.client.pending_output_bytes(), 0u);
}

TEST(WsClient, ServerCloseWithoutCodeEchoedEmpty) {
    Harness h;
    h.open();
    auto events = h.client.on_bytes(bytes({0x88, 0x00}));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<Closed>(events[0]).code, close_code::no_status);
    EXPECT_EQ(h.client.take_output(), bytes({0x88, 0x80, 1, 2, 3, 4}));
}

TEST(WsClient, PingIsAnsweredWithSamePayload) {
    Harness h;
    h.open();
    // Ping between the fragments of a text message.
    auto events = h.client.on_bytes(server_frame(0x01, "Hel") + server_frame(0x89, "Hello") +
                                    server_frame(0x80, "lo"));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<TextMessage>(events[0]).text, "Hello");
    // RFC 6455 §5.7: masked pong "Hello" is 8a 85 + key + masked bytes.
    std::string expected = bytes({0x8A, 0x85, 1, 2, 3, 4});
    const std::string hello = "Hello";
    for (size_t i = 0; i < hello.size(); ++i)
        expected += static_cast<char>(hello[i] ^ static_cast<char>(1 + (i % 4)));
    EXPECT_EQ(h.client.take_output(), expected);
    EXPECT_EQ(h.client.stats().pings_in, 1u);
    EXPECT_EQ(h.client.stats().pongs_out, 1u);
    // A pong from the server needs no answer.
    EXPECT_TRUE(h.client.on_bytes(server_frame(0x8A, "x")).empty());
    EXPECT_EQ(h.client.pending_output_bytes(), 0u);
    EXPECT_EQ(h.client.stats().pongs_in, 1u);
}

TEST(WsClient, ProtocolViolationFailsWith1002) {
    Harness h;
    h.open();
    // A masked frame from the server (§5.1), followed by data that must not be processed.
    const std::string masked =
        bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    auto events =
        h.client.on_bytes(server_frame(0x81, "before") + masked + server_frame(0x81, "x"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(std::get<TextMessage>(events[0]).text, "before");
    const auto& error = std::get<Error>(events[1]);
    EXPECT_EQ(error.kind, ErrorKind::protocol);
    EXPECT_EQ(error.close_code, close_code::protocol_error);
    EXPECT_EQ(error.message, "masked frame from the server");
    auto frames = sent_frames(h.client.take_output());
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 8);
    EXPECT_EQ(frames[0].payload, bytes({0x03, 0xEA}) + "masked frame from the server");
    EXPECT_TRUE(h.client.wants_disconnect());
    EXPECT_TRUE(h.client.on_bytes(server_frame(0x81, "after")).empty());
    EXPECT_TRUE(h.client.on_peer_closed().empty());
}

TEST(WsClient, InvalidUtf8FailsWith1007) {
    Harness h;
    h.open();
    auto events = h.client.on_bytes(server_frame(0x81, bytes({'a', 0xED, 0xA0, 0x80})));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<Error>(events[0]).close_code, close_code::invalid_payload);
    auto frames = sent_frames(h.client.take_output());
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload.substr(0, 2), bytes({0x03, 0xEF}));
}

TEST(WsClient, OversizedMessageFailsWith1009) {
    ClientSettings s;
    s.max_message_bytes = 1000;
    Harness h(s);
    h.open();
    EXPECT_EQ(
        std::get<BinaryMessage>(h.client.on_bytes(server_frame(0x82, std::string(1000, 'a')))[0])
            .data.size(),
        1000u);
    auto events = h.client.on_bytes(bytes({0x82, 0x7E, 0x03, 0xE9})); // 1001 bytes declared
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<Error>(events[0]).close_code, close_code::message_too_big);
    auto frames = sent_frames(h.client.take_output());
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload.substr(0, 2), bytes({0x03, 0xF1}));
}

TEST(WsClient, WhileClosingDataIsDroppedAndPingsUnanswered) {
    Harness h;
    h.open();
    ASSERT_TRUE(h.client.close(close_code::going_away, "").ok());
    h.client.take_output();
    auto events = h.client.on_bytes(server_frame(0x81, "late data") + server_frame(0x89, "p"));
    EXPECT_TRUE(events.empty());
    EXPECT_EQ(h.client.pending_output_bytes(), 0u);
    EXPECT_EQ(h.client.stats().dropped_in, 1u);
    // The peer never answers: the caller's timer drops the connection.
    events = h.client.on_peer_closed();
    ASSERT_EQ(events.size(), 1u);
    const auto& closed = std::get<Closed>(events[0]);
    EXPECT_EQ(closed.code, close_code::abnormal);
    EXPECT_FALSE(closed.clean);
}

TEST(WsClient, ProtocolErrorWhileClosingSendsNoSecondClose) {
    Harness h;
    h.open();
    ASSERT_TRUE(h.client.close().ok());
    h.client.take_output();
    auto events = h.client.on_bytes(bytes({0x83, 0x00})); // reserved opcode
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<Error>(events[0]).close_code, close_code::protocol_error);
    EXPECT_EQ(h.client.pending_output_bytes(), 0u);
}

TEST(WsClient, PeerDropWhileOpenIs1006) {
    Harness h;
    h.open();
    auto events = h.client.on_peer_closed();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<Closed>(events[0]).code, 1006);
    EXPECT_FALSE(std::get<Closed>(events[0]).clean);
    EXPECT_EQ(h.client.state(), State::closed);
}

TEST(WsClient, RefusalWithContentLength) {
    Harness h;
    h.start();
    const std::string body =
        R"({"error":{"type":"invalid_request_error","code":"invalid_api_key"}})";
    auto events =
        h.client.on_bytes("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                          "Content-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body);
    ASSERT_EQ(events.size(), 1u);
    const auto& error = std::get<Error>(events[0]);
    EXPECT_EQ(error.kind, ErrorKind::handshake);
    EXPECT_EQ(error.handshake.kind, HandshakeErrorKind::rejected);
    EXPECT_EQ(error.handshake.status, 401);
    EXPECT_EQ(error.handshake.body, body);
    EXPECT_EQ(error.message, "server answered 401 Unauthorized instead of 101");
    EXPECT_TRUE(h.client.wants_disconnect());
    EXPECT_EQ(h.client.pending_output_bytes(), 0u);
}

TEST(WsClient, RefusalWithBodyUntilClose) {
    Harness h;
    h.start();
    EXPECT_TRUE(h.client.on_bytes("HTTP/1.1 403 Forbidden\r\n\r\nproxy says ").empty());
    EXPECT_TRUE(h.client.on_bytes("no").empty());
    auto events = h.client.on_peer_closed();
    ASSERT_EQ(events.size(), 1u);
    const auto& error = std::get<Error>(events[0]);
    EXPECT_EQ(error.handshake.kind, HandshakeErrorKind::rejected);
    EXPECT_EQ(error.handshake.status, 403);
    EXPECT_EQ(error.handshake.body, "proxy says no");
}

TEST(WsClient, RefusalWithEndlessBodyReportedAt4KiB) {
    Harness h;
    h.start();
    EXPECT_TRUE(h.client
                    .on_bytes("HTTP/1.1 503 Service Unavailable\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n")
                    .empty());
    std::vector<Event> events;
    int chunks = 0;
    while (events.empty() && chunks < 100) {
        events = h.client.on_bytes("3e8\r\n" + std::string(1000, 'e') + "\r\n");
        ++chunks;
    }
    EXPECT_EQ(chunks, 5); // 5000 bytes fed, the first 4096 kept
    ASSERT_EQ(events.size(), 1u);
    const auto& error = std::get<Error>(events[0]);
    EXPECT_EQ(error.handshake.status, 503);
    EXPECT_EQ(error.handshake.body, std::string(kMaxErrorBody, 'e'));
}

TEST(WsClient, BadAcceptFailsHandshake) {
    Harness h;
    h.start();
    std::string response = kSwitching;
    response.replace(response.find("s3pP"), 4, "AAAA");
    auto events = h.client.on_bytes(response + server_frame(0x81, "never delivered"));
    ASSERT_EQ(events.size(), 1u);
    const auto& error = std::get<Error>(events[0]);
    EXPECT_EQ(error.kind, ErrorKind::handshake);
    EXPECT_EQ(error.handshake.kind, HandshakeErrorKind::bad_accept);
    EXPECT_EQ(h.client.state(), State::closed);
    EXPECT_EQ(h.client.pending_output_bytes(), 0u); // no close frame without a connection
}

TEST(WsClient, MalformedOrTruncatedHandshake) {
    Harness bad;
    bad.start();
    auto events = bad.client.on_bytes("SSH-2.0-OpenSSH_9.2\r\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<Error>(events[0]).handshake.kind, HandshakeErrorKind::malformed_response);

    Harness cut;
    cut.start();
    EXPECT_TRUE(cut.client.on_bytes("HTTP/1.1 101 Switching Protocols\r\nUpgr").empty());
    events = cut.client.on_peer_closed();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<Error>(events[0]).handshake.kind, HandshakeErrorKind::incomplete);
    EXPECT_EQ(std::get<Error>(events[0]).handshake.status, 101);

    Harness early;
    events = early.client.on_bytes("x");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<Error>(events[0]).kind, ErrorKind::unexpected_bytes);
}

TEST(WsClient, ByteAtATimeGivesTheSameEvents) {
    Harness h;
    h.start();
    const std::string wire = kSwitching + server_frame(0x81, "one") + server_frame(0x89, "pi") +
                             server_frame(0x02, "t") + server_frame(0x80, "wo") +
                             close_frame(1000, "bye");
    std::vector<Event> events;
    for (char c : wire) {
        auto e = h.client.on_bytes(std::string_view(&c, 1));
        events.insert(events.end(), e.begin(), e.end());
    }
    ASSERT_EQ(events.size(), 4u);
    EXPECT_TRUE(std::holds_alternative<Opened>(events[0]));
    EXPECT_EQ(std::get<TextMessage>(events[1]).text, "one");
    EXPECT_EQ(std::get<BinaryMessage>(events[2]).data, "two");
    EXPECT_EQ(std::get<Closed>(events[3]).reason, "bye");
    auto frames = sent_frames(h.client.take_output());
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].opcode, 0xA);
    EXPECT_EQ(frames[0].payload, "pi");
    EXPECT_EQ(frames[1].opcode, 8);
    EXPECT_EQ(frames[1].payload, bytes({0x03, 0xE8}));
    EXPECT_NE(frames[0].mask, frames[1].mask); // a fresh key per frame
}

TEST(WsClient, PartialWritesAndPendingBytes) {
    Harness h;
    h.open();
    const std::string big(70000, 'j'); // 64-bit length form: 14-byte header
    ASSERT_TRUE(h.client.send_text(big).ok());
    ASSERT_TRUE(h.client.send_ping("k").ok());
    const size_t total = 14 + big.size() + 2 + 4 + 1;
    EXPECT_EQ(h.client.pending_output_bytes(), total);
    std::string written;
    while (h.client.pending_output_bytes() > 0) {
        std::string_view chunk = h.client.output().substr(0, 4096);
        written.append(chunk);
        h.client.consume_output(chunk.size());
    }
    EXPECT_EQ(written.size(), total);
    auto frames = sent_frames(written);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].payload, big);
    EXPECT_EQ(frames[1].opcode, 9);
    EXPECT_EQ(frames[1].payload, "k");
    // take_output after a partial consume returns the rest; consume never goes past the end.
    ASSERT_TRUE(h.client.send_binary("abc").ok());
    const std::string full(h.client.output());
    ASSERT_EQ(full.size(), 2u + 4u + 3u);
    h.client.consume_output(2);
    EXPECT_EQ(h.client.pending_output_bytes(), 7u);
    EXPECT_EQ(h.client.take_output(), full.substr(2));
    h.client.consume_output(100);
    EXPECT_EQ(h.client.pending_output_bytes(), 0u);
    EXPECT_EQ(h.client.output(), "");
}

TEST(WsClient, SendValidation) {
    Harness h;
    EXPECT_EQ(h.client.send_text("x").error(), SendError::not_open);
    h.open();
    EXPECT_EQ(h.client.send_text(bytes({0xC0, 0x80})).error(), SendError::invalid_utf8);
    EXPECT_EQ(h.client.send_ping(std::string(126, 'p')).error(), SendError::too_long);
    EXPECT_EQ(h.client.close(1005).error(), SendError::invalid_code);
    EXPECT_EQ(h.client.close(1006).error(), SendError::invalid_code);
    EXPECT_EQ(h.client.close(999).error(), SendError::invalid_code);
    EXPECT_EQ(h.client.close(1000, bytes({0xFF})).error(), SendError::invalid_utf8);
    EXPECT_EQ(h.client.pending_output_bytes(), 0u);
    EXPECT_EQ(h.client.state(), State::open);
    // A long reason is cut to fit the 125-byte control frame.
    ASSERT_TRUE(h.client.close(4000, std::string(300, 'r')).ok());
    auto frames = sent_frames(h.client.take_output());
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload.size(), 125u);
    EXPECT_FALSE(h.client.start(PreparedHandshake{"GET / HTTP/1.1\r\n\r\n", "k", {}}));
}

} // namespace
} // namespace wabridge::ws

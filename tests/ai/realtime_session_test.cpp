// The Realtime session state machine driven with a fake clock and scripted server JSON (shapes
// as the fake server in tests/fakes sends them, which follow the GA spec): start-up and the
// session.update content, uplink appends, downlink deltas into the playout queue, barge-in
// truncates, DTMF, errors, reconnect schedule and replay, G.711 sizes, and a schema check of
// every event produced against client_events_strict.
#include "support/test_data.hpp"
#include "wabridge/ai/base64.hpp"
#include "wabridge/ai/realtime_session.hpp"
#include "wabridge/media/g711.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

namespace wabridge::ai {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Every event any session in this process produced, for the schema check.
std::vector<std::string>& produced() {
    static std::vector<std::string> events;
    return events;
}

// --- server events, shaped as the GA server (and tests/fakes) sends them ----------------------

const char* kSessionCreated =
    R"({"event_id":"event_QteJhFI9m01MN12IMQDFU","type":"session.created","session":{"type":"realtime","object":"realtime.session","id":"sess_yltyGXpK405o7GrFz7oCm","model":"gpt-realtime","output_modalities":["audio"],"instructions":"Your knowledge cutoff is 2023-10.","tools":[],"tool_choice":"auto","max_output_tokens":"inf","tracing":null,"prompt":null,"expires_at":1795338904,"audio":{"input":{"format":{"type":"audio/pcm","rate":24000},"transcription":null,"noise_reduction":null,"turn_detection":{"type":"server_vad","threshold":0.5,"prefix_padding_ms":300,"silence_duration_ms":200,"idle_timeout_ms":null,"create_response":true,"interrupt_response":true}},"output":{"format":{"type":"audio/pcm","rate":24000},"voice":"marin","speed":1}},"include":null}})";
const char* kSessionUpdated =
    R"({"event_id":"event_yb6nG9mAsFQ3wyvF8Vh4H","type":"session.updated","session":{"type":"realtime","object":"realtime.session","id":"sess_yltyGXpK405o7GrFz7oCm","model":"gpt-realtime","output_modalities":["audio"],"instructions":"You are a test agent.","tools":[],"tool_choice":"auto","max_output_tokens":"inf","tracing":null,"prompt":null,"expires_at":1795338904,"audio":{"input":{"format":{"type":"audio/pcm","rate":24000},"transcription":{"model":"gpt-4o-mini-transcribe"},"noise_reduction":null,"turn_detection":{"type":"server_vad","threshold":0.5,"prefix_padding_ms":300,"silence_duration_ms":500,"create_response":true,"interrupt_response":true,"idle_timeout_ms":null}},"output":{"format":{"type":"audio/pcm","rate":24000},"voice":"marin","speed":1}},"include":null}})";

int server_seq = 0;
std::string server_event_id() {
    return "event_" + std::to_string(++server_seq);
}

json response_created(const std::string& resp) {
    return {{"event_id", server_event_id()},
            {"type", "response.created"},
            {"response",
             {{"object", "realtime.response"},
              {"id", resp},
              {"status", "in_progress"},
              {"status_details", nullptr},
              {"output", json::array()},
              {"usage", nullptr}}}};
}

json output_item_added(const std::string& resp, const std::string& item) {
    return {{"event_id", server_event_id()},
            {"type", "response.output_item.added"},
            {"response_id", resp},
            {"output_index", 0},
            {"item",
             {{"id", item},
              {"object", "realtime.item"},
              {"type", "message"},
              {"status", "in_progress"},
              {"role", "assistant"},
              {"content", json::array({{{"type", "output_audio"}, {"transcript", ""}}})}}}};
}

json audio_delta_bytes(const std::string& resp, const std::string& item,
                       std::span<const uint8_t> bytes) {
    return {{"event_id", server_event_id()},
            {"type", "response.output_audio.delta"},
            {"response_id", resp},
            {"item_id", item},
            {"output_index", 0},
            {"content_index", 0},
            {"delta", base64_encode(bytes)}};
}

std::vector<uint8_t> le_bytes(std::span<const int16_t> pcm) {
    std::vector<uint8_t> out;
    for (int16_t s : pcm) {
        out.push_back(static_cast<uint8_t>(static_cast<uint16_t>(s) & 0xFF));
        out.push_back(static_cast<uint8_t>(static_cast<uint16_t>(s) >> 8));
    }
    return out;
}

json audio_delta(const std::string& resp, const std::string& item, std::span<const int16_t> pcm) {
    return audio_delta_bytes(resp, item, le_bytes(pcm));
}

json audio_done(const std::string& resp, const std::string& item) {
    return {{"event_id", server_event_id()},
            {"type", "response.output_audio.done"},
            {"response_id", resp},
            {"item_id", item},
            {"output_index", 0},
            {"content_index", 0}};
}

json transcript_done(const std::string& resp, const std::string& item, const std::string& text) {
    return {{"event_id", server_event_id()},
            {"type", "response.output_audio_transcript.done"},
            {"response_id", resp},
            {"item_id", item},
            {"output_index", 0},
            {"content_index", 0},
            {"transcript", text}};
}

json response_done(const std::string& resp, const std::string& status) {
    json details = nullptr;
    if (status == "cancelled")
        details = {{"type", "cancelled"}, {"reason", "turn_detected"}, {"error", nullptr}};
    return {{"event_id", server_event_id()},
            {"type", "response.done"},
            {"response",
             {{"object", "realtime.response"},
              {"id", resp},
              {"status", status},
              {"status_details", details},
              {"output", json::array()}}}};
}

json speech_started(const std::string& item, int audio_start_ms) {
    return {{"event_id", server_event_id()},
            {"type", "input_audio_buffer.speech_started"},
            {"audio_start_ms", audio_start_ms},
            {"item_id", item}};
}

json committed(const std::string& item) {
    return {{"event_id", server_event_id()},
            {"type", "input_audio_buffer.committed"},
            {"previous_item_id", nullptr},
            {"item_id", item}};
}

json caller_transcript(const std::string& item, const std::string& text) {
    return {{"event_id", server_event_id()},
            {"type", "conversation.item.input_audio_transcription.completed"},
            {"item_id", item},
            {"content_index", 0},
            {"transcript", text},
            {"usage", {{"type", "tokens"}, {"total_tokens", 25}}}};
}

json error_event(const std::string& code, const std::string& type = "invalid_request_error",
                 const std::string& message = "something went wrong") {
    return {{"event_id", server_event_id()},
            {"type", "error"},
            {"error",
             {{"type", type},
              {"code", code},
              {"message", message},
              {"param", nullptr},
              {"event_id", nullptr}}}};
}

// --- the harness -------------------------------------------------------------------------------

RealtimeSettings test_settings() {
    RealtimeSettings s;
    s.instructions = "You are a test agent.";
    return s;
}

// Caller sample number k of the whole call: every sample says where it came from.
int16_t caller_sample(uint64_t k) {
    return static_cast<int16_t>(static_cast<int64_t>(k * 13 % 20011) - 10000);
}

std::vector<int16_t> ramp(size_t n, int first) {
    std::vector<int16_t> v(n);
    for (size_t i = 0; i < n; ++i)
        v[i] = static_cast<int16_t>(first + static_cast<int>(i));
    return v;
}

struct Harness {
    explicit Harness(RealtimeSettings s = test_settings(), uint32_t rate = 24000)
        : playout(rate)
        , session(std::move(s), playout) {}

    media::PlayoutQueue playout;
    RealtimeSession session;
    TimePoint now = TimePoint{} + 1000s;
    uint64_t caller_samples = 0;                    // caller samples fed so far
    std::vector<json> out;                          // every event produced, in order
    std::vector<std::optional<TimePoint>> arrivals; // oldest_arrival of each

    void raw(std::string_view text) { session.on_message(text, now); }
    void server(const json& j) { raw(j.dump()); }

    std::vector<json> drain() {
        std::vector<json> got;
        std::optional<RealtimeSession::FrameTimes> oldest;
        while (auto m = session.next_outgoing(now, &oldest)) {
            produced().push_back(*m);
            json j = json::parse(*m);
            got.push_back(j);
            out.push_back(j);
            arrivals.push_back(oldest ? std::optional<TimePoint>(oldest->arrival) : std::nullopt);
        }
        return got;
    }

    void connect() {
        ASSERT_TRUE(session.wants_connection(now));
        session.on_connecting(now);
        session.on_open(now);
    }

    // Socket open, session.created, session.update out, session.updated in.
    json make_ready() {
        connect();
        raw(kSessionCreated);
        auto update = drain();
        EXPECT_EQ(update.size(), 1u);
        if (update.empty()) return json();
        EXPECT_EQ(update[0]["type"], "session.update");
        raw(kSessionUpdated);
        EXPECT_EQ(session.state(), "ready");
        return update[0];
    }

    // One 20 ms caller frame (480 samples at 24 kHz) that arrived `age` ago.
    TimePoint caller_frame(std::chrono::milliseconds age = 0ms) {
        std::vector<int16_t> frame(480);
        for (auto& s : frame)
            s = caller_sample(caller_samples++);
        const TimePoint arrival = now - age;
        session.on_caller_audio(frame, arrival, now);
        return arrival;
    }

    std::vector<int16_t> pop_frame() {
        std::vector<int16_t> frame(480);
        playout.pop_frame(frame);
        return frame;
    }
};

std::vector<uint8_t> decode_audio(const json& append) {
    std::vector<uint8_t> bytes;
    auto r = base64_decode(append["audio"].get<std::string>(), bytes);
    EXPECT_TRUE(r.ok());
    return bytes;
}

std::vector<uint8_t> caller_bytes(uint64_t first_sample, size_t count) {
    std::vector<int16_t> pcm(count);
    for (size_t i = 0; i < count; ++i)
        pcm[i] = caller_sample(first_sample + i);
    return le_bytes(pcm);
}

const json kExpectedSession = json::parse(R"({
  "type": "realtime",
  "output_modalities": ["audio"],
  "instructions": "You are a test agent.",
  "audio": {
    "input": {
      "format": {"type": "audio/pcm", "rate": 24000},
      "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                         "silence_duration_ms": 500, "create_response": true,
                         "interrupt_response": true},
      "transcription": {"model": "gpt-4o-mini-transcribe"}
    },
    "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}
  }
})");

// --- scenarios (each also feeds the schema check) ---------------------------------------------

void happy_path(Harness& h) {
    EXPECT_EQ(h.session.state(), "connecting");
    ASSERT_TRUE(h.session.wants_connection(h.now));
    h.session.on_connecting(h.now);
    EXPECT_FALSE(h.session.wants_connection(h.now));
    EXPECT_EQ(h.session.state(), "connecting");
    h.session.on_open(h.now);
    EXPECT_EQ(h.session.state(), "awaiting_session");
    EXPECT_TRUE(h.drain().empty()) << "nothing may be sent before session.created";

    // Three frames of caller audio before the session is configured: buffered, not sent.
    std::array<TimePoint, 4> arrival{};
    arrival[0] = h.caller_frame(57ms);
    arrival[1] = h.caller_frame(37ms);
    arrival[2] = h.caller_frame(17ms);

    h.raw(kSessionCreated);
    EXPECT_EQ(h.session.state(), "configuring");
    auto sent = h.drain();
    ASSERT_EQ(sent.size(), 1u) << "session.update only: no appends before session.updated";
    const json& update = sent[0];
    EXPECT_EQ(update["type"], "session.update");
    EXPECT_EQ(update["event_id"], "evt_1");
    EXPECT_EQ(update.size(), 3u); // type, event_id, session
    const json& s = update["session"];
    EXPECT_EQ(s["type"], "realtime");
    EXPECT_EQ(s["output_modalities"], json::array({"audio"}));
    EXPECT_EQ(s["instructions"], "You are a test agent.");
    EXPECT_EQ(s["audio"]["input"]["format"], json({{"type", "audio/pcm"}, {"rate", 24000}}));
    const json& td = s["audio"]["input"]["turn_detection"];
    EXPECT_EQ(td["type"], "server_vad");
    EXPECT_EQ(td["threshold"], 0.5);
    EXPECT_EQ(td["prefix_padding_ms"], 300);
    EXPECT_EQ(td["silence_duration_ms"], 500);
    EXPECT_EQ(td["create_response"], true);
    EXPECT_EQ(td["interrupt_response"], true);
    EXPECT_EQ(s["audio"]["input"]["transcription"], json({{"model", "gpt-4o-mini-transcribe"}}));
    EXPECT_EQ(s["audio"]["output"]["format"], json({{"type", "audio/pcm"}, {"rate", 24000}}));
    EXPECT_EQ(s["audio"]["output"]["voice"], "marin");
    // ...and nothing else (no model, no beta fields such as temperature or modalities).
    EXPECT_EQ(s, kExpectedSession);

    h.raw(kSessionUpdated);
    EXPECT_EQ(h.session.state(), "ready");
    // 60 ms buffered: one 40 ms append (1920 bytes = samples 0..959), 20 ms left over.
    sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["type"], "input_audio_buffer.append");
    EXPECT_EQ(sent[0]["event_id"], "evt_2");
    EXPECT_EQ(sent[0].size(), 3u);
    EXPECT_EQ(decode_audio(sent[0]), caller_bytes(0, 960));
    EXPECT_EQ(h.arrivals.back(), arrival[0]);
    arrival[3] = h.caller_frame(2ms);
    sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(decode_audio(sent[0]), caller_bytes(960, 960));
    EXPECT_EQ(h.arrivals.back(), arrival[2]) << "the append starts with the third frame";
    EXPECT_TRUE(h.drain().empty());

    // The caller's first turn and its transcript.
    h.server(committed("item_U1"));
    h.server(caller_transcript("item_U1", "[fake transcript of 1700 ms of caller audio]"));

    // Response 1: item A, 500 samples, played to the end.
    const auto a = ramp(500, 1000);
    h.server(response_created("resp_1"));
    h.server(output_item_added("resp_1", "item_A"));
    h.server(audio_delta("resp_1", "item_A", a));
    h.server(audio_done("resp_1", "item_A"));
    h.server(transcript_done("resp_1", "item_A", "Hello."));
    h.server(response_done("resp_1", "completed"));
    // Response 2: item B in two deltas, 2400 + 1000 samples (141.67 ms).
    const auto b1 = ramp(2400, 5000);
    const auto b2 = ramp(1000, 8000);
    h.server(response_created("resp_2"));
    h.server(output_item_added("resp_2", "item_B"));
    h.server(audio_delta("resp_2", "item_B", b1));
    h.server(audio_delta("resp_2", "item_B", b2));
    EXPECT_EQ(h.playout.queued_samples(), 3900u);
    EXPECT_TRUE(h.drain().empty());

    // Three frames to the caller: A[0..479]; A[480..499] + B[0..459]; B[460..939].
    auto f = h.pop_frame();
    EXPECT_EQ(f, std::vector<int16_t>(a.begin(), a.begin() + 480));
    f = h.pop_frame();
    EXPECT_EQ(std::vector<int16_t>(f.begin(), f.begin() + 20),
              std::vector<int16_t>(a.begin() + 480, a.end()));
    EXPECT_EQ(std::vector<int16_t>(f.begin() + 20, f.end()),
              std::vector<int16_t>(b1.begin(), b1.begin() + 460));
    f = h.pop_frame();
    EXPECT_EQ(f, std::vector<int16_t>(b1.begin() + 460, b1.begin() + 940));

    // Barge-in: B played 940 samples = 39.17 ms -> audio_end_ms 39 (whole ms, rounded down).
    h.now += 7ms;
    h.server(speech_started("item_U2", 4300));
    EXPECT_TRUE(h.playout.empty()) << "flushed at once";
    EXPECT_EQ(h.pop_frame(), std::vector<int16_t>(480, 0)) << "the next frame out is silence";
    sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0], json({{"type", "conversation.item.truncate"},
                             {"event_id", "evt_4"},
                             {"item_id", "item_B"},
                             {"content_index", 0},
                             {"audio_end_ms", 39}}));
    EXPECT_TRUE(sent[0]["audio_end_ms"].is_number_integer());

    // Late deltas of B and of another item of the cancelled response are ignored.
    h.server(audio_delta("resp_2", "item_B", ramp(2400, 100)));
    h.server(audio_delta("resp_2", "item_C", ramp(2400, 100)));
    EXPECT_EQ(h.playout.queued_samples(), 0u);
    h.server(audio_done("resp_2", "item_B"));
    h.server(transcript_done("resp_2", "item_B", "This is a much longer reply so that"));
    h.server(response_done("resp_2", "cancelled"));

    // The next response plays normally.
    h.server(committed("item_U2"));
    h.server(response_created("resp_3"));
    h.server(output_item_added("resp_3", "item_D"));
    const auto d = ramp(480, -3000);
    h.server(audio_delta("resp_3", "item_D", d));
    EXPECT_EQ(h.pop_frame(), d);
    h.server(audio_done("resp_3", "item_D"));
    h.server(response_done("resp_3", "completed"));
    // Speech now, with D played in full and done: no truncate.
    h.server(speech_started("item_U3", 6000));
    EXPECT_TRUE(h.drain().empty());

    const auto st = h.session.stats();
    EXPECT_EQ(st.deltas_received, 6u);
    EXPECT_EQ(st.deltas_ignored, 2u);
    EXPECT_EQ(st.truncates_sent, 1u);
    EXPECT_EQ(st.barge_ins, 1u);
    EXPECT_EQ(st.appends_sent, 2u);
    EXPECT_EQ(st.uplink_dropped_ms, 0u);
    EXPECT_EQ(st.bad_messages, 0u);
    EXPECT_TRUE(st.errors_by_code.empty());

    const auto& tr = h.session.transcripts();
    ASSERT_EQ(tr.size(), 3u);
    EXPECT_EQ(tr[0].role, "caller");
    EXPECT_EQ(tr[0].text, "[fake transcript of 1700 ms of caller audio]");
    EXPECT_EQ(tr[0].item_id, "item_U1");
    EXPECT_EQ(tr[0].at, TimePoint{} + 1000s);
    EXPECT_EQ(tr[1].role, "assistant");
    EXPECT_EQ(tr[1].text, "Hello.");
    EXPECT_FALSE(tr[1].interrupted);
    EXPECT_EQ(tr[2].role, "assistant");
    EXPECT_EQ(tr[2].item_id, "item_B");
    EXPECT_TRUE(tr[2].interrupted);
    EXPECT_EQ(tr[2].at, TimePoint{} + 1000s + 7ms);

    // Every event carries evt_<n>, numbered in order.
    for (size_t i = 0; i < h.out.size(); ++i)
        EXPECT_EQ(h.out[i]["event_id"], "evt_" + std::to_string(i + 1));
}

// A conversation, a DTMF press, a barge-in, then the 60-minute close: the new session gets
// session.update again and the conversation as text items before any append.
void reconnect_replay(Harness& h) {
    const json first_update = h.make_ready();
    h.drain();
    h.server(committed("item_U1"));
    h.server(caller_transcript("item_U1", "What time do you open?"));
    h.server(response_created("resp_1"));
    h.server(output_item_added("resp_1", "item_A1"));
    h.server(audio_delta("resp_1", "item_A1", ramp(1200, 0)));
    h.server(audio_done("resp_1", "item_A1"));
    h.server(transcript_done("resp_1", "item_A1", "We open at nine."));
    h.server(response_done("resp_1", "completed"));
    for (int i = 0; i < 3; ++i)
        h.pop_frame(); // A1 played in full
    h.server(committed("item_U2"));
    h.server(caller_transcript("item_U2", "And on Sundays?"));
    h.server(response_created("resp_2"));
    h.server(output_item_added("resp_2", "item_A2"));
    h.server(audio_delta("resp_2", "item_A2", ramp(24000, -12000))); // 1000 ms
    h.server(transcript_done("resp_2", "item_A2", "On Sundays we open at ten and close at four."));
    for (int i = 0; i < 13; ++i)
        h.pop_frame(); // 260 ms heard
    h.server(speech_started("item_U3", 9000));
    auto sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["type"], "conversation.item.truncate");
    EXPECT_EQ(sent[0]["audio_end_ms"], 260);
    // A key press while resp_2 is still running: the item now, response.create after its done.
    h.session.on_dtmf(media::DtmfDigit{'#', 1234, 800}, h.now);
    sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["type"], "conversation.item.create");
    h.server(response_done("resp_2", "cancelled"));
    sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["type"], "response.create");

    // The 60-minute cap: close 1001. Reconnect at once; the caller hears silence meanwhile.
    h.now += 1s;
    h.session.on_closed(1001, "Your session hit the maximum duration of 60 minutes.", h.now);
    EXPECT_EQ(h.session.state(), "reconnecting");
    EXPECT_TRUE(h.session.end_call() == std::nullopt);
    EXPECT_TRUE(h.session.wants_connection(h.now)) << "the first try is immediate";
    EXPECT_TRUE(h.drain().empty());
    for (int i = 0; i < 5; ++i)
        h.caller_frame(); // 100 ms said during the outage
    const uint64_t outage_first_sample = h.caller_samples - 5 * 480;
    h.now += 120ms;
    h.session.on_connecting(h.now);
    h.session.on_open(h.now);
    EXPECT_EQ(h.session.state(), "awaiting_session");
    h.raw(kSessionCreated);
    sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["type"], "session.update");
    EXPECT_EQ(sent[0]["session"], first_update["session"]);
    h.raw(kSessionUpdated);
    EXPECT_EQ(h.session.state(), "ready");
    sent = h.drain();
    const std::vector<std::pair<std::string, std::string>> expected{
        {"user", "What time do you open?"},
        {"assistant", "We open at nine."},
        {"user", "And on Sundays?"},
        {"assistant", "On Sundays we"}, // what was heard: 260 of 1000 ms, 3 of 10 words
        {"user", "The caller pressed # on the keypad."},
    };
    ASSERT_GE(sent.size(), expected.size() + 1);
    for (size_t i = 0; i < expected.size(); ++i) {
        const json& ev = sent[i];
        EXPECT_EQ(ev["type"], "conversation.item.create") << i;
        const bool assistant = expected[i].first == "assistant";
        const json item = {
            {"type", "message"},
            {"role", expected[i].first},
            {"content", json::array({{{"type", assistant ? "output_text" : "input_text"},
                                      {"text", expected[i].second}}})}};
        EXPECT_EQ(ev["item"], item) << i;
        EXPECT_EQ(ev.size(), 3u) << "type, event_id, item only";
    }
    // Then the caller audio: the 100 ms of the outage (and what was buffered before), in order.
    ASSERT_EQ(sent.size(), expected.size() + 2);
    EXPECT_EQ(sent[5]["type"], "input_audio_buffer.append");
    EXPECT_EQ(decode_audio(sent[5]), caller_bytes(outage_first_sample, 960));
    EXPECT_EQ(decode_audio(sent[6]), caller_bytes(outage_first_sample + 960, 960));
    EXPECT_EQ(h.session.stats().reconnects, 1u);
    EXPECT_EQ(h.session.stats().replayed_items, 5u);
}

void dtmf_items(Harness& h) {
    h.make_ready();
    h.drain();
    h.session.on_dtmf(media::DtmfDigit{'5', 160, 800}, h.now);
    auto sent = h.drain();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0]["type"], "conversation.item.create");
    EXPECT_EQ(sent[0]["item"], json::parse(R"({"type":"message","role":"user","content":
        [{"type":"input_text","text":"The caller pressed 5 on the keypad."}]})"));
    EXPECT_EQ(sent[1], json({{"type", "response.create"}, {"event_id", sent[1]["event_id"]}}));
    EXPECT_EQ(sent[1].size(), 2u);
    EXPECT_EQ(h.session.stats().dtmf_items, 1u);
}

void interrupt_off_cancels(Harness& h) {
    h.make_ready();
    h.drain();
    h.server(response_created("resp_9"));
    h.server(output_item_added("resp_9", "item_Z"));
    h.server(audio_delta("resp_9", "item_Z", ramp(4800, 0)));
    h.pop_frame();
    h.server(speech_started("item_U9", 100));
    const auto sent = h.drain();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0]["type"], "conversation.item.truncate");
    EXPECT_EQ(sent[0]["audio_end_ms"], 20);
    EXPECT_EQ(sent[1], json({{"type", "response.cancel"},
                             {"event_id", sent[1]["event_id"]},
                             {"response_id", "resp_9"}}));
}

// --- tests -------------------------------------------------------------------------------------

TEST(RealtimeSession, HappyPathUpdateAppendsDeltasBargeInLateDeltas) {
    Harness h;
    happy_path(h);
}

TEST(RealtimeSession, UplinkBufferIsBoundedAndCountsDroppedMs) {
    Harness h;
    // 3 s of caller audio while connecting: the buffer keeps the newest 2 s.
    std::vector<TimePoint> arrivals;
    for (int i = 0; i < 150; ++i) {
        arrivals.push_back(h.caller_frame());
        h.now += 20ms;
    }
    EXPECT_EQ(h.session.stats().uplink_dropped_ms, 1000u);
    h.make_ready();
    auto sent = h.drain();
    ASSERT_EQ(sent.size(), 50u); // 2000 ms / 40 ms (session.update went out in make_ready)
    for (size_t i = 0; i < sent.size(); ++i) {
        ASSERT_EQ(sent[i]["type"], "input_audio_buffer.append");
        // Frame 50 (the oldest kept) onwards, 960 samples per append.
        ASSERT_EQ(decode_audio(sent[i]), caller_bytes(50 * 480 + i * 960, 960)) << i;
        ASSERT_EQ(h.arrivals[1 + i], arrivals[50 + 2 * i]) << i;
    }
    // Ready, but the socket backs up (nothing drained): still bounded, oldest dropped.
    for (int i = 0; i < 110; ++i)
        h.caller_frame();
    EXPECT_EQ(h.session.stats().uplink_dropped_ms, 1200u);
    sent = h.drain();
    ASSERT_EQ(sent.size(), 50u);
    EXPECT_EQ(decode_audio(sent[0]), caller_bytes(h.caller_samples - 100 * 480, 960));
    EXPECT_EQ(h.session.stats().appends_sent, 100u);
}

TEST(RealtimeSession, AppendSizeFollowsUplinkChunk) {
    for (int chunk_ms : {20, 30, 40}) {
        auto settings = test_settings();
        settings.uplink_chunk = std::chrono::milliseconds(chunk_ms);
        Harness h(settings);
        h.make_ready();
        h.drain();
        for (int i = 0; i < 6; ++i)
            h.caller_frame(); // 120 ms
        const auto sent = h.drain();
        ASSERT_EQ(sent.size(), static_cast<size_t>(120 / chunk_ms)) << chunk_ms;
        for (size_t i = 0; i < sent.size(); ++i) {
            const size_t samples = 24 * static_cast<size_t>(chunk_ms);
            EXPECT_EQ(decode_audio(sent[i]), caller_bytes(i * samples, samples)) << chunk_ms;
        }
    }
}

TEST(RealtimeSession, DtmfBecomesUserTextItemThenResponseCreate) {
    Harness h;
    dtmf_items(h);
}

TEST(RealtimeSession, DtmfWaitsForResponseDoneAndForTheSession) {
    // Pressed before the session is ready: sent right after session.updated.
    Harness h;
    h.connect();
    h.session.on_dtmf(media::DtmfDigit{'*', 0, 400}, h.now);
    h.raw(kSessionCreated);
    EXPECT_EQ(h.drain().size(), 1u);
    h.raw(kSessionUpdated);
    auto sent = h.drain();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0]["item"]["content"][0]["text"], "The caller pressed * on the keypad.");
    EXPECT_EQ(sent[1]["type"], "response.create");
    // During a response: the item at once, response.create only after response.done.
    h.server(response_created("resp_1"));
    h.session.on_dtmf(media::DtmfDigit{'7', 0, 400}, h.now);
    sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["item"]["content"][0]["text"], "The caller pressed 7 on the keypad.");
    h.server(response_done("resp_1", "completed"));
    sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["type"], "response.create");

    // Off: nothing goes to the model.
    auto settings = test_settings();
    settings.dtmf_to_model = false;
    Harness off(settings);
    off.make_ready();
    off.drain();
    off.session.on_dtmf(media::DtmfDigit{'5', 0, 400}, off.now);
    EXPECT_TRUE(off.drain().empty());
}

TEST(RealtimeSession, EachFatalErrorCodeEndsTheCall) {
    for (const char* code : {"invalid_api_key", "insufficient_quota", "account_deactivated",
                             "billing_hard_limit_reached", "model_not_found"}) {
        Harness h;
        h.make_ready();
        h.drain();
        h.caller_frame();
        h.caller_frame();
        h.server(error_event(code, "invalid_request_error", std::string("message for ") + code));
        ASSERT_TRUE(h.session.end_call()) << code;
        EXPECT_EQ(h.session.end_call()->reason, code);
        EXPECT_EQ(h.session.end_call()->detail, std::string("message for ") + code);
        EXPECT_EQ(h.session.state(), "ended");
        EXPECT_EQ(h.session.stats().errors_by_code.at(code), 1u);
        EXPECT_TRUE(h.session.wants_close()) << "the session asks for the socket to go";
        EXPECT_TRUE(h.drain().empty()) << "nothing more is sent";
        h.session.on_closed(3000, std::string("invalid_request_error.") + code, h.now);
        EXPECT_FALSE(h.session.wants_close());
        h.now += 60s;
        h.session.on_timer(h.now);
        EXPECT_FALSE(h.session.wants_connection(h.now)) << "never retried: " << code;
        EXPECT_FALSE(h.session.next_deadline());
        EXPECT_EQ(h.session.end_call()->reason, code);
    }
}

TEST(RealtimeSession, FatalCodeFromCloseReasonOrFailedResponseEndsTheCall) {
    { // The key is refused before session.created: only the close frame says why.
        Harness h;
        h.connect();
        h.session.on_closed(3000, "invalid_request_error.invalid_api_key", h.now);
        ASSERT_TRUE(h.session.end_call());
        EXPECT_EQ(h.session.end_call()->reason, "invalid_api_key");
        EXPECT_FALSE(h.session.wants_close()) << "the socket is already gone";
        EXPECT_FALSE(h.session.wants_connection(h.now + 10s));
    }
    { // The beta shape is rejected for good (close 4000).
        Harness h;
        h.connect();
        h.server(error_event("beta_api_shape_disabled"));
        ASSERT_TRUE(h.session.end_call());
        EXPECT_EQ(h.session.end_call()->reason, "beta_api_shape_disabled");
    }
    { // Quota used up, reported inside a failed response (brief §8).
        Harness h;
        h.make_ready();
        json done = response_done("resp_1", "failed");
        done["response"]["status_details"] = {
            {"type", "failed"},
            {"reason", nullptr},
            {"error", {{"type", "insufficient_quota"}, {"code", "insufficient_quota"}}}};
        h.server(done);
        ASSERT_TRUE(h.session.end_call());
        EXPECT_EQ(h.session.end_call()->reason, "insufficient_quota");
        EXPECT_EQ(h.session.stats().errors_by_code.at("insufficient_quota"), 1u);
    }
    { // A failed response for another reason is not fatal.
        Harness h;
        h.make_ready();
        json done = response_done("resp_1", "failed");
        done["response"]["status_details"] = {
            {"type", "failed"},
            {"reason", nullptr},
            {"error", {{"type", "rate_limit_error"}, {"code", "inference_rate_limit_exceeded"}}}};
        h.server(done);
        EXPECT_FALSE(h.session.end_call());
        EXPECT_EQ(h.session.stats().errors_by_code.at("inference_rate_limit_exceeded"), 1u);
    }
}

TEST(RealtimeSession, HarmlessErrorsAreOnlyCounted) {
    Harness h;
    h.make_ready();
    h.drain();
    h.server(error_event("conversation_already_has_active_response"));
    h.server(error_event("conversation_already_has_active_response"));
    h.server(error_event("response_cancel_not_active"));
    h.server(error_event("input_audio_buffer_commit_empty"));
    h.server(error_event("invalid_value", "invalid_request_error",
                         "Audio content of 2650ms is already shorter than 9100ms"));
    h.server(error_event("server_error", "server_error"));
    json no_code = error_event("x");
    no_code["error"]["code"] = nullptr;
    h.server(no_code); // counted by its type
    EXPECT_FALSE(h.session.end_call());
    EXPECT_EQ(h.session.state(), "ready");
    const std::map<std::string, uint64_t> expected{
        {"conversation_already_has_active_response", 2},
        {"response_cancel_not_active", 1},
        {"input_audio_buffer_commit_empty", 1},
        {"invalid_value", 1},
        {"server_error", 1},
        {"invalid_request_error", 1},
    };
    EXPECT_EQ(h.session.stats().errors_by_code, expected);
    h.caller_frame();
    h.caller_frame();
    const auto sent = h.drain();
    ASSERT_EQ(sent.size(), 1u) << "audio still flows";
    EXPECT_EQ(sent[0]["type"], "input_audio_buffer.append");
}

TEST(RealtimeSession, ReconnectScheduleImmediateBackoffCapGiveUpAt30s) {
    Harness h;
    h.make_ready();
    h.drain();
    const TimePoint lost_at = h.now;
    h.session.on_closed(0, "connection reset", h.now); // no close frame
    EXPECT_EQ(h.session.state(), "reconnecting");
    // Each attempt fails 10 ms after it starts; record the gap from the failure to the next try.
    std::vector<int64_t> gaps_ms;
    std::vector<int64_t> starts_ms;
    TimePoint last_failure = h.now;
    for (int guard = 0; guard < 1000 && !h.session.end_call(); ++guard) {
        if (h.session.wants_connection(h.now)) {
            gaps_ms.push_back((h.now - last_failure) / 1ms);
            starts_ms.push_back((h.now - lost_at) / 1ms);
            h.session.on_connecting(h.now);
            h.now += 10ms;
            h.session.on_timer(h.now);
            h.session.on_closed(0, "connection refused", h.now);
            last_failure = h.now;
            continue;
        }
        const auto deadline = h.session.next_deadline();
        ASSERT_TRUE(deadline);
        ASSERT_GT(*deadline, h.now);
        // Nothing happens early.
        h.session.on_timer(*deadline - 1ms);
        ASSERT_FALSE(h.session.wants_connection(*deadline - 1ms));
        ASSERT_FALSE(h.session.end_call());
        h.now = *deadline;
        h.session.on_timer(h.now);
    }
    ASSERT_TRUE(h.session.end_call());
    EXPECT_EQ(h.session.end_call()->reason, "openai_unavailable");
    EXPECT_EQ(h.now - lost_at, 30s) << "gives up exactly reconnect_give_up after the loss";
    ASSERT_GE(gaps_ms.size(), 6u);
    const std::vector<int64_t> head(gaps_ms.begin(), gaps_ms.begin() + 6);
    EXPECT_EQ(head, (std::vector<int64_t>{0, 250, 500, 1000, 2000, 2000}));
    for (size_t i = 4; i < gaps_ms.size(); ++i)
        EXPECT_EQ(gaps_ms[i], 2000) << "capped at 2 s, try " << i;
    // Tries at 0, 0.26, 0.77, 1.78, 3.79, then every 2.01 s while under 30 s.
    EXPECT_EQ(starts_ms.back(), 3790 + 2010 * 13);
    EXPECT_EQ(starts_ms.size(), 5u + 13u);
    EXPECT_EQ(h.session.stats().connect_attempts, 1u + starts_ms.size());
    EXPECT_EQ(h.session.stats().reconnects, 0u);
    EXPECT_FALSE(h.session.wants_connection(h.now + 1h));
    EXPECT_FALSE(h.session.next_deadline());
}

TEST(RealtimeSession, SuccessfulReconnectResetsTheBackoff) {
    Harness h;
    h.make_ready();
    h.session.on_closed(1001, "Your session hit the maximum duration of 60 minutes.", h.now);
    for (int i = 0; i < 3; ++i) { // three failed tries: 0, +250, +500
        while (!h.session.wants_connection(h.now))
            h.now = *h.session.next_deadline();
        h.session.on_connecting(h.now);
        h.session.on_closed(0, "refused", h.now);
    }
    EXPECT_EQ(*h.session.next_deadline() - h.now, 1000ms);
    h.now += 1000ms;
    h.make_ready();
    EXPECT_EQ(h.session.stats().reconnects, 1u);
    EXPECT_FALSE(h.session.next_deadline()) << "no timer while ready";
    h.now += 5min;
    h.session.on_closed(1006, "", h.now);
    EXPECT_TRUE(h.session.wants_connection(h.now)) << "a new outage starts with an immediate try";
    EXPECT_EQ(*h.session.next_deadline(), h.now);
    h.session.on_connecting(h.now);
    EXPECT_EQ(*h.session.next_deadline(), h.now + 5s) << "the connect timeout";
    h.session.on_closed(0, "refused", h.now);
    EXPECT_EQ(*h.session.next_deadline(), h.now + 250ms) << "the backoff starts over";
}

TEST(RealtimeSession, ReconnectReplaysTheConversationBeforeAppends) {
    Harness h;
    reconnect_replay(h);
}

TEST(RealtimeSession, ConnectTimeoutAndSetupTimeout) {
    Harness h;
    const TimePoint t0 = h.now;
    h.session.on_connecting(t0);
    EXPECT_EQ(h.session.next_deadline(), t0 + 5s);
    h.session.on_timer(t0 + 4999ms);
    EXPECT_FALSE(h.session.wants_close());
    h.session.on_timer(t0 + 5s);
    EXPECT_TRUE(h.session.wants_close()) << "the transport aborts the attempt";
    EXPECT_EQ(h.session.stats().connect_timeouts, 1u);
    EXPECT_FALSE(h.session.wants_connection(t0 + 10s)) << "not before the old socket is gone";
    h.session.on_closed(0, "connect timeout", t0 + 5s);
    EXPECT_FALSE(h.session.wants_close());
    EXPECT_FALSE(h.session.end_call());
    EXPECT_EQ(h.session.next_deadline(), t0 + 5250ms);
    EXPECT_FALSE(h.session.wants_connection(t0 + 5249ms));
    ASSERT_TRUE(h.session.wants_connection(t0 + 5250ms));

    // Open, but the server never sends session.created: the set-up timeout (10 s).
    const TimePoint t1 = t0 + 5250ms;
    h.session.on_connecting(t1);
    h.session.on_open(t1 + 100ms);
    EXPECT_EQ(h.session.next_deadline(), t1 + 100ms + 10s);
    h.session.on_timer(t1 + 100ms + 10s);
    EXPECT_TRUE(h.session.wants_close());
    EXPECT_EQ(h.session.stats().setup_timeouts, 1u);
    EXPECT_EQ(h.session.state(), "connecting");
    h.session.on_closed(1000, "", t1 + 100ms + 10s);
    EXPECT_EQ(h.session.next_deadline(), t1 + 100ms + 10s + 500ms);
}

TEST(RealtimeSession, StreamingUnderrunStillTruncatesThePlayingItem) {
    Harness h;
    h.make_ready();
    h.drain();
    h.server(response_created("resp_1"));
    h.server(output_item_added("resp_1", "item_A"));
    h.server(audio_delta("resp_1", "item_A", ramp(700, 0)));
    h.pop_frame();
    h.pop_frame(); // 700 samples played (29.17 ms), the queue ran dry, more deltas to come
    ASSERT_TRUE(h.playout.empty());
    h.server(speech_started("item_U", 500));
    const auto sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["item_id"], "item_A");
    EXPECT_EQ(sent[0]["audio_end_ms"], 29);
}

TEST(RealtimeSession, InterruptResponseOffSendsResponseCancel) {
    auto settings = test_settings();
    settings.turn_detection.interrupt_response = false;
    Harness h(settings);
    interrupt_off_cancels(h);
}

TEST(RealtimeSession, PcmuSizesAndFormats) {
    auto settings = test_settings();
    settings.format = media::AiAudioFormat::pcmu;
    Harness h(settings);
    const json update = h.make_ready();
    EXPECT_EQ(update["session"]["audio"]["input"]["format"], json({{"type", "audio/pcmu"}}));
    EXPECT_EQ(update["session"]["audio"]["output"]["format"], json({{"type", "audio/pcmu"}}));
    // Caller silence: 40 ms appends are 320 bytes of μ-law silence (0xFF).
    for (int i = 0; i < 4; ++i)
        h.session.on_caller_audio(std::vector<int16_t>(480, 0), h.now, h.now);
    const auto sent = h.drain();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(decode_audio(sent[0]), std::vector<uint8_t>(320, 0xFF));
    EXPECT_EQ(decode_audio(sent[1]), std::vector<uint8_t>(320, 0xFF));
    // Downlink: 100 ms of μ-law (800 bytes at 8 kHz) become 2400 samples at 24 kHz.
    std::vector<int16_t> tone(800);
    for (size_t i = 0; i < tone.size(); ++i)
        tone[i] = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 400 * i / 8000.0));
    std::vector<uint8_t> ulaw(800);
    media::encode_ulaw(tone, ulaw);
    h.server(response_created("resp_1"));
    h.server(audio_delta_bytes("resp_1", "item_M", ulaw));
    EXPECT_EQ(h.playout.queued_samples() + h.playout.progress("item_M")->played_samples, 2400u);
    h.pop_frame();
    h.pop_frame(); // 40 ms played
    h.server(speech_started("item_U", 0));
    const auto trunc = h.drain();
    ASSERT_EQ(trunc.size(), 1u);
    EXPECT_EQ(trunc[0]["audio_end_ms"], 40);
}

TEST(RealtimeSession, PcmaFormatAndSilence) {
    auto settings = test_settings();
    settings.format = media::AiAudioFormat::pcma;
    Harness h(settings);
    const json update = h.make_ready();
    EXPECT_EQ(update["session"]["audio"]["input"]["format"], json({{"type", "audio/pcma"}}));
    EXPECT_EQ(update["session"]["audio"]["output"]["format"], json({{"type", "audio/pcma"}}));
    h.session.on_caller_audio(std::vector<int16_t>(480, 0), h.now, h.now);
    h.session.on_caller_audio(std::vector<int16_t>(480, 0), h.now, h.now);
    const auto sent = h.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(decode_audio(sent[0]), std::vector<uint8_t>(320, 0xD5)); // A-law zero
}

TEST(RealtimeSession, MalformedServerMessagesAreCountedAndIgnored) {
    Harness h;
    h.make_ready();
    h.drain();
    for (const char* bad : {"", "not json", "[1,2,3]", "{\"no_type\":1}", "{\"type\":5}",
                            R"({"type":"response.output_audio.delta","item_id":"i","delta":"***"})",
                            R"({"type":"response.output_audio.delta","item_id":"i","delta":7})",
                            R"({"type":"response.output_audio.delta","delta":"AAAA"})",
                            R"({"type":"response.output_audio.delta","item_id":"i",
                                "content_index":-1,"delta":"AAAA"})"}) {
        h.raw(bad);
    }
    h.raw(R"({"type":"response.output_audio.delta","item_id":"i","delta":"AAAA"})"); // valid
    h.raw(R"({"type":"conversation.item.added","item":{}})");                        // no action
    h.raw(R"({"type":"error"})"); // an error without details: counted as "unknown"
    const auto st = h.session.stats();
    EXPECT_EQ(st.bad_messages, 9u);
    EXPECT_EQ(st.deltas_received, 5u);
    EXPECT_EQ(st.unknown_events, 1u);
    EXPECT_EQ(st.errors_by_code.at("unknown"), 1u);
    EXPECT_EQ(h.playout.queued_samples(), 1u); // the one valid delta: 3 bytes, 1 sample + 1 byte
    EXPECT_EQ(h.session.state(), "ready");
    EXPECT_FALSE(h.session.end_call());
}

// Large deltas skip the JSON lexer for their audio (cut out, decoded in place); whatever the
// shape of the message, the audio that plays is the same as through the full parser.
TEST(RealtimeSession, LargeDeltasGiveTheSameAudioWhicheverPathTheyTake) {
    Harness h;
    h.make_ready();
    h.drain();
    std::vector<int16_t> pcm(2400); // 100 ms
    for (size_t i = 0; i < pcm.size(); ++i)
        pcm[i] = static_cast<int16_t>((i * 7919) % 30000 - 15000);
    const std::string b64 = base64_encode(le_bytes(pcm));
    ASSERT_NE(b64.find('/'), std::string::npos); // the escaped variant below changes something
    std::string escaped;
    for (char c : b64)
        escaped += c == '/' ? std::string("\\/") : std::string(1, c);
    const std::string head = R"({"type":"response.output_audio.delta","response_id":"r",)";
    h.raw(head + R"("item_id":"i1","content_index":0,"delta":")" + b64 + "\"}");    // cut
    h.raw(head + R"("item_id":"i2","delta":")" + escaped + "\"}");                  // parser
    h.raw(head + R"("item_id":"i3","x":{"delta":"AAAA"},"delta":")" + b64 + "\"}"); // nested key
    h.raw(R"({"delta":")" + b64 + R"(","item_id":"i4","type":"response.output_audio.delta"})");
    h.raw(head + R"("item_id":"i5","delta":")" + b64.substr(0, 1000) + "*" + b64.substr(1001) +
          "\"}"); // not base64
    const auto st = h.session.stats();
    EXPECT_EQ(st.deltas_received, 5u);
    EXPECT_EQ(st.bad_messages, 1u);
    ASSERT_EQ(h.playout.queued_samples(), 4 * pcm.size());
    for (int copy = 0; copy < 4; ++copy) {
        std::vector<int16_t> got;
        for (int f = 0; f < 5; ++f) {
            auto frame = h.pop_frame();
            got.insert(got.end(), frame.begin(), frame.end());
        }
        EXPECT_EQ(got, pcm) << "copy " << copy;
    }
}

TEST(RealtimeSession, InvalidSettingsEndAtOnce) {
    auto settings = test_settings();
    settings.format = media::AiAudioFormat::pcm16k;
    Harness h(settings);
    ASSERT_TRUE(h.session.end_call());
    EXPECT_EQ(h.session.end_call()->reason, "invalid_settings");
    EXPECT_FALSE(h.session.wants_connection(h.now));
    h.session.on_caller_audio(std::vector<int16_t>(480, 0), h.now, h.now);
    EXPECT_FALSE(h.session.next_outgoing(h.now));
}

TEST(RealtimeSession, CloseStopsEverything) {
    Harness h;
    h.make_ready();
    h.drain();
    h.caller_frame();
    h.caller_frame();
    h.session.close();
    EXPECT_EQ(h.session.state(), "ended");
    EXPECT_FALSE(h.session.end_call()) << "not the session's reason";
    EXPECT_TRUE(h.session.wants_close());
    EXPECT_TRUE(h.drain().empty());
    h.session.on_closed(1000, "", h.now);
    EXPECT_FALSE(h.session.wants_connection(h.now + 1min));
}

TEST(RealtimeSettings, SessionConfigVariants) {
    RealtimeSettings s;
    s.instructions = "Be brief.";
    s.transcription_model.clear();
    s.voice = "voice_1234";
    s.turn_detection.type = "semantic_vad";
    s.turn_detection.eagerness = "low";
    s.turn_detection.create_response = false;
    const json expected = json::parse(R"({
      "type": "realtime", "output_modalities": ["audio"], "instructions": "Be brief.",
      "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 24000},
                  "turn_detection": {"type": "semantic_vad", "eagerness": "low",
                                     "create_response": false, "interrupt_response": true}},
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": {"id": "voice_1234"}}
      }})");
    EXPECT_EQ(session_config_json(s), expected);
    EXPECT_TRUE(validate(s).ok());
}

TEST(RealtimeSettings, ValidateRejectsWhatTheApiCannotTake) {
    auto bad = [](auto change) {
        RealtimeSettings s;
        change(s);
        return validate(s).ok() ? std::string("accepted") : validate(s).error();
    };
    EXPECT_EQ(bad([](RealtimeSettings&) {}), "accepted");
    EXPECT_NE(bad([](RealtimeSettings& s) { s.format = media::AiAudioFormat::pcm16k; }),
              "accepted");
    EXPECT_NE(bad([](RealtimeSettings& s) { s.turn_detection.type = "none"; }), "accepted");
    EXPECT_NE(bad([](RealtimeSettings& s) { s.turn_detection.threshold = 1.5; }), "accepted");
    EXPECT_NE(bad([](RealtimeSettings& s) { s.uplink_chunk = 10ms; }), "accepted");
    EXPECT_NE(bad([](RealtimeSettings& s) { s.uplink_chunk = 60ms; }), "accepted");
    EXPECT_NE(bad([](RealtimeSettings& s) { s.uplink_buffer_max = 30ms; }), "accepted");
    EXPECT_NE(bad([](RealtimeSettings& s) { s.reconnect_backoff_cap = 100ms; }), "accepted");
    EXPECT_NE(bad([](RealtimeSettings& s) {
                  s.turn_detection.eagerness = "eager";
                  s.turn_detection.type = "semantic_vad";
              }),
              "accepted");
}

// --- schema check ------------------------------------------------------------------------------

struct ValidatorRun {
    int status = -1;
    std::string output;
};

ValidatorRun run_validator(const std::string& events_file) {
    const std::string cmd = "/usr/bin/python3 tests/ai/validate_events.py " +
                            test::data_path("openai/openai-realtime-schemas.json") + " " +
                            events_file + " 2>&1";
    ValidatorRun run;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return run;
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
        run.output.append(buf.data(), n);
    const int rc = pclose(p);
    run.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return run;
}

TEST(RealtimeSchema, EveryProducedEventValidatesAgainstClientEventsStrict) {
    if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "/usr/bin/python3 missing";
    // Run every scenario here too, so the check covers all shapes whatever the test filter.
    {
        Harness h;
        happy_path(h);
    }
    {
        Harness h;
        reconnect_replay(h);
    }
    {
        Harness h;
        dtmf_items(h);
    }
    {
        auto settings = test_settings();
        settings.turn_detection.interrupt_response = false;
        Harness h(settings);
        interrupt_off_cancels(h);
    }
    for (auto format : {media::AiAudioFormat::pcmu, media::AiAudioFormat::pcma}) {
        auto settings = test_settings();
        settings.format = format;
        settings.transcription_model.clear();
        settings.voice = "cedar";
        Harness h(settings);
        h.make_ready();
        h.caller_frame();
        h.caller_frame();
        h.drain();
    }
    {
        RealtimeSettings settings;
        settings.turn_detection.type = "semantic_vad";
        settings.voice = "voice_abc123";
        Harness h(settings);
        h.make_ready();
    }
    const auto& events = produced();
    std::set<std::string> types;
    for (const auto& e : events)
        types.insert(json::parse(e)["type"].get<std::string>());
    const std::set<std::string> expected_types{
        "session.update",           "input_audio_buffer.append",
        "conversation.item.create", "conversation.item.truncate",
        "response.create",          "response.cancel"};
    EXPECT_EQ(types, expected_types);

    const std::string path = testing::TempDir() + "realtime_session_events.jsonl";
    {
        std::ofstream f(path);
        for (const auto& e : events)
            f << e << '\n';
    }
    const ValidatorRun run = run_validator(path);
    if (run.status == 77) GTEST_SKIP() << run.output;
    EXPECT_EQ(run.status, 0) << run.output;
    const std::string summary = "validated " + std::to_string(events.size()) + " events";
    EXPECT_NE(run.output.find(summary), std::string::npos) << run.output;
    EXPECT_NE(run.output.find(", 0 invalid"), std::string::npos) << run.output;

    // The check can fail: a beta-shaped update and a fractional truncate are violations.
    const std::string bad_path = testing::TempDir() + "realtime_session_bad_events.jsonl";
    {
        std::ofstream f(bad_path);
        f << R"({"type":"session.update","session":{"type":"realtime","input_audio_format":"pcm16"}})"
          << '\n'
          << R"({"type":"conversation.item.truncate","item_id":"i","content_index":0,"audio_end_ms":12.5})"
          << '\n';
    }
    const ValidatorRun bad = run_validator(bad_path);
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find(", 2 invalid"), std::string::npos) << bad.output;
}

} // namespace
} // namespace wabridge::ai

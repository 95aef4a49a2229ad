// libFuzzer target for the OpenAI Realtime session state machine: arbitrary server messages,
// interleaved with caller audio, DTMF, playout, timers and socket events, go into one
// RealtimeSession (brief: ../shared/docs/openai-realtime.md).
//
// The input is text, one step per '\n'-separated line, so real server events (JSON lines, see
// fuzz/seeds/realtime_event) are seeds as they are:
//   - a line starting with '!' is a list of one-letter operations (see run_ops());
//   - any other line is one server text message (on_message).
// A first octet below 0x20 picks the settings (format, interrupt_response, DTMF, chunk size).
// The session is connected and opened before the first line.
// Beyond "no crash, no sanitizer report", after every step it checks:
//  1. every outgoing message is a JSON object whose `type` is a known GA client event, with an
//     event_id "evt_<n>" whose n rises across the whole call (never reused);
//  2. an append carries base64 audio of exactly one uplink chunk; a truncate has integer
//     content_index and audio_end_ms >= 0; session.update has session.type "realtime";
//  3. nothing is sent after the call ended or was closed, and state() is one of the six names;
//  4. deltas_ignored <= deltas_received.
#include "wabridge/ai/base64.hpp"
#include "wabridge/ai/realtime_session.hpp"
#include "wabridge/media/resampler.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

// --- the target ------------------------------------------------------------------------------

namespace {

using namespace wabridge;
using namespace std::chrono_literals;
using nlohmann::json;

[[noreturn]] void violated(const char* what, std::string_view detail) {
    std::fprintf(stderr, "realtime_event invariant violated: %s\n%.*s\n", what,
                 static_cast<int>(std::min<size_t>(detail.size(), 2000)), detail.data());
    std::abort();
}

constexpr std::array<std::string_view, 11> kClientTypes{
    "session.update",           "input_audio_buffer.append",  "input_audio_buffer.commit",
    "input_audio_buffer.clear", "conversation.item.create",   "conversation.item.truncate",
    "conversation.item.delete", "conversation.item.retrieve", "response.create",
    "response.cancel",          "output_audio_buffer.clear",
};
constexpr std::array<std::string_view, 6> kStates{"connecting", "awaiting_session", "configuring",
                                                  "ready",      "reconnecting",     "ended"};

struct Driver {
    explicit Driver(ai::RealtimeSettings s)
        : chunk_bytes(static_cast<size_t>(s.uplink_chunk.count()) *
                      (s.format == media::AiAudioFormat::pcm24k ? 48 : 8))
        , session(std::move(s), playout) {}

    size_t chunk_bytes;
    media::PlayoutQueue playout;
    ai::RealtimeSession session;
    ai::TimePoint now = ai::TimePoint{} + 1000s;
    uint64_t last_event = 0;
    uint64_t caller_samples = 0;

    void connect() {
        if (!session.wants_connection(now)) return;
        session.on_connecting(now);
        session.on_open(now);
    }

    void check_message(const std::string& text) {
        const json ev = json::parse(text, nullptr, false);
        if (ev.is_discarded() || !ev.is_object())
            violated("outgoing message is not a JSON object", text);
        const auto type = ev.find("type");
        if (type == ev.end() || !type->is_string()) violated("no type", text);
        const std::string& t = type->get_ref<const std::string&>();
        if (std::find(kClientTypes.begin(), kClientTypes.end(), t) == kClientTypes.end())
            violated("unknown client event type", text);
        // Ids are never reused: they rise with every event made. Events queued for a socket
        // that was lost are dropped with it, so a gap is allowed.
        const auto id = ev.find("event_id");
        if (id == ev.end() || !id->is_string()) violated("no event_id", text);
        const std::string& id_text = id->get_ref<const std::string&>();
        uint64_t n = 0;
        if (id_text.size() < 5 || id_text.size() > 24 || id_text.compare(0, 4, "evt_") != 0)
            violated("event_id not evt_<n>", text);
        for (size_t i = 4; i < id_text.size(); ++i) {
            if (id_text[i] < '0' || id_text[i] > '9') violated("event_id not evt_<n>", text);
            n = n * 10 + static_cast<uint64_t>(id_text[i] - '0');
        }
        if (n <= last_event) violated("event_id not rising", text);
        last_event = n;
        if (t == "input_audio_buffer.append") {
            const auto audio = ev.find("audio");
            std::vector<uint8_t> bytes;
            if (audio == ev.end() || !audio->is_string() ||
                !ai::base64_decode(audio->get_ref<const std::string&>(), bytes).ok() ||
                bytes.size() != chunk_bytes) {
                violated("append is not one chunk of base64 audio", text);
            }
        } else if (t == "conversation.item.truncate") {
            const auto end = ev.find("audio_end_ms");
            const auto ci = ev.find("content_index");
            if (end == ev.end() || !end->is_number_integer() || *end < 0 || ci == ev.end() ||
                !ci->is_number_integer()) {
                violated("bad truncate", text);
            }
        } else if (t == "session.update") {
            const auto session = ev.find("session");
            if (session == ev.end() || !session->is_object() || !session->contains("type") ||
                (*session)["type"] != "realtime") {
                violated("session.type", text);
            }
        }
    }

    void drain() {
        for (;;) {
            const bool ended = session.state() == "ended";
            const auto m = session.next_outgoing(now);
            if (!m) break;
            if (ended) violated("message after the end", *m);
            check_message(*m);
        }
    }

    void check() {
        drain();
        const auto st = session.state();
        if (std::find(kStates.begin(), kStates.end(), st) == kStates.end())
            violated("unknown state", st);
        const auto stats = session.stats();
        if (stats.deltas_ignored > stats.deltas_received) violated("ignored > received", "");
        if (session.end_call() && session.next_outgoing(now)) violated("sent after end_call", "");
    }

    void caller_frame(uint8_t seed) {
        std::array<int16_t, 480> frame{};
        for (auto& s : frame)
            s = static_cast<int16_t>((caller_samples++ * (seed | 1u)) & 0xFFFF);
        session.on_caller_audio(frame, now, now);
    }

    void pop() {
        std::array<int16_t, 480> frame{};
        playout.pop_frame(frame);
    }

    // One operation per character.
    void run_ops(std::string_view ops) {
        for (size_t i = 0; i < ops.size(); ++i) {
            switch (ops[i]) {
            case 'a': // 20 ms of caller audio
                caller_frame(i + 1 < ops.size() ? static_cast<uint8_t>(ops[i + 1]) : 0);
                break;
            case 't': // one 20 ms tick: a frame out to the caller, timers
                now += 20ms;
                pop();
                session.on_timer(now);
                break;
            case 'T': // a second passes
                now += 1s;
                session.on_timer(now);
                break;
            case 'w': // jump to the next deadline
                if (auto d = session.next_deadline()) {
                    if (*d > now) now = *d;
                    session.on_timer(now);
                }
                break;
            case 'p':
                pop();
                break;
            case 'o': // the transport (re)connects if asked to
                connect();
                break;
            case 'n': // ...or only starts an attempt
                if (session.wants_connection(now)) session.on_connecting(now);
                break;
            case 'u': // ...which opens
                session.on_open(now);
                break;
            case 'c':
                session.on_closed(1001, "Your session hit the maximum duration of 60 minutes.",
                                  now);
                break;
            case 'x':
                session.on_closed(0, "", now);
                break;
            case 'f':
                session.on_closed(3000, "invalid_request_error.invalid_api_key", now);
                break;
            case 'W': // the transport honours wants_close()
                if (session.wants_close()) session.on_closed(1000, "", now);
                break;
            case 'd':
                if (i + 1 < ops.size()) {
                    session.on_dtmf(media::DtmfDigit{ops[i + 1], 0, 800}, now);
                    ++i;
                }
                break;
            case 'k':
                session.close();
                break;
            default:
                break;
            }
            check();
        }
    }
};

ai::RealtimeSettings settings_from(uint8_t config) {
    ai::RealtimeSettings s;
    s.instructions = "Fuzz.";
    switch (config & 3) {
    case 1:
        s.format = media::AiAudioFormat::pcmu;
        break;
    case 2:
        s.format = media::AiAudioFormat::pcma;
        break;
    default:
        break;
    }
    if (config & 4) s.turn_detection.interrupt_response = false;
    if (config & 8) s.dtmf_to_model = false;
    if (config & 16) s.uplink_chunk = 20ms;
    return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    uint8_t config = 0;
    if (!input.empty() && static_cast<uint8_t>(input[0]) < 0x20 && input[0] != '\n') {
        config = static_cast<uint8_t>(input[0]);
        input.remove_prefix(1);
    }
    Driver d(settings_from(config));
    d.connect();
    d.check();
    while (!input.empty()) {
        const size_t eol = input.find('\n');
        const std::string_view line = input.substr(0, eol);
        input.remove_prefix(eol == std::string_view::npos ? input.size() : eol + 1);
        if (!line.empty() && line[0] == '!') {
            d.run_ops(line.substr(1));
        } else {
            d.session.on_message(line, d.now);
            d.check();
        }
    }
    return 0;
}

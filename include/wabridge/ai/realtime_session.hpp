// One call's OpenAI Realtime (GA) session as a sans-IO state machine: JSON text in, JSON text
// out, time passed in. No socket, thread or clock here; the WebSocket transport drives it.
// Protocol: ../shared/docs/openai-realtime.md (cited as "brief §n"), GA interface only.
//
// Driving it (the transport's loop, one socket at a time):
//   - wants_connection(now) true → on_connecting(now), open the WebSocket; handshake done →
//     on_open(now); each complete text message → on_message(); the socket gone (error, close
//     frame, or after the session asked for it) → on_closed(code, reason, now).
//   - wants_close() true → close the socket (or abort the attempt) and then call on_closed().
//     The session asks for it after a connect/set-up timeout and when the call must end.
//   - When the socket can take a message: while (auto m = next_outgoing(now)) send(*m).
//   - Arm a timer for next_deadline(); when it fires call on_timer(now), then look at
//     wants_connection() and wants_close() again (a reconnect's time is such a deadline).
//   - end_call() set → hang up with that reason.
// The session owns the connect timeout (settings.connect_timeout, 5 s from on_connecting to
// on_open) and a set-up timeout (settings.setup_timeout, from on_open to session.updated);
// either counts as a failed attempt, like a lost socket. A refusal the transport can classify
// (e.g. HTTP 401 on the upgrade) should be reported as on_closed(0, "<type>.<code>"), the form
// of the server's own close reasons, so that a fatal code ends the call without retries.
//
// Behaviour (issue 6):
//   - Start-up: session.update (GA shape, realtime_settings.hpp) once session.created is in;
//     appends only from session.updated on. Until then, and whenever the socket backs up,
//     caller audio waits in a buffer of at most uplink_buffer_max, the oldest dropped first.
//   - Downlink: response.output_audio.delta → AI format → 24 kHz → PlayoutQueue, tagged with
//     item_id/content_index.
//   - Barge-in (brief §7): on input_audio_buffer.speech_started while AI audio is queued or
//     still arriving: flush the queue, send conversation.item.truncate with the whole ms
//     played of that item (clamped to what was received), ignore its later deltas and those of
//     its response; with interrupt_response off, also response.cancel.
//   - DTMF (on by default, dtmf_to_model): each key becomes a user message
//     {"type":"input_text","text":"The caller pressed 5 on the keypad."} followed by
//     response.create; while a response runs, response.create waits for its response.done,
//     and before the session is ready both wait for session.updated.
//   - Errors (brief §8): every `error` counted by code; fatal codes end the call with the code
//     as the reason and no retry; all others are only counted.
//   - Lost socket or close 1001 (60-minute cap): the queued AI audio is dropped (silence),
//     the first reconnect is immediate, then reconnect_backoff_initial doubling up to
//     reconnect_backoff_cap after each failed try; reconnect_give_up after the loss without a
//     working session ends the call "openai_unavailable". On the new session: session.update,
//     then the conversation so far as text items (caller turns as user input_text, assistant
//     turns as assistant output_text, an interrupted assistant turn cut to the share of its
//     words that was heard), then the appends.
#pragma once

#include "wabridge/ai/realtime_settings.hpp"
#include "wabridge/loop/timer_queue.hpp"
#include "wabridge/media/ai_audio_format.hpp"
#include "wabridge/media/dtmf_receiver.hpp"
#include "wabridge/media/playout_queue.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::ai {

using TimePoint = loop::TimePoint;

// Why the call must end: a fatal error code from the server (invalid_api_key,
// insufficient_quota, account_deactivated, billing_hard_limit_reached, model_not_found,
// beta_api_shape_disabled), "openai_unavailable" when reconnecting gave up, or
// "invalid_settings". `detail` is the server's message or close reason, for the log.
struct EndCall {
    std::string reason;
    std::string detail;
};

// A finished utterance: the caller's (input audio transcription) or the assistant's (its audio
// transcript). `interrupted`: an assistant item the caller barged into (truncated).
struct Transcript {
    std::string role; // "caller" | "assistant"
    std::string text;
    std::string item_id;
    TimePoint at;
    bool interrupted = false;
};

class RealtimeSession {
public:
    // Invalid settings (see validate()) leave the session ended with reason "invalid_settings".
    RealtimeSession(RealtimeSettings settings, media::PlayoutQueue& playout,
                    int resampler_quality = 3);

    // --- connection -------------------------------------------------------------------------
    // True: the transport should (re)connect now (no socket, not ended, the retry time reached).
    bool wants_connection(TimePoint now) const;
    // The transport started a connection attempt (starts the connect timeout).
    void on_connecting(TimePoint now);
    // The socket is open (WebSocket handshake done). The session waits for session.created.
    void on_open(TimePoint now);
    // One complete text message from the server.
    void on_message(std::string_view json, TimePoint now);
    // The socket closed or failed (code 0 = no close frame). Decides reconnect or end.
    void on_closed(uint16_t code, std::string_view reason, TimePoint now);
    // True: the transport should close the current socket (or abort the attempt), then report
    // on_closed().
    bool wants_close() const { return close_wanted_; }

    // --- media -----------------------------------------------------------------------------
    // Caller audio (20 ms at 24 kHz) and DTMF.
    void on_caller_audio(std::span<const int16_t> frame, TimePoint arrival, TimePoint now);
    void on_dtmf(const media::DtmfDigit& d, TimePoint now);

    // When a caller frame reached the bridge (RTP arrival) and when it left the jitter buffer
    // (on_caller_audio's `now`): uplink latency with and without the buffer.
    struct FrameTimes {
        TimePoint arrival;
        TimePoint released;
    };
    // The next text message to write, if any, when the transport can write (control events
    // first, then appends of uplink_chunk). `oldest` (out) = the times of the first caller frame
    // in an append (std::nullopt for other events), for latency.
    std::optional<std::string> next_outgoing(TimePoint now,
                                             std::optional<FrameTimes>* oldest = nullptr);

    // --- timers and outcome ----------------------------------------------------------------
    std::optional<TimePoint> next_deadline() const; // reconnect time or other timers
    void on_timer(TimePoint now);
    std::optional<EndCall> end_call() const { return end_; }
    // The call is over for another reason: stop (no end_call), close the socket if any.
    void close();

    const std::vector<Transcript>& transcripts() const { return transcripts_; }
    const RealtimeSettings& settings() const { return settings_; }

    struct Stats {
        uint64_t appends_sent = 0;
        uint64_t uplink_dropped_ms = 0; // caller audio dropped from the bounded buffer
        uint64_t deltas_received = 0;   // response.output_audio.delta events
        uint64_t deltas_ignored = 0;    // ...of interrupted items/responses (not played)
        uint64_t truncates_sent = 0;
        uint64_t reconnects = 0; // sessions restored after a lost one
        uint64_t barge_ins = 0;
        // `error` events by code (else type) and failed responses by status_details.error.code
        std::map<std::string, uint64_t> errors_by_code;
        uint64_t connect_attempts = 0;
        uint64_t connect_timeouts = 0; // no on_open within connect_timeout
        uint64_t setup_timeouts = 0;   // no session.updated within setup_timeout
        uint64_t events_sent = 0;      // every message next_outgoing returned
        uint64_t events_received = 0;
        uint64_t bad_messages = 0;   // not JSON, not an event, or bad fields (e.g. base64)
        uint64_t unknown_events = 0; // event types the session does not act on
        uint64_t dtmf_items = 0;
        uint64_t replayed_items = 0;
        uint64_t transcripts = 0;
    };
    Stats stats() const;
    // "connecting", "awaiting_session", "configuring", "ready", "reconnecting", "ended"
    std::string_view state() const;

    static constexpr size_t kMaxReplayItems = 200; // the most recent turns replayed
    static constexpr size_t kTrackedItems = 16;    // audio items remembered (clamp, ignore)

private:
    enum class Link { none, attempting, awaiting_session, configuring, ready };

    // One turn of the conversation, for the replay after a reconnect (brief §8).
    struct Turn {
        bool assistant = false;
        std::string item_id{}; // of the connection it happened on; empty for DTMF items
        std::string text{};    // empty until its transcript arrives
        std::optional<uint64_t> heard_ms{}; // truncated at (assistant)
        uint64_t received_ms = 0;           // audio received when truncated
    };
    // An assistant item's audio as received, in the session's format.
    struct AudioItem {
        std::string item_id;
        std::string response_id;
        int content_index = 0;
        uint64_t bytes = 0;
        bool done = false; // response.output_audio.done (or its response.done) seen
    };
    // Caller audio in the session's format, not yet sent; bounded, oldest dropped first.
    struct Uplink {
        std::vector<uint8_t> bytes;
        size_t head = 0;                                   // first unsent byte
        uint64_t head_pos = 0;                             // stream position of bytes[head]
        std::deque<std::pair<uint64_t, FrameTimes>> marks; // frame start position, its times
        uint64_t dropped_bytes = 0;
        size_t size() const { return bytes.size() - head; }
        void push(std::span<const uint8_t> data, FrameTimes times, size_t max_bytes);
        void consume(size_t n);
    };

    void handle_event(std::string_view type, const nlohmann::json& event, TimePoint now);
    void on_session_created();
    void on_session_updated();
    void on_audio_delta(const nlohmann::json& event, std::string_view delta);
    void on_speech_started(TimePoint now);
    void on_error(const nlohmann::json& event);
    void on_response_done(const nlohmann::json& event);
    void on_transcript(bool assistant, std::string_view item_id, std::string_view text,
                       TimePoint now);

    void send_control(std::string text);
    void queue_item(bool assistant, std::string_view text);
    void queue_response_create();
    void lost(TimePoint now, bool failed_attempt);
    void end(std::string reason, std::string detail);
    bool ignored(std::string_view item_id, std::string_view response_id) const;
    void remember(std::deque<std::string>& ring, std::string_view id);
    AudioItem* audio_item(std::string_view item_id, int content_index);
    Turn* turn(std::string_view item_id);
    std::string next_event_id();
    uint64_t bytes_per_ms() const;

    RealtimeSettings settings_;
    media::PlayoutQueue& playout_;
    std::optional<media::AiAudioConverter> converter_;

    Link link_ = Link::none;
    bool ever_ready_ = false;
    bool close_wanted_ = false;
    std::optional<EndCall> end_;
    bool closed_ = false;

    // Reconnect bookkeeping (brief §8).
    std::optional<TimePoint> retry_at_ = TimePoint::min(); // the first attempt: at once
    std::optional<TimePoint> outage_start_;
    std::optional<TimePoint> phase_deadline_; // connect or set-up timeout
    unsigned failures_ = 0;                   // failed attempts in this outage

    std::deque<std::string> control_; // events for the current socket, in order
    Uplink uplink_;
    std::vector<uint8_t> scratch_bytes_;
    std::vector<int16_t> scratch_pcm_;

    std::optional<std::string> active_response_;
    bool response_wanted_ = false; // a response.create deferred until response.done / ready
    std::deque<AudioItem> audio_items_;
    std::deque<std::string> ignored_items_, ignored_responses_;

    std::vector<Turn> history_;
    std::vector<Transcript> transcripts_;
    uint64_t event_seq_ = 0;
    Stats stats_;
};

} // namespace wabridge::ai

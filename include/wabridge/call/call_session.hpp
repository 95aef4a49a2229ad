// One call as the control plane sees it: the offer and answer, the options its request chose,
// its timings and end, and the media (transport and AI) that it owns.
#pragma once

#include "wabridge/call/call_media.hpp"
#include "wabridge/loop/timer_queue.hpp"
#include "wabridge/sdp/answer.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace wabridge::call {

using WallTime = std::chrono::system_clock::time_point;

// Turn detection fields a request may set (`turnDetection`); unset ones keep the OPENAI_VAD_*
// settings. Validated by the control API.
struct TurnDetectionOptions {
    std::optional<std::string> type; // server_vad | semantic_vad
    std::optional<double> threshold;
    std::optional<int> prefix_padding_ms;
    std::optional<int> silence_duration_ms;
    std::optional<std::string> eagerness; // low | medium | high | auto
};

// What the caller of the API may choose per call (the old Node API's fields, and ours).
struct SessionOptions {
    std::string from;         // caller's number, when known
    std::string model;        // openaiModel / sessionConfig.model / OPENAI_REALTIME_MODEL
    std::string instructions; // systemInstructions / sessionConfig.instructions
    std::string voice;        // voice / sessionConfig.voice
    TurnDetectionOptions turn_detection;
    std::optional<bool> dtmf_to_model; // dtmfToModel; unset = OPENAI_DTMF_TO_MODEL
};

// What WhatsApp told us about a call that came in by webhook (whatsapp-calling.md §2.4, §2.7),
// and how far the Graph call actions got. Empty `call_id`-less sessions made by the API.
struct WhatsAppCall {
    bool present = false;
    std::string call_id; // WhatsApp's (wacid...): the session's own id, or for calls we place
                         // the id Graph's connect returned
    std::string last_status; // statuses webhook: RINGING, ACCEPTED, REJECTED
    std::string phone_number_id, from, caller_name, direction; // direction: USER_INITIATED, ...
    std::string connect_timestamp;                             // webhook's, Unix seconds (text)
    // pre_accepting, waiting_media, accepting, accepted, failed; for calls we place:
    // connecting, ringing, answered
    std::string graph_state;
    std::optional<double> pre_accepted_ms, accepted_ms; // since the session was created
    std::string terminate_status;                       // COMPLETED / FAILED (terminate webhook)
    std::optional<int64_t> terminate_duration_seconds;
    std::optional<int> terminate_error_code; // e.g. 138021
    std::string graph_error;                 // last Graph failure, "code: details"
};

enum class SessionState { answered, ended };
std::string_view to_string(SessionState s);

struct CallSession {
    std::string call_id;
    std::string offer;  // exactly as received, for idempotent retries
    std::string answer; // exactly as sent
    sdp::NegotiatedAudio negotiated;
    SessionOptions options;
    SessionState state = SessionState::answered;
    loop::TimePoint created_mono{};
    WallTime created_wall{};
    std::optional<WallTime> ended_wall;
    loop::TimePoint ended_mono{};
    std::string end_reason;           // "deleted", "max_duration", "drain", "ice_failed", ...
    std::unique_ptr<CallMedia> media; // null until the transport exists, and after the end
    MediaStats final_media;           // the media's last stats, kept after it is closed
    WhatsAppCall whatsapp;            // calls that came in by the WhatsApp webhook
};

} // namespace wabridge::call

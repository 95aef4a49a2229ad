// What one call's OpenAI Realtime (GA) session is configured with, the checks on it, and the
// `session` object of the session.update event built from it (brief §4, "A GA session.update
// suited to a phone bridge"; GA shapes only, never the retired beta fields).
#pragma once

#include "wabridge/media/ai_audio_format.hpp"
#include "wabridge/util/result.hpp"

#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace wabridge::ai {

// audio.input.turn_detection (brief §4, RealtimeTurnDetection). "server_vad" sends threshold,
// prefix padding and silence; "semantic_vad" sends eagerness instead. Silence is always set
// explicitly: the live default (200 ms) cuts callers off between phrases.
struct TurnDetection {
    std::string type = "server_vad"; // "server_vad" | "semantic_vad"
    double threshold = 0.5;          // 0..1 (server_vad)
    int prefix_padding_ms = 300;     // server_vad
    int silence_duration_ms = 500;   // server_vad
    std::string eagerness = "auto";  // semantic_vad: low | medium | high | auto
    bool create_response = true;
    bool interrupt_response = true;
};

struct RealtimeSettings {
    std::string model = "gpt-realtime"; // goes in the URL (?model=), not in session.update
    std::string instructions;
    // A built-in voice name, or a custom voice id "voice_..." (sent as {"id": ...}).
    std::string voice = "marin";
    std::string transcription_model = "gpt-4o-mini-transcribe"; // empty = no input transcription
    TurnDetection turn_detection;
    media::AiAudioFormat format = media::AiAudioFormat::pcm24k; // pcm24k, pcmu or pcma
    // DTMF digits go to the model as a user text item followed by response.create.
    bool dtmf_to_model = true;
    std::chrono::milliseconds uplink_chunk{
        40}; // audio per append (20..40 ms); the bridge: OPENAI_APPEND_MS
    std::chrono::milliseconds uplink_buffer_max{2000}; // caller audio held while not sending
    // Reconnect (brief §8): the first try at once, then reconnect_backoff_initial doubling up to
    // reconnect_backoff_cap between tries; the call ends after reconnect_give_up without a
    // working session.
    std::chrono::seconds reconnect_give_up{30};
    std::chrono::milliseconds reconnect_backoff_cap{2000};
    std::chrono::milliseconds reconnect_backoff_initial{250};
    // From a connection attempt to on_open (issue 6: connect timeout 5 s).
    std::chrono::milliseconds connect_timeout{5000};
    // From on_open to session.updated: a server that never answers is treated as a lost socket.
    std::chrono::milliseconds setup_timeout{10000};
};

// Checks ranges and combinations (formats the Realtime API has, VAD type, chunk size, timers).
Result<bool, std::string> validate(const RealtimeSettings& settings);

// The GA audio format object: {"type":"audio/pcm","rate":24000}, {"type":"audio/pcmu"} or
// {"type":"audio/pcma"} (brief §6). Null for a format the Realtime API does not have.
nlohmann::json audio_format_json(media::AiAudioFormat format);

// The `session` object of session.update: type "realtime", output_modalities ["audio"],
// instructions, audio.input {format, turn_detection, transcription (unless the model is
// empty)}, audio.output {format, voice}. Nothing else: every field present changes the
// server's configuration, and unknown ones are rejected (brief §4).
nlohmann::json session_config_json(const RealtimeSettings& settings);

} // namespace wabridge::ai

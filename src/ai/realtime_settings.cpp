// RealtimeSettings checks and the GA session.update `session` object (brief §4, §6).
#include "wabridge/ai/realtime_settings.hpp"

#include <nlohmann/json.hpp>

namespace wabridge::ai {

using nlohmann::json;

Result<bool, std::string> validate(const RealtimeSettings& s) {
    using media::AiAudioFormat;
    if (s.format != AiAudioFormat::pcm24k && s.format != AiAudioFormat::pcmu &&
        s.format != AiAudioFormat::pcma) {
        return err("audio format " + std::string(media::to_string(s.format)) +
                   " is not a Realtime format (pcm24k, pcmu, pcma)");
    }
    if (s.model.empty()) return err(std::string("empty model"));
    if (s.voice.empty()) return err(std::string("empty voice"));
    const TurnDetection& td = s.turn_detection;
    if (td.type == "server_vad") {
        if (!(td.threshold >= 0.0 && td.threshold <= 1.0))
            return err(std::string("turn_detection threshold outside 0..1"));
        if (td.prefix_padding_ms < 0 || td.prefix_padding_ms > 10000)
            return err(std::string("turn_detection prefix_padding_ms outside 0..10000"));
        if (td.silence_duration_ms < 0 || td.silence_duration_ms > 10000)
            return err(std::string("turn_detection silence_duration_ms outside 0..10000"));
    } else if (td.type == "semantic_vad") {
        if (td.eagerness != "low" && td.eagerness != "medium" && td.eagerness != "high" &&
            td.eagerness != "auto") {
            return err("turn_detection eagerness " + td.eagerness + " is not low/medium/high/auto");
        }
    } else {
        return err("turn_detection type " + td.type + " is not server_vad or semantic_vad");
    }
    if (s.uplink_chunk.count() < 20 || s.uplink_chunk.count() > 40)
        return err(std::string("uplink_chunk outside 20..40 ms"));
    if (s.uplink_buffer_max < s.uplink_chunk)
        return err(std::string("uplink_buffer_max below one chunk"));
    if (s.reconnect_give_up.count() <= 0) return err(std::string("reconnect_give_up not positive"));
    if (s.reconnect_backoff_initial.count() <= 0 ||
        s.reconnect_backoff_cap < s.reconnect_backoff_initial) {
        return err(std::string("reconnect backoff: need 0 < initial <= cap"));
    }
    if (s.connect_timeout.count() <= 0 || s.setup_timeout.count() <= 0)
        return err(std::string("connect/setup timeouts must be positive"));
    return true;
}

json audio_format_json(media::AiAudioFormat format) {
    switch (format) {
    case media::AiAudioFormat::pcm24k:
        return json{{"type", "audio/pcm"}, {"rate", 24000}}; // 24000 is the only rate allowed
    case media::AiAudioFormat::pcmu:
        return json{{"type", "audio/pcmu"}};
    case media::AiAudioFormat::pcma:
        return json{{"type", "audio/pcma"}};
    case media::AiAudioFormat::pcm16k:
        break;
    }
    return nullptr;
}

json session_config_json(const RealtimeSettings& s) {
    const TurnDetection& td = s.turn_detection;
    json turn{{"type", td.type}};
    if (td.type == "semantic_vad") {
        turn["eagerness"] = td.eagerness;
    } else {
        turn["threshold"] = td.threshold;
        turn["prefix_padding_ms"] = td.prefix_padding_ms;
        turn["silence_duration_ms"] = td.silence_duration_ms;
    }
    turn["create_response"] = td.create_response;
    turn["interrupt_response"] = td.interrupt_response;

    json input{{"format", audio_format_json(s.format)}, {"turn_detection", std::move(turn)}};
    if (!s.transcription_model.empty())
        input["transcription"] = json{{"model", s.transcription_model}};

    // Custom voices are objects {"id": "voice_..."} (brief §3, Voice).
    json voice = s.voice.rfind("voice_", 0) == 0 ? json{{"id", s.voice}} : json(s.voice);
    json output{{"format", audio_format_json(s.format)}, {"voice", std::move(voice)}};

    return json{{"type", "realtime"},
                {"output_modalities", json::array({"audio"})},
                {"instructions", s.instructions},
                {"audio", json{{"input", std::move(input)}, {"output", std::move(output)}}}};
}

} // namespace wabridge::ai

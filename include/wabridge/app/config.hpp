// Runtime configuration: every setting comes from an environment variable, and the matching
// command-line flag overrides it. Empty values (env or flag) count as unset, so `--public-ip=`
// clears a PUBLIC_IP inherited from the environment.
//
// One table in config.cpp drives parsing, validation, --help and the startup summary.
#pragma once

#include "wabridge/app/log.hpp"
#include "wabridge/util/result.hpp"

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge {

enum class AiBackend { openai, echo, rtp_echo };

std::string_view to_string(AiBackend backend);
// Case-insensitive; nullopt for anything else.
std::optional<AiBackend> parse_ai_backend(std::string_view text);

// Member initializers equal what load_config() yields for an empty environment.
struct Config {
    std::uint16_t port = 8080;
    std::string bind_address = "0.0.0.0";
    std::string openai_api_key;
    std::string openai_realtime_model = "gpt-realtime";
    std::string openai_realtime_url = "wss://api.openai.com/v1/realtime";
    std::string system_instructions =
        "You are a friendly voice assistant on a phone call. Keep answers short.";
    std::string openai_voice = "marin";
    std::string openai_transcription_model = "gpt-4o-mini-transcribe";
    std::string openai_vad_type = "server_vad"; // or semantic_vad
    double openai_vad_threshold = 0.5;
    std::uint32_t openai_vad_prefix_padding_ms = 300;
    std::uint32_t openai_vad_silence_ms = 500;
    std::string openai_vad_eagerness = "auto"; // semantic_vad only
    std::string openai_audio_format = "pcm";   // pcm (24 kHz), pcmu, pcma
    bool openai_dtmf_to_model = true;
    std::uint32_t openai_append_ms = 20; // caller audio per input_audio_buffer.append
    std::string openai_ca_file;
    std::string whatsapp_app_secret; // empty = no webhook route
    std::string whatsapp_verify_token;
    std::string whatsapp_access_token;
    std::string whatsapp_graph_url = "https://graph.facebook.com/v23.0";
    std::string whatsapp_phone_number_id; // POST /calls: the number calls come from
    std::string whatsapp_ca_file;
    std::uint32_t whatsapp_accept_wait_ms = 5000;
    std::string call_events_url; // empty = no call events
    std::string call_events_secret;
    AiBackend ai_backend = AiBackend::echo;      // openai by default when a key is set
    std::string public_ip;                       // empty = advertise host addresses
    std::vector<std::string> ice_bind_addresses; // empty = every non-loopback address
    std::uint16_t rtp_port_min = 10000;
    std::uint16_t rtp_port_max = 10100;
    std::string bridge_api_token; // empty = control API without auth
    std::uint32_t max_sessions = 500;
    std::uint32_t session_max_seconds = 1800;
    std::uint32_t media_timeout_seconds = 20;
    std::uint32_t drain_seconds = 30;
    std::uint32_t jitter_min_ms = 20;
    std::uint32_t jitter_max_ms = 200;
    std::uint32_t opus_complexity = 5;
    std::uint32_t resampler_quality = 3;
    std::int32_t echo_vad_threshold_dbfs = -45;
    std::uint32_t http_max_connections = 1024;
    std::uint32_t http_max_header_bytes = 16384;
    std::uint32_t http_max_headers = 100;
    std::uint32_t http_max_body_bytes = 1048576;
    std::uint32_t http_idle_timeout_seconds = 10;
    std::uint32_t http_header_timeout_seconds = 10;
    std::uint32_t http_body_timeout_seconds = 10;
    LogLevel log_level = LogLevel::info;
    LogFormat log_format = LogFormat::json;

    bool operator==(const Config&) const = default;
};

struct ConfigError {
    // The environment name of the setting at fault (e.g. "PORT"), or the offending argument
    // for an unknown flag / stray argument.
    std::string setting;
    // One line naming the setting, never containing a secret's value.
    std::string message;
};

enum class ConfigAction { run, help, version };

struct ConfigLoad {
    ConfigAction action;
    Config config; // defaults for help/version
};

// Returns the value of an environment variable, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// `args` excludes argv[0]. Flags take `--flag value` or `--flag=value`; -h/--help and --version
// end parsing as soon as they are seen. Never throws.
Result<ConfigLoad, ConfigError> load_config(std::span<const std::string> args,
                                            const EnvLookup& env);

// The real process environment (getenv).
EnvLookup process_env();

// Usage text with one row per setting: flag, env name, default, description.
std::string config_help(std::string_view program);

// Non-empty secret values, for Logger::set_secrets.
std::vector<std::string> config_secrets(const Config& config);

// Every setting keyed by its env name, for a startup log line; secrets appear only as
// "set"/"unset".
nlohmann::json config_summary(const Config& config);

} // namespace wabridge

#include "wabridge/app/config.hpp"

#include "wabridge/net/interfaces.hpp"
#include "wabridge/net/url.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <netinet/in.h>

namespace wabridge {

namespace {

// A parser stores a valid value into the Config, or returns why the value is invalid
// ("expected ..."); the caller adds which setting and value were at fault.
using ParseFn = std::function<std::optional<std::string>(std::string_view value, Config& config)>;
using ShowFn = std::function<nlohmann::json(const Config& config)>;

struct Field {
    ParseFn parse;
    ShowFn show;
};

struct Setting {
    std::string_view env;
    std::string_view flag;
    std::string_view default_value; // parsed when the setting is unset; "" = nothing to parse
    std::string_view description;
    bool secret;
    Field field;
};

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_control_or_space(char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
}

bool has_control_or_space(std::string_view text) {
    return std::any_of(text.begin(), text.end(), is_control_or_space);
}

// Makes a user-supplied value safe to quote in a one-line error: control characters escaped,
// long values cut (on a UTF-8 boundary).
std::string printable(std::string_view value) {
    constexpr std::size_t kMax = 64;
    bool cut = false;
    if (value.size() > kMax) {
        std::size_t end = kMax;
        while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80)
            --end;
        value = value.substr(0, end);
        cut = true;
    }
    std::string out;
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    if (cut) out += "...";
    return out;
}

using net::classify_ip;
using net::IpKind;

template <typename T> Field integer(T Config::*member, std::int64_t min, std::int64_t max) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                std::int64_t n = 0;
                const char* end = value.data() + value.size();
                auto [ptr, ec] = std::from_chars(value.data(), end, n);
                if (ec != std::errc{} || ptr != end || n < min || n > max) {
                    return "expected an integer from " + std::to_string(min) + " to " +
                           std::to_string(max);
                }
                config.*member = static_cast<T>(n);
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

// Secrets end up in HTTP headers (Authorization: Bearer ...); whitespace or CR/LF there would
// break or inject headers, and a stray newline from an env file is a common mistake.
Field credential(std::string Config::*member) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                if (has_control_or_space(value)) {
                    return "must not contain whitespace or control characters";
                }
                config.*member = std::string(value);
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

// The model name goes into the Realtime URL's query string.
Field model_name(std::string Config::*member) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                if (has_control_or_space(value)) {
                    return "expected a model name without whitespace";
                }
                config.*member = std::string(value);
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

// Free text (instructions): anything printable, newlines allowed, up to 16 KiB.
Field free_text(std::string Config::*member) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                if (value.size() > 16384) return "expected at most 16384 bytes";
                for (unsigned char c : value)
                    if (c < 0x20 && c != '\n' && c != '\t') return "expected printable text";
                config.*member = std::string(value);
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

// ws:// or wss:// URL (RFC 6455 section 3) with a non-empty host.
Field ws_url(std::string Config::*member) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                constexpr std::string_view kExpected = "expected a ws:// or wss:// URL with a host";
                std::string_view rest;
                if (value.starts_with("ws://")) {
                    rest = value.substr(5);
                } else if (value.starts_with("wss://")) {
                    rest = value.substr(6);
                } else {
                    return std::string(kExpected);
                }
                if (has_control_or_space(value)) return std::string(kExpected);
                std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
                if (auto at = authority.rfind('@'); at != std::string_view::npos) {
                    authority = authority.substr(at + 1);
                }
                std::string_view host;
                if (authority.starts_with('[')) {
                    auto close = authority.find(']');
                    if (close == std::string_view::npos) return std::string(kExpected);
                    host = authority.substr(1, close - 1);
                } else {
                    host = authority.substr(0, authority.find(':'));
                }
                if (host.empty()) return std::string(kExpected);
                config.*member = std::string(value);
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

// An http:// or https:// URL with a host (RFC 3986 §3); empty stays unset.
Field http_url(std::string Config::*member) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                auto u = net::parse_url(value, "http,https");
                if (!u)
                    return "expected an http:// or https:// URL with a host (" + u.error() + ")";
                config.*member = std::string(value);
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

Field ip(std::string Config::*member, bool allow_unspecified) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                IpKind kind = classify_ip(value);
                if (kind == IpKind::none) return "expected an IPv4 or IPv6 address";
                if (kind == IpKind::unspecified && !allow_unspecified) {
                    return "expected a specific IP address, not the unspecified address";
                }
                config.*member = std::string(value);
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

Field ip_list(std::vector<std::string> Config::*member) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                std::vector<std::string> list;
                std::size_t start = 0;
                while (true) {
                    std::size_t comma = value.find(',', start);
                    std::string_view item = value.substr(start, comma - start);
                    while (!item.empty() && item.front() == ' ')
                        item.remove_prefix(1);
                    while (!item.empty() && item.back() == ' ')
                        item.remove_suffix(1);
                    if (item.empty())
                        return "expected comma-separated IP addresses, got an empty entry";
                    if (classify_ip(item) != IpKind::unicast) {
                        return "expected comma-separated IP addresses; '" + printable(item) +
                               "' is not a specific IPv4 or IPv6 address";
                    }
                    list.emplace_back(item);
                    if (comma == std::string_view::npos) break;
                    start = comma + 1;
                }
                config.*member = std::move(list);
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

// One of a fixed set of words, spelled exactly as the API spells them.
Field word(std::string Config::*member, std::vector<std::string_view> words) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                for (std::string_view w : words) {
                    if (value == w) {
                        config.*member = std::string(value);
                        return std::nullopt;
                    }
                }
                std::string expected = "expected one of";
                for (std::string_view w : words)
                    expected += (w == words.front() ? " " : ", ") + std::string(w);
                return expected;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

// A plain decimal number ("0.5", "1", ".25"): digits with at most one point, no sign or exponent.
Field decimal(double Config::*member, double min, double max) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                auto fail = [&] {
                    char buf[96];
                    std::snprintf(buf, sizeof buf, "expected a number from %g to %g", min, max);
                    return std::string(buf);
                };
                const bool shape =
                    !value.empty() && value != "." &&
                    std::all_of(value.begin(), value.end(),
                                [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
                    std::count(value.begin(), value.end(), '.') <= 1;
                if (!shape) return fail();
                double d = 0;
                const char* end = value.data() + value.size();
                auto [ptr, ec] = std::from_chars(value.data(), end, d);
                if (ec != std::errc{} || ptr != end || d < min || d > max) return fail();
                config.*member = d;
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

// true/false, also 1/0, yes/no, on/off (ASCII case-insensitive).
Field boolean(bool Config::*member) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                std::string v;
                for (char c : value)
                    v.push_back(ascii_lower(c));
                if (v == "true" || v == "1" || v == "yes" || v == "on") {
                    config.*member = true;
                } else if (v == "false" || v == "0" || v == "no" || v == "off") {
                    config.*member = false;
                } else {
                    return std::string("expected true or false");
                }
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(config.*member); }};
}

template <typename E>
Field choice(E Config::*member, std::optional<E> (*parse)(std::string_view),
             std::string_view choices) {
    return {[=](std::string_view value, Config& config) -> std::optional<std::string> {
                auto parsed = parse(value);
                if (!parsed) return "expected " + std::string(choices);
                config.*member = *parsed;
                return std::nullopt;
            },
            [=](const Config& config) { return nlohmann::json(to_string(config.*member)); }};
}

// The one table: a new setting is one row here plus a Config member.
const std::vector<Setting>& settings() {
    static const std::vector<Setting> table = {
        {"PORT", "--port", "8080", "HTTP control plane port (1-65535)", false,
         integer(&Config::port, 1, 65535)},
        {"BIND_ADDRESS", "--bind-address", "0.0.0.0",
         "IP address the HTTP control plane listens on", false, ip(&Config::bind_address, true)},
        {"OPENAI_API_KEY", "--openai-api-key", "", "OpenAI API key (secret)", true,
         credential(&Config::openai_api_key)},
        {"OPENAI_REALTIME_MODEL", "--openai-realtime-model", "gpt-realtime",
         "OpenAI Realtime model name", false, model_name(&Config::openai_realtime_model)},
        {"OPENAI_REALTIME_URL", "--openai-realtime-url", "wss://api.openai.com/v1/realtime",
         "OpenAI Realtime WebSocket endpoint (ws:// or wss://)", false,
         ws_url(&Config::openai_realtime_url)},
        {"SYSTEM_INSTRUCTIONS", "--system-instructions",
         "You are a friendly voice assistant on a phone call. Keep answers short.",
         "instructions for the AI when the request gives none", false,
         free_text(&Config::system_instructions)},
        {"OPENAI_VOICE", "--openai-voice", "marin", "voice of the AI when the request gives none",
         false, model_name(&Config::openai_voice)},
        {"OPENAI_TRANSCRIPTION_MODEL", "--openai-transcription-model", "gpt-4o-mini-transcribe",
         "model that transcribes the caller (none: no caller transcripts)", false,
         model_name(&Config::openai_transcription_model)},
        {"OPENAI_VAD_TYPE", "--openai-vad-type", "server_vad",
         "turn detection: server_vad (level, with threshold/padding/silence) or semantic_vad "
         "(the model judges the end of the turn, with eagerness)",
         false, word(&Config::openai_vad_type, {"server_vad", "semantic_vad"})},
        {"OPENAI_VAD_THRESHOLD", "--openai-vad-threshold", "0.5",
         "server VAD: speech activation threshold (0-1; higher needs louder speech)", false,
         decimal(&Config::openai_vad_threshold, 0.0, 1.0)},
        {"OPENAI_VAD_PREFIX_PADDING_MS", "--openai-vad-prefix-padding-ms", "300",
         "server VAD: audio kept from before the detected speech, in ms (0-5000)", false,
         integer(&Config::openai_vad_prefix_padding_ms, 0, 5000)},
        {"OPENAI_VAD_SILENCE_MS", "--openai-vad-silence-ms", "500",
         "server VAD: silence that ends the caller's turn, in ms (100-5000)", false,
         integer(&Config::openai_vad_silence_ms, 100, 5000)},
        {"OPENAI_VAD_EAGERNESS", "--openai-vad-eagerness", "auto",
         "semantic VAD: how soon the model ends the caller's turn (low, medium, high, auto)", false,
         word(&Config::openai_vad_eagerness, {"low", "medium", "high", "auto"})},
        {"OPENAI_AUDIO_FORMAT", "--openai-audio-format", "pcm",
         "audio to and from OpenAI: pcm (24 kHz PCM16, best quality), pcmu or pcma (G.711, "
         "8 kHz, a sixth of the bandwidth)",
         false, word(&Config::openai_audio_format, {"pcm", "pcmu", "pcma"})},
        {"OPENAI_DTMF_TO_MODEL", "--openai-dtmf-to-model", "true",
         "tell the model about keypad presses (a user text item, then response.create)", false,
         boolean(&Config::openai_dtmf_to_model)},
        {"OPENAI_APPEND_MS", "--openai-append-ms", "20",
         "caller audio per input_audio_buffer.append, in ms (20-40; 40 halves the messages and "
         "holds each word ~20 ms longer)",
         false, integer(&Config::openai_append_ms, 20, 40)},
        {"OPENAI_CA_FILE", "--openai-ca-file", "",
         "PEM file of CAs to trust for wss:// instead of the system store (tests, TLS proxies)",
         false, free_text(&Config::openai_ca_file)},
        {"WHATSAPP_APP_SECRET", "--whatsapp-app-secret", "",
         "Meta app secret: checks X-Hub-Signature-256 on POST /whatsapp/webhook (secret); unset = "
         "the webhook route is off",
         true, credential(&Config::whatsapp_app_secret)},
        {"WHATSAPP_VERIFY_TOKEN", "--whatsapp-verify-token", "",
         "token Meta sends in GET /whatsapp/webhook?hub.verify_token=... (secret)", true,
         credential(&Config::whatsapp_verify_token)},
        {"WHATSAPP_ACCESS_TOKEN", "--whatsapp-access-token", "",
         "Graph API bearer token for the call actions (secret)", true,
         credential(&Config::whatsapp_access_token)},
        {"WHATSAPP_GRAPH_URL", "--whatsapp-graph-url", "https://graph.facebook.com/v23.0",
         "Graph API base URL (http:// allowed for tests and proxies)", false,
         http_url(&Config::whatsapp_graph_url)},
        {"WHATSAPP_PHONE_NUMBER_ID", "--whatsapp-phone-number-id", "",
         "business phone number id that POST /calls calls from (the request's phoneNumberId "
         "overrides it)",
         false, model_name(&Config::whatsapp_phone_number_id)},
        {"WHATSAPP_CA_FILE", "--whatsapp-ca-file", "",
         "PEM CAs to trust for the Graph API and CALL_EVENTS_URL instead of the system store",
         false, free_text(&Config::whatsapp_ca_file)},
        {"WHATSAPP_ACCEPT_WAIT_MS", "--whatsapp-accept-wait-ms", "5000",
         "after pre_accept, send accept once ICE+DTLS are up or after this many ms (0-30000)",
         false, integer(&Config::whatsapp_accept_wait_ms, 0, 30000)},
        {"CALL_EVENTS_URL", "--call-events-url", "",
         "POST signed call events (call.started, call.ended, error, transcript.final, dtmf) here; "
         "unset = off",
         false, http_url(&Config::call_events_url)},
        {"CALL_EVENTS_SECRET", "--call-events-secret", "",
         "HMAC-SHA256 key of X-Wabridge-Signature on call events (secret)", true,
         credential(&Config::call_events_secret)},
        {"AI_BACKEND", "--ai-backend", "",
         "openai, echo or rtp-echo (diagnostics: the caller's Opus comes straight back); unset = "
         "openai if OPENAI_API_KEY is set, else echo",
         false, choice(&Config::ai_backend, parse_ai_backend, "openai, echo or rtp-echo")},
        {"PUBLIC_IP", "--public-ip", "",
         "IP advertised instead of private host addresses (1:1 NAT); unset = none", false,
         ip(&Config::public_ip, false)},
        {"ICE_BIND_ADDRESSES", "--ice-bind-addresses", "",
         "comma-separated IPs for ICE candidates; unset = every non-loopback address", false,
         ip_list(&Config::ice_bind_addresses)},
        {"RTP_PORT_MIN", "--rtp-port-min", "10000", "lowest UDP media port (1024-65535)", false,
         integer(&Config::rtp_port_min, 1024, 65535)},
        {"RTP_PORT_MAX", "--rtp-port-max", "10100",
         "highest UDP media port (1024-65535, >= RTP_PORT_MIN)", false,
         integer(&Config::rtp_port_max, 1024, 65535)},
        {"BRIDGE_API_TOKEN", "--bridge-api-token", "",
         "bearer token for the control API (secret); unset = no auth", true,
         credential(&Config::bridge_api_token)},
        {"MAX_SESSIONS", "--max-sessions", "500", "maximum concurrent calls (1-100000)", false,
         integer(&Config::max_sessions, 1, 100000)},
        {"SESSION_MAX_SECONDS", "--session-max-seconds", "1800",
         "longest allowed call in seconds (1-86400)", false,
         integer(&Config::session_max_seconds, 1, 86400)},
        {"MEDIA_TIMEOUT_SECONDS", "--media-timeout-seconds", "20",
         "a call with no incoming media for this long is ended (1-3600)", false,
         integer(&Config::media_timeout_seconds, 1, 3600)},
        {"DRAIN_SECONDS", "--drain-seconds", "30",
         "on SIGTERM, how long active calls may finish before they are ended (0-3600)", false,
         integer(&Config::drain_seconds, 0, 3600)},
        {"JITTER_MIN_MS", "--jitter-min-ms", "20",
         "smallest jitter-buffer delay for caller audio, in ms (20-1000)", false,
         integer(&Config::jitter_min_ms, 20, 1000)},
        {"JITTER_MAX_MS", "--jitter-max-ms", "200",
         "largest adaptive jitter-buffer delay, in ms (20-1000, >= JITTER_MIN_MS)", false,
         integer(&Config::jitter_max_ms, 20, 1000)},
        {"OPUS_COMPLEXITY", "--opus-complexity", "5",
         "Opus encoder complexity for audio to the caller (0-10; higher costs more CPU)", false,
         integer(&Config::opus_complexity, 0, 10)},
        {"RESAMPLER_QUALITY", "--resampler-quality", "3",
         "speexdsp resampler quality (0-10) for AI audio formats other than 24 kHz PCM", false,
         integer(&Config::resampler_quality, 0, 10)},
        {"ECHO_VAD_THRESHOLD_DBFS", "--echo-vad-threshold-dbfs", "-45",
         "echo assistant: frame level that counts as speech, in dBFS (-90 to -10)", false,
         integer(&Config::echo_vad_threshold_dbfs, -90, -10)},
        {"HTTP_MAX_CONNECTIONS", "--http-max-connections", "1024",
         "open control-plane connections; more are answered 503 and closed (1-65536)", false,
         integer(&Config::http_max_connections, 1, 65536)},
        {"HTTP_MAX_HEADER_BYTES", "--http-max-header-bytes", "16384",
         "request line and headers, in bytes (1024-1048576)", false,
         integer(&Config::http_max_header_bytes, 1024, 1048576)},
        {"HTTP_MAX_HEADERS", "--http-max-headers", "100", "headers per request (1-1000)", false,
         integer(&Config::http_max_headers, 1, 1000)},
        {"HTTP_MAX_BODY_BYTES", "--http-max-body-bytes", "1048576",
         "request body, in bytes; larger gets 413 (1-67108864)", false,
         integer(&Config::http_max_body_bytes, 1, 67108864)},
        {"HTTP_IDLE_TIMEOUT_SECONDS", "--http-idle-timeout-seconds", "10",
         "an idle keep-alive connection is closed after this (1-3600)", false,
         integer(&Config::http_idle_timeout_seconds, 1, 3600)},
        {"HTTP_HEADER_TIMEOUT_SECONDS", "--http-header-timeout-seconds", "10",
         "a request's headers must arrive within this (1-3600)", false,
         integer(&Config::http_header_timeout_seconds, 1, 3600)},
        {"HTTP_BODY_TIMEOUT_SECONDS", "--http-body-timeout-seconds", "10",
         "a request's body must arrive within this after its headers (1-3600)", false,
         integer(&Config::http_body_timeout_seconds, 1, 3600)},
        {"LOG_LEVEL", "--log-level", "info", "debug, info, warn or error", false,
         choice(&Config::log_level, parse_log_level, "debug, info, warn or error")},
        {"LOG_FORMAT", "--log-format", "json", "json or text", false,
         choice(&Config::log_format, parse_log_format, "json or text")},
    };
    return table;
}

const Setting* find_by_flag(std::string_view flag) {
    for (const auto& s : settings()) {
        if (s.flag == flag) return &s;
    }
    return nullptr;
}

ConfigError make_error(std::string_view setting, std::string message) {
    return ConfigError{std::string(setting), std::move(message)};
}

// "PORT=abc", "--port=abc (PORT)"; secrets never show their value.
std::string describe(const Setting& s, std::string_view value, bool from_flag) {
    std::string out(from_flag ? s.flag : s.env);
    if (!s.secret) {
        out += '=';
        out += printable(value);
    }
    if (from_flag) {
        out += " (";
        out += s.env;
        out += ')';
    }
    return out;
}

Result<ConfigLoad, ConfigError> load(std::span<const std::string> args, const EnvLookup& env) {
    const auto& table = settings();
    // Flag values by table row; an empty string means "explicitly unset".
    std::vector<std::optional<std::string>> flags(table.size());

    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "-h" || arg == "--help") return ConfigLoad{ConfigAction::help, Config{}};
        if (arg == "--version") return ConfigLoad{ConfigAction::version, Config{}};
        if (!arg.starts_with('-')) {
            return err(
                make_error(arg, "unexpected argument '" + printable(arg) + "' (see --help)"));
        }
        // Only the name part is echoed back: a mistyped secret flag must not leak its value.
        const auto eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq);
        const Setting* s = arg.starts_with("--") ? find_by_flag(name) : nullptr;
        if (s == nullptr) {
            if (name == "--help" || name == "--version") {
                return err(make_error(name, std::string(name) + " takes no value"));
            }
            return err(make_error(name, "unknown flag " + printable(name) + " (see --help)"));
        }
        auto& slot = flags[static_cast<std::size_t>(s - table.data())];
        if (eq != std::string_view::npos) {
            slot = std::string(arg.substr(eq + 1));
        } else if (i + 1 < args.size() && !args[i + 1].starts_with("--")) {
            slot = args[++i];
        } else {
            return err(make_error(s->env, "missing value for " + std::string(s->flag) + " (" +
                                              std::string(s->env) + ")"));
        }
    }

    Config config;
    bool ai_backend_explicit = false;
    for (std::size_t i = 0; i < table.size(); ++i) {
        const Setting& s = table[i];
        std::optional<std::string> value;
        const bool from_flag = flags[i].has_value();
        if (from_flag) {
            value = std::move(flags[i]);
        } else if (env) {
            value = env(s.env);
        }
        if (value && !value->empty()) {
            if (auto why = s.field.parse(*value, config)) {
                return err(
                    make_error(s.env, "invalid " + describe(s, *value, from_flag) + ": " + *why));
            }
            if (s.env == "AI_BACKEND") ai_backend_explicit = true;
        } else if (!s.default_value.empty()) {
            if (auto why = s.field.parse(s.default_value, config)) {
                return err(
                    make_error(s.env, "internal error: bad default for " + std::string(s.env)));
            }
        }
    }

    if (!ai_backend_explicit) {
        config.ai_backend = config.openai_api_key.empty() ? AiBackend::echo : AiBackend::openai;
    } else if (config.ai_backend == AiBackend::openai && config.openai_api_key.empty()) {
        return err(make_error("AI_BACKEND", "AI_BACKEND=openai needs OPENAI_API_KEY"));
    }
    if (config.rtp_port_min > config.rtp_port_max) {
        return err(
            make_error("RTP_PORT_MIN",
                       "RTP_PORT_MIN=" + std::to_string(config.rtp_port_min) +
                           " must not exceed RTP_PORT_MAX=" + std::to_string(config.rtp_port_max)));
    }
    if (config.jitter_min_ms > config.jitter_max_ms) {
        return err(make_error(
            "JITTER_MIN_MS",
            "JITTER_MIN_MS=" + std::to_string(config.jitter_min_ms) +
                " must not exceed JITTER_MAX_MS=" + std::to_string(config.jitter_max_ms)));
    }
    return ConfigLoad{ConfigAction::run, std::move(config)};
}

void append_padded(std::string& out, std::string_view text, std::size_t width) {
    out += text;
    out.append(width > text.size() ? width - text.size() : 0, ' ');
}

} // namespace

std::string_view to_string(AiBackend backend) {
    switch (backend) {
    case AiBackend::openai:
        return "openai";
    case AiBackend::echo:
        return "echo";
    case AiBackend::rtp_echo:
        return "rtp-echo";
    }
    return "unknown";
}

std::optional<AiBackend> parse_ai_backend(std::string_view text) {
    for (auto backend : {AiBackend::openai, AiBackend::echo, AiBackend::rtp_echo}) {
        std::string_view name = to_string(backend);
        if (text.size() == name.size() &&
            std::equal(text.begin(), text.end(), name.begin(),
                       [](char a, char b) { return ascii_lower(a) == b; })) {
            return backend;
        }
    }
    return std::nullopt;
}

Result<ConfigLoad, ConfigError> load_config(std::span<const std::string> args,
                                            const EnvLookup& env) {
    try {
        return load(args, env);
    } catch (const std::exception& e) {
        return err(
            ConfigError{"", std::string("internal error while loading config: ") + e.what()});
    } catch (...) {
        return err(ConfigError{"", "internal error while loading config"});
    }
}

EnvLookup process_env() {
    return [](std::string_view name) -> std::optional<std::string> {
        const char* value = std::getenv(std::string(name).c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

std::string config_help(std::string_view program) {
    try {
        constexpr std::string_view kNone = "-";
        std::size_t flag_w = 4, env_w = 3, default_w = 7; // header widths
        for (const auto& s : settings()) {
            flag_w = std::max(flag_w, s.flag.size());
            env_w = std::max(env_w, s.env.size());
            default_w = std::max(default_w, s.default_value.size());
        }
        std::string out = "Usage: " + std::string(program) + " [options]\n\n";
        out += "Every setting is read from its environment variable; the flag overrides it.\n"
               "Flags take \"--flag value\" or \"--flag=value\". Empty values count as unset.\n\n";
        auto row = [&](std::string_view flag, std::string_view env, std::string_view def,
                       std::string_view description) {
            out += "  ";
            append_padded(out, flag, flag_w + 2);
            append_padded(out, env, env_w + 2);
            append_padded(out, def, default_w + 2);
            out += description;
            out += '\n';
        };
        row("FLAG", "ENV", "DEFAULT", "DESCRIPTION");
        for (const auto& s : settings()) {
            // Defaults are static text from the table, so no secret value can appear here.
            row(s.flag, s.env, s.default_value.empty() ? kNone : s.default_value, s.description);
        }
        out += "\n";
        row("-h, --help", "", "", "show this help and exit");
        row("--version", "", "", "print the version and exit");
        return out;
    } catch (...) {
        return "Usage: " + std::string(program) + " [options]\n";
    }
}

std::vector<std::string> config_secrets(const Config& config) {
    std::vector<std::string> out;
    try {
        for (const auto& s : settings()) {
            if (!s.secret) continue;
            auto value = s.field.show(config);
            if (value.is_string() && !value.get_ref<const std::string&>().empty()) {
                out.push_back(value.get<std::string>());
            }
        }
    } catch (...) {
        // Fall through with what was collected; callers cannot do better.
    }
    return out;
}

nlohmann::json config_summary(const Config& config) {
    nlohmann::json out = nlohmann::json::object();
    try {
        for (const auto& s : settings()) {
            auto value = s.field.show(config);
            if (s.secret) {
                const bool set = value.is_string() && !value.get_ref<const std::string&>().empty();
                out[std::string(s.env)] = set ? "set" : "unset";
            } else {
                out[std::string(s.env)] = std::move(value);
            }
        }
    } catch (...) {
        // Partial summary rather than an exception escaping into startup logging.
    }
    return out;
}

} // namespace wabridge

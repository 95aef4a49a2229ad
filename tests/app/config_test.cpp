#include "support/fake_env.hpp"
#include "wabridge/app/config.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <map>
#include <sstream>

namespace wabridge {
namespace {

using test::Env;
using test::env_of;

Result<ConfigLoad, ConfigError> load(std::vector<std::string> args, Env env = {}) {
    return load_config(args, env_of(std::move(env)));
}

Config load_ok(std::vector<std::string> args, Env env = {}) {
    auto r = load(std::move(args), std::move(env));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return Config{};
    EXPECT_EQ(r->action, ConfigAction::run);
    return r->config;
}

TEST(Config, DefaultsWithEmptyEnvironment) {
    Config c = load_ok({});
    EXPECT_EQ(c.port, 8080);
    EXPECT_EQ(c.bind_address, "0.0.0.0");
    EXPECT_EQ(c.openai_api_key, "");
    EXPECT_EQ(c.openai_realtime_model, "gpt-realtime");
    EXPECT_EQ(c.openai_realtime_url, "wss://api.openai.com/v1/realtime");
    EXPECT_EQ(c.ai_backend, AiBackend::echo);
    EXPECT_EQ(c.public_ip, "");
    EXPECT_TRUE(c.ice_bind_addresses.empty());
    EXPECT_EQ(c.rtp_port_min, 10000);
    EXPECT_EQ(c.rtp_port_max, 10100);
    EXPECT_EQ(c.bridge_api_token, "");
    EXPECT_EQ(c.max_sessions, 500u);
    EXPECT_EQ(c.session_max_seconds, 1800u);
    EXPECT_EQ(c.log_level, LogLevel::info);
    EXPECT_EQ(c.log_format, LogFormat::json);
    // The struct's initializers must not drift from the table's defaults.
    EXPECT_EQ(c, Config{});
}

TEST(Config, NullEnvLookupActsAsEmptyEnvironment) {
    auto r = load_config({}, EnvLookup{});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->config, Config{});
}

TEST(Config, EveryEnvVariableIsParsed) {
    Config c = load_ok({}, {{"PORT", "9090"},
                            {"BIND_ADDRESS", "::1"},
                            {"OPENAI_API_KEY", "sk-test"},
                            {"OPENAI_REALTIME_MODEL", "gpt-realtime-mini"},
                            {"OPENAI_REALTIME_URL", "ws://127.0.0.1:9000/v1/realtime"},
                            {"AI_BACKEND", "echo"},
                            {"PUBLIC_IP", "203.0.113.7"},
                            {"ICE_BIND_ADDRESSES", "10.0.0.5, 2001:db8::5"},
                            {"RTP_PORT_MIN", "20000"},
                            {"RTP_PORT_MAX", "20000"},
                            {"BRIDGE_API_TOKEN", "tok"},
                            {"MAX_SESSIONS", "100000"},
                            {"SESSION_MAX_SECONDS", "86400"},
                            {"LOG_LEVEL", "debug"},
                            {"LOG_FORMAT", "text"}});
    EXPECT_EQ(c.port, 9090);
    EXPECT_EQ(c.bind_address, "::1");
    EXPECT_EQ(c.openai_api_key, "sk-test");
    EXPECT_EQ(c.openai_realtime_model, "gpt-realtime-mini");
    EXPECT_EQ(c.openai_realtime_url, "ws://127.0.0.1:9000/v1/realtime");
    EXPECT_EQ(c.ai_backend, AiBackend::echo);
    EXPECT_EQ(c.public_ip, "203.0.113.7");
    EXPECT_EQ(c.ice_bind_addresses, (std::vector<std::string>{"10.0.0.5", "2001:db8::5"}));
    EXPECT_EQ(c.rtp_port_min, 20000);
    EXPECT_EQ(c.rtp_port_max, 20000);
    EXPECT_EQ(c.bridge_api_token, "tok");
    EXPECT_EQ(c.max_sessions, 100000u);
    EXPECT_EQ(c.session_max_seconds, 86400u);
    EXPECT_EQ(c.log_level, LogLevel::debug);
    EXPECT_EQ(c.log_format, LogFormat::text);
}

TEST(Config, TurnDetectionFormatAndDtmfSettings) {
    Config c = load_ok({}, {{"OPENAI_VAD_TYPE", "semantic_vad"},
                            {"OPENAI_VAD_THRESHOLD", "0.75"},
                            {"OPENAI_VAD_PREFIX_PADDING_MS", "120"},
                            {"OPENAI_VAD_SILENCE_MS", "800"},
                            {"OPENAI_VAD_EAGERNESS", "low"},
                            {"OPENAI_AUDIO_FORMAT", "pcmu"},
                            {"OPENAI_DTMF_TO_MODEL", "off"}});
    EXPECT_EQ(c.openai_vad_type, "semantic_vad");
    EXPECT_DOUBLE_EQ(c.openai_vad_threshold, 0.75);
    EXPECT_EQ(c.openai_vad_prefix_padding_ms, 120u);
    EXPECT_EQ(c.openai_vad_silence_ms, 800u);
    EXPECT_EQ(c.openai_vad_eagerness, "low");
    EXPECT_EQ(c.openai_audio_format, "pcmu");
    EXPECT_FALSE(c.openai_dtmf_to_model);
    EXPECT_TRUE(load_ok({}, {{"OPENAI_DTMF_TO_MODEL", "TRUE"}}).openai_dtmf_to_model);
    EXPECT_EQ(load_ok({}, {{"OPENAI_APPEND_MS", "40"}}).openai_append_ms, 40u);
    EXPECT_EQ(load_ok({}, {}).openai_append_ms, 20u);
    EXPECT_DOUBLE_EQ(load_ok({}, {{"OPENAI_VAD_THRESHOLD", "1"}}).openai_vad_threshold, 1.0);
    EXPECT_DOUBLE_EQ(load_ok({}, {{"OPENAI_VAD_THRESHOLD", ".25"}}).openai_vad_threshold, 0.25);
}

TEST(Config, EnumValuesAreCaseInsensitive) {
    Config c = load_ok({}, {{"LOG_LEVEL", "WARN"}, {"LOG_FORMAT", "Text"}, {"AI_BACKEND", "ECHO"}});
    EXPECT_EQ(c.log_level, LogLevel::warn);
    EXPECT_EQ(c.log_format, LogFormat::text);
    EXPECT_EQ(c.ai_backend, AiBackend::echo);
}

TEST(Config, EmptyEnvValuesCountAsUnset) {
    Config c = load_ok({}, {{"PORT", ""}, {"OPENAI_REALTIME_MODEL", ""}, {"AI_BACKEND", ""}});
    EXPECT_EQ(c.port, 8080);
    EXPECT_EQ(c.openai_realtime_model, "gpt-realtime");
    EXPECT_EQ(c.ai_backend, AiBackend::echo);
}

TEST(Config, FlagOverridesEnv) {
    Config c = load_ok({"--port", "7000", "--log-level", "error"},
                       {{"PORT", "9090"}, {"LOG_LEVEL", "debug"}, {"MAX_SESSIONS", "7"}});
    EXPECT_EQ(c.port, 7000);
    EXPECT_EQ(c.log_level, LogLevel::error);
    EXPECT_EQ(c.max_sessions, 7u); // env still applies where no flag is given
}

TEST(Config, FlagOverridesInvalidEnv) {
    Config c = load_ok({"--port=7000"}, {{"PORT", "abc"}});
    EXPECT_EQ(c.port, 7000);
}

TEST(Config, BothFlagForms) {
    Config c = load_ok({"--port", "9001", "--bind-address=127.0.0.1", "--ice-bind-addresses",
                        "10.0.0.1,10.0.0.2", "--public-ip=198.51.100.1"});
    EXPECT_EQ(c.port, 9001);
    EXPECT_EQ(c.bind_address, "127.0.0.1");
    EXPECT_EQ(c.ice_bind_addresses, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
    EXPECT_EQ(c.public_ip, "198.51.100.1");
}

TEST(Config, EqualsFormKeepsLaterEqualsSigns) {
    Config c = load_ok({"--openai-realtime-url=wss://h.example/v1/realtime?a=b"});
    EXPECT_EQ(c.openai_realtime_url, "wss://h.example/v1/realtime?a=b");
}

TEST(Config, EmptyFlagValueUnsetsEnv) {
    Config c = load_ok({"--public-ip="}, {{"PUBLIC_IP", "203.0.113.7"}});
    EXPECT_EQ(c.public_ip, "");
}

TEST(Config, LastFlagWins) {
    Config c = load_ok({"--port=1", "--port=2"});
    EXPECT_EQ(c.port, 2);
}

TEST(Config, HelpAndVersion) {
    for (const char* flag : {"-h", "--help"}) {
        auto r = load({flag});
        ASSERT_TRUE(r.ok()) << flag;
        EXPECT_EQ(r->action, ConfigAction::help);
    }
    auto v = load({"--version"});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->action, ConfigAction::version);
    // Help must work even when the environment is broken.
    auto broken = load({"--help"}, {{"PORT", "abc"}});
    ASSERT_TRUE(broken.ok());
    EXPECT_EQ(broken->action, ConfigAction::help);
}

TEST(Config, ArgumentsAreReadLeftToRight) {
    auto r = load({"--bogus", "--help"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().setting, "--bogus");
    auto h = load({"--help", "--bogus"});
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->action, ConfigAction::help);
}

struct BadCase {
    Env env;
    std::vector<std::string> args;
    std::string setting;
    std::string message;
};

class ConfigValidation : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigValidation, NamesTheSettingInOneLine) {
    const BadCase& c = GetParam();
    auto r = load(c.args, c.env);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().setting, c.setting);
    EXPECT_EQ(r.error().message, c.message);
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Failures, ConfigValidation,
    ::testing::Values(
        BadCase{
            {{"PORT", "abc"}}, {}, "PORT", "invalid PORT=abc: expected an integer from 1 to 65535"},
        BadCase{{{"PORT", "0"}}, {}, "PORT", "invalid PORT=0: expected an integer from 1 to 65535"},
        BadCase{{{"PORT", "70000"}},
                {},
                "PORT",
                "invalid PORT=70000: expected an integer from 1 to 65535"},
        BadCase{
            {{"PORT", "80x"}}, {}, "PORT", "invalid PORT=80x: expected an integer from 1 to 65535"},
        BadCase{
            {{"PORT", "-1"}}, {}, "PORT", "invalid PORT=-1: expected an integer from 1 to 65535"},
        BadCase{{{"PORT", "99999999999999999999999"}},
                {},
                "PORT",
                "invalid PORT=99999999999999999999999: expected an integer from 1 to 65535"},
        BadCase{{},
                {"--port=abc"},
                "PORT",
                "invalid --port=abc (PORT): expected an integer from 1 to 65535"},
        BadCase{{},
                {"--port", "0"},
                "PORT",
                "invalid --port=0 (PORT): expected an integer from 1 to 65535"},
        BadCase{{{"BIND_ADDRESS", "localhost"}},
                {},
                "BIND_ADDRESS",
                "invalid BIND_ADDRESS=localhost: expected an IPv4 or IPv6 address"},
        BadCase{{{"BIND_ADDRESS", "10.0.0.256"}},
                {},
                "BIND_ADDRESS",
                "invalid BIND_ADDRESS=10.0.0.256: expected an IPv4 or IPv6 address"},
        BadCase{{{"PUBLIC_IP", "example.com"}},
                {},
                "PUBLIC_IP",
                "invalid PUBLIC_IP=example.com: expected an IPv4 or IPv6 address"},
        BadCase{{{"PUBLIC_IP", "0.0.0.0"}},
                {},
                "PUBLIC_IP",
                "invalid PUBLIC_IP=0.0.0.0: expected a specific IP address, not the unspecified "
                "address"},
        BadCase{{{"ICE_BIND_ADDRESSES", "10.0.0.1,,10.0.0.2"}},
                {},
                "ICE_BIND_ADDRESSES",
                "invalid ICE_BIND_ADDRESSES=10.0.0.1,,10.0.0.2: expected comma-separated IP "
                "addresses, got an empty entry"},
        BadCase{{{"ICE_BIND_ADDRESSES", "10.0.0.1,eth0"}},
                {},
                "ICE_BIND_ADDRESSES",
                "invalid ICE_BIND_ADDRESSES=10.0.0.1,eth0: expected comma-separated IP addresses; "
                "'eth0' is not a specific IPv4 or IPv6 address"},
        BadCase{{{"OPENAI_VAD_TYPE", "none"}},
                {},
                "OPENAI_VAD_TYPE",
                "invalid OPENAI_VAD_TYPE=none: expected one of server_vad, semantic_vad"},
        BadCase{{{"OPENAI_VAD_THRESHOLD", "1.5"}},
                {},
                "OPENAI_VAD_THRESHOLD",
                "invalid OPENAI_VAD_THRESHOLD=1.5: expected a number from 0 to 1"},
        BadCase{{{"OPENAI_VAD_THRESHOLD", "-0.1"}},
                {},
                "OPENAI_VAD_THRESHOLD",
                "invalid OPENAI_VAD_THRESHOLD=-0.1: expected a number from 0 to 1"},
        BadCase{{{"OPENAI_VAD_THRESHOLD", "1e-1"}},
                {},
                "OPENAI_VAD_THRESHOLD",
                "invalid OPENAI_VAD_THRESHOLD=1e-1: expected a number from 0 to 1"},
        BadCase{{{"OPENAI_VAD_PREFIX_PADDING_MS", "5001"}},
                {},
                "OPENAI_VAD_PREFIX_PADDING_MS",
                "invalid OPENAI_VAD_PREFIX_PADDING_MS=5001: expected an integer from 0 to 5000"},
        BadCase{{{"OPENAI_VAD_EAGERNESS", "eager"}},
                {},
                "OPENAI_VAD_EAGERNESS",
                "invalid OPENAI_VAD_EAGERNESS=eager: expected one of low, medium, high, auto"},
        BadCase{{{"OPENAI_AUDIO_FORMAT", "pcm16"}},
                {},
                "OPENAI_AUDIO_FORMAT",
                "invalid OPENAI_AUDIO_FORMAT=pcm16: expected one of pcm, pcmu, pcma"},
        BadCase{{{"OPENAI_APPEND_MS", "60"}},
                {},
                "OPENAI_APPEND_MS",
                "invalid OPENAI_APPEND_MS=60: expected an integer from 20 to 40"},
        BadCase{{{"OPENAI_DTMF_TO_MODEL", "maybe"}},
                {},
                "OPENAI_DTMF_TO_MODEL",
                "invalid OPENAI_DTMF_TO_MODEL=maybe: expected true or false"},
        BadCase{{{"WHATSAPP_GRAPH_URL", "ftp://graph.example"}},
                {},
                "WHATSAPP_GRAPH_URL",
                "invalid WHATSAPP_GRAPH_URL=ftp://graph.example: expected an http:// or https:// "
                "URL with a host (the URL must start with one of http,https)"},
        BadCase{{{"CALL_EVENTS_URL", "https://"}},
                {},
                "CALL_EVENTS_URL",
                "invalid CALL_EVENTS_URL=https://: expected an http:// or https:// URL with a host "
                "(the URL needs a host (and no user info))"},
        BadCase{{{"RTP_PORT_MIN", "1023"}},
                {},
                "RTP_PORT_MIN",
                "invalid RTP_PORT_MIN=1023: expected an integer from 1024 to 65535"},
        BadCase{{{"RTP_PORT_MAX", "65536"}},
                {},
                "RTP_PORT_MAX",
                "invalid RTP_PORT_MAX=65536: expected an integer from 1024 to 65535"},
        BadCase{{{"JITTER_MIN_MS", "300"}, {"JITTER_MAX_MS", "200"}},
                {},
                "JITTER_MIN_MS",
                "JITTER_MIN_MS=300 must not exceed JITTER_MAX_MS=200"},
        BadCase{{{"ECHO_VAD_THRESHOLD_DBFS", "-5"}},
                {},
                "ECHO_VAD_THRESHOLD_DBFS",
                "invalid ECHO_VAD_THRESHOLD_DBFS=-5: expected an integer from -90 to -10"},
        BadCase{{{"RTP_PORT_MIN", "20000"}, {"RTP_PORT_MAX", "19999"}},
                {},
                "RTP_PORT_MIN",
                "RTP_PORT_MIN=20000 must not exceed RTP_PORT_MAX=19999"},
        BadCase{{{"RTP_PORT_MIN", "20000"}},
                {},
                "RTP_PORT_MIN",
                "RTP_PORT_MIN=20000 must not exceed RTP_PORT_MAX=10100"},
        BadCase{{{"MAX_SESSIONS", "100001"}},
                {},
                "MAX_SESSIONS",
                "invalid MAX_SESSIONS=100001: expected an integer from 1 to 100000"},
        BadCase{{{"SESSION_MAX_SECONDS", "0"}},
                {},
                "SESSION_MAX_SECONDS",
                "invalid SESSION_MAX_SECONDS=0: expected an integer from 1 to 86400"},
        BadCase{{{"LOG_LEVEL", "verbose"}},
                {},
                "LOG_LEVEL",
                "invalid LOG_LEVEL=verbose: expected debug, info, warn or error"},
        BadCase{{},
                {"--log-format", "xml"},
                "LOG_FORMAT",
                "invalid --log-format=xml (LOG_FORMAT): expected json or text"},
        BadCase{{{"OPENAI_REALTIME_URL", "https://api.openai.com/v1/realtime"}},
                {},
                "OPENAI_REALTIME_URL",
                "invalid OPENAI_REALTIME_URL=https://api.openai.com/v1/realtime: expected a ws:// "
                "or wss:// URL with a host"},
        BadCase{{{"OPENAI_REALTIME_URL", "wss:///v1/realtime"}},
                {},
                "OPENAI_REALTIME_URL",
                "invalid OPENAI_REALTIME_URL=wss:///v1/realtime: expected a ws:// or wss:// URL "
                "with a host"},
        BadCase{{{"OPENAI_REALTIME_URL", "ws://:9000/x"}},
                {},
                "OPENAI_REALTIME_URL",
                "invalid OPENAI_REALTIME_URL=ws://:9000/x: expected a ws:// or wss:// URL with a "
                "host"},
        BadCase{{{"OPENAI_REALTIME_MODEL", "gpt realtime"}},
                {},
                "OPENAI_REALTIME_MODEL",
                "invalid OPENAI_REALTIME_MODEL=gpt realtime: expected a model name without "
                "whitespace"},
        BadCase{
            {{"AI_BACKEND", "openai"}}, {}, "AI_BACKEND", "AI_BACKEND=openai needs OPENAI_API_KEY"},
        BadCase{
            {}, {"--ai-backend=openai"}, "AI_BACKEND", "AI_BACKEND=openai needs OPENAI_API_KEY"},
        BadCase{{{"AI_BACKEND", "gemini"}},
                {},
                "AI_BACKEND",
                "invalid AI_BACKEND=gemini: expected openai, echo or rtp-echo"},
        // Secrets: the reason is given, the value never is.
        BadCase{{{"OPENAI_API_KEY", "sk-abc\n"}},
                {},
                "OPENAI_API_KEY",
                "invalid OPENAI_API_KEY: must not contain whitespace or control characters"},
        BadCase{{},
                {"--bridge-api-token=tok en"},
                "BRIDGE_API_TOKEN",
                "invalid --bridge-api-token (BRIDGE_API_TOKEN): must not contain whitespace or "
                "control characters"},
        // Values are shown on one line, with control characters escaped.
        BadCase{{{"PORT", "80\n80"}},
                {},
                "PORT",
                "invalid PORT=80\\x0a80: expected an integer from 1 to 65535"},
        BadCase{{{"LOG_LEVEL", std::string(70, 'x')}},
                {},
                "LOG_LEVEL",
                "invalid LOG_LEVEL=" + std::string(64, 'x') +
                    "...: expected debug, info, warn or error"},
        // Argument errors.
        BadCase{{}, {"--bogus"}, "--bogus", "unknown flag --bogus (see --help)"},
        BadCase{{},
                {"--openai-api-kee=sk-secret"},
                "--openai-api-kee",
                "unknown flag --openai-api-kee (see --help)"},
        BadCase{{}, {"-p", "80"}, "-p", "unknown flag -p (see --help)"},
        BadCase{{}, {"extra"}, "extra", "unexpected argument 'extra' (see --help)"},
        BadCase{{}, {"--port"}, "PORT", "missing value for --port (PORT)"},
        BadCase{{}, {"--port", "--log-level", "debug"}, "PORT", "missing value for --port (PORT)"},
        BadCase{{}, {"--help=yes"}, "--help", "--help takes no value"}));

TEST(Config, AiBackendDefaultsByKeyPresence) {
    EXPECT_EQ(load_ok({}).ai_backend, AiBackend::echo);
    EXPECT_EQ(load_ok({}, {{"OPENAI_API_KEY", "sk-1"}}).ai_backend, AiBackend::openai);
    EXPECT_EQ(load_ok({"--openai-api-key=sk-1"}).ai_backend, AiBackend::openai);
    EXPECT_EQ(load_ok({}, {{"OPENAI_API_KEY", ""}}).ai_backend, AiBackend::echo);
    // An explicit choice wins over the default.
    EXPECT_EQ(load_ok({}, {{"OPENAI_API_KEY", "sk-1"}, {"AI_BACKEND", "echo"}}).ai_backend,
              AiBackend::echo);
    EXPECT_EQ(load_ok({"--ai-backend=openai"}, {{"OPENAI_API_KEY", "sk-1"}}).ai_backend,
              AiBackend::openai);
}

TEST(Config, SecretValuesNeverAppearInErrors) {
    auto r = load({"--openai-api-key", "sk-very-secret", "--port=x"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.find("sk-very-secret"), std::string::npos);
    auto typo = load({"--openai-api-kee=sk-very-secret"});
    ASSERT_FALSE(typo.ok());
    EXPECT_EQ(typo.error().message.find("sk-very-secret"), std::string::npos);
    EXPECT_EQ(typo.error().setting.find("sk-very-secret"), std::string::npos);
}

TEST(ConfigHelp, ListsEveryEnvNameFlagAndDefault) {
    const std::string help = config_help("wabridge");
    EXPECT_EQ(help.rfind("Usage: wabridge [options]\n", 0), 0u);
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"--port", "PORT"},
        {"--bind-address", "BIND_ADDRESS"},
        {"--openai-api-key", "OPENAI_API_KEY"},
        {"--openai-realtime-model", "OPENAI_REALTIME_MODEL"},
        {"--openai-realtime-url", "OPENAI_REALTIME_URL"},
        {"--ai-backend", "AI_BACKEND"},
        {"--public-ip", "PUBLIC_IP"},
        {"--ice-bind-addresses", "ICE_BIND_ADDRESSES"},
        {"--rtp-port-min", "RTP_PORT_MIN"},
        {"--rtp-port-max", "RTP_PORT_MAX"},
        {"--bridge-api-token", "BRIDGE_API_TOKEN"},
        {"--max-sessions", "MAX_SESSIONS"},
        {"--session-max-seconds", "SESSION_MAX_SECONDS"},
        {"--log-level", "LOG_LEVEL"},
        {"--log-format", "LOG_FORMAT"},
    };
    std::map<std::string, std::string> lines; // flag -> its row
    std::istringstream in(help);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string first;
        words >> first;
        lines[first] = line;
    }
    for (const auto& [flag, env] : rows) {
        ASSERT_TRUE(lines.count(flag)) << flag;
        std::istringstream words(lines[flag]);
        std::string f, e;
        words >> f >> e;
        EXPECT_EQ(e, env) << lines[flag];
    }
    std::istringstream port(lines["--port"]);
    std::string f, e, def;
    port >> f >> e >> def;
    EXPECT_EQ(def, "8080");
    std::istringstream url(lines["--openai-realtime-url"]);
    url >> f >> e >> def;
    EXPECT_EQ(def, "wss://api.openai.com/v1/realtime");
    std::istringstream key(lines["--openai-api-key"]);
    key >> f >> e >> def;
    EXPECT_EQ(def, "-");
    EXPECT_NE(help.find("-h, --help"), std::string::npos);
    EXPECT_NE(help.find("--version"), std::string::npos);
}

TEST(ConfigHelp, NeverShowsSecretValues) {
    // Help is built from the static table only, whatever the environment holds.
    auto r = load({}, {{"OPENAI_API_KEY", "sk-live-abc"}, {"BRIDGE_API_TOKEN", "tok-xyz"}});
    ASSERT_TRUE(r.ok());
    const std::string help = config_help("wabridge");
    EXPECT_EQ(help.find("sk-live-abc"), std::string::npos);
    EXPECT_EQ(help.find("tok-xyz"), std::string::npos);
}

TEST(ConfigSummary, ShowsEverySettingAndHidesSecrets) {
    Config c = load_ok({}, {{"OPENAI_API_KEY", "sk-live-abc"},
                            {"ICE_BIND_ADDRESSES", "10.0.0.1"},
                            {"PUBLIC_IP", "203.0.113.7"}});
    const nlohmann::json expected = {
        {"PORT", 8080},
        {"BIND_ADDRESS", "0.0.0.0"},
        {"OPENAI_API_KEY", "set"},
        {"OPENAI_REALTIME_MODEL", "gpt-realtime"},
        {"OPENAI_REALTIME_URL", "wss://api.openai.com/v1/realtime"},
        {"SYSTEM_INSTRUCTIONS",
         "You are a friendly voice assistant on a phone call. Keep answers short."},
        {"OPENAI_VOICE", "marin"},
        {"OPENAI_TRANSCRIPTION_MODEL", "gpt-4o-mini-transcribe"},
        {"OPENAI_VAD_TYPE", "server_vad"},
        {"OPENAI_VAD_THRESHOLD", 0.5},
        {"OPENAI_VAD_PREFIX_PADDING_MS", 300},
        {"OPENAI_VAD_SILENCE_MS", 500},
        {"OPENAI_VAD_EAGERNESS", "auto"},
        {"OPENAI_AUDIO_FORMAT", "pcm"},
        {"OPENAI_DTMF_TO_MODEL", true},
        {"OPENAI_APPEND_MS", 20},
        {"OPENAI_CA_FILE", ""},
        {"WHATSAPP_APP_SECRET", "unset"},
        {"WHATSAPP_VERIFY_TOKEN", "unset"},
        {"WHATSAPP_ACCESS_TOKEN", "unset"},
        {"WHATSAPP_GRAPH_URL", "https://graph.facebook.com/v23.0"},
        {"WHATSAPP_PHONE_NUMBER_ID", ""},
        {"WHATSAPP_CA_FILE", ""},
        {"WHATSAPP_ACCEPT_WAIT_MS", 5000},
        {"CALL_EVENTS_URL", ""},
        {"CALL_EVENTS_SECRET", "unset"},
        {"AI_BACKEND", "openai"},
        {"PUBLIC_IP", "203.0.113.7"},
        {"ICE_BIND_ADDRESSES", {"10.0.0.1"}},
        {"RTP_PORT_MIN", 10000},
        {"RTP_PORT_MAX", 10100},
        {"BRIDGE_API_TOKEN", "unset"},
        {"MAX_SESSIONS", 500},
        {"SESSION_MAX_SECONDS", 1800},
        {"MEDIA_TIMEOUT_SECONDS", 20},
        {"DRAIN_SECONDS", 30},
        {"JITTER_MIN_MS", 20},
        {"JITTER_MAX_MS", 200},
        {"OPUS_COMPLEXITY", 5},
        {"RESAMPLER_QUALITY", 3},
        {"ECHO_VAD_THRESHOLD_DBFS", -45},
        {"HTTP_MAX_CONNECTIONS", 1024},
        {"HTTP_MAX_HEADER_BYTES", 16384},
        {"HTTP_MAX_HEADERS", 100},
        {"HTTP_MAX_BODY_BYTES", 1048576},
        {"HTTP_IDLE_TIMEOUT_SECONDS", 10},
        {"HTTP_HEADER_TIMEOUT_SECONDS", 10},
        {"HTTP_BODY_TIMEOUT_SECONDS", 10},
        {"LOG_LEVEL", "info"},
        {"LOG_FORMAT", "json"},
    };
    const nlohmann::json summary = config_summary(c);
    EXPECT_EQ(summary, expected) << summary.dump();
    EXPECT_EQ(summary.dump().find("sk-live-abc"), std::string::npos);
}

TEST(ConfigSecrets, ListsOnlyNonEmptySecretValues) {
    Config c;
    EXPECT_TRUE(config_secrets(c).empty());
    c.openai_api_key = "sk-1";
    c.bridge_api_token = "tok-2";
    EXPECT_EQ(config_secrets(c), (std::vector<std::string>{"sk-1", "tok-2"}));
}

TEST(ConfigSecrets, FeedTheLoggerRedaction) {
    Config c;
    c.openai_api_key = "sk-1";
    Logger log;
    std::vector<std::string> lines;
    log.set_sink([&](std::string_view line) { lines.emplace_back(line); });
    log.set_secrets(config_secrets(c));
    log.info("config", nlohmann::ordered_json(config_summary(c)));
    log.info("oops sk-1");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[0].find(R"("OPENAI_API_KEY":"set")"), std::string::npos) << lines[0];
    EXPECT_EQ(lines[1].find("sk-1"), std::string::npos) << lines[1];
}

TEST(ConfigEnv, ProcessEnvReadsGetenv) {
    const char* name = "WABRIDGE_CONFIG_TEST_ONLY_VAR";
    EnvLookup env = process_env();
    ::unsetenv(name);
    EXPECT_EQ(env(name), std::nullopt);
    ::setenv(name, "42", 1);
    EXPECT_EQ(env(name), "42");
    ::unsetenv(name);
}

} // namespace
} // namespace wabridge

// Structured logging: one line per event, JSON (default) or human-readable text.
//
// Secrets never reach the sink: every configured secret string is replaced by "[redacted]"
// wherever it appears in the message, the call id or a string field value, and any field whose
// key looks sensitive (contains key/token/secret/password/authorization, case-insensitive) has
// its value replaced, unless the value is one of the presence markers "set"/"unset".
//
// Configure the logger once at startup (level, format, sink, secrets) before other threads
// exist; after that log() only reads that configuration, and the default sink emits each line
// with a single write(2), so concurrent log() calls do not interleave within a line.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge {

enum class LogLevel { debug, info, warn, error };
enum class LogFormat { json, text };

// Lower-case names as used in LOG_LEVEL / LOG_FORMAT and in the JSON "level" key.
std::string_view to_string(LogLevel level);
std::string_view to_string(LogFormat format);
// Case-insensitive; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);
std::optional<LogFormat> parse_log_format(std::string_view text);

// UTC ISO-8601 (RFC 3339) with milliseconds, e.g. "2026-11-22T10:00:00.123Z".
std::string format_log_timestamp(std::chrono::system_clock::time_point time);

class Logger {
public:
    // Receives one complete line without the trailing newline.
    using Sink = std::function<void(std::string_view line)>;
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    explicit Logger(LogLevel level = LogLevel::info, LogFormat format = LogFormat::json);

    void set_level(LogLevel level) { level_ = level; }
    LogLevel level() const { return level_; }
    void set_format(LogFormat format) { format_ = format; }
    LogFormat format() const { return format_; }
    // An empty function restores the default (stderr sink, system clock).
    void set_sink(Sink sink);
    void set_clock(Clock clock);
    // Empty strings are ignored (they would match everywhere).
    void set_secrets(std::vector<std::string> secrets);

    // Cheap check callers can use before building expensive fields.
    bool enabled(LogLevel level) const {
        return static_cast<int>(level) >= static_cast<int>(level_);
    }

    // `fields` should be an object (null or {} = none); any other JSON value is logged under
    // the key "fields". A field named ts/level/msg/callId that would clash with the fixed keys
    // is renamed with a leading underscore. Never throws.
    void log(LogLevel level, std::string_view msg, nlohmann::ordered_json fields = {},
             std::string_view call_id = {}) noexcept;
    void debug(std::string_view msg, nlohmann::ordered_json fields = {},
               std::string_view call_id = {}) noexcept {
        log(LogLevel::debug, msg, std::move(fields), call_id);
    }
    void info(std::string_view msg, nlohmann::ordered_json fields = {},
              std::string_view call_id = {}) noexcept {
        log(LogLevel::info, msg, std::move(fields), call_id);
    }
    void warn(std::string_view msg, nlohmann::ordered_json fields = {},
              std::string_view call_id = {}) noexcept {
        log(LogLevel::warn, msg, std::move(fields), call_id);
    }
    void error(std::string_view msg, nlohmann::ordered_json fields = {},
               std::string_view call_id = {}) noexcept {
        log(LogLevel::error, msg, std::move(fields), call_id);
    }

private:
    std::string format_line(LogLevel level, std::string_view msg, nlohmann::ordered_json fields,
                            std::string_view call_id) const;

    LogLevel level_;
    LogFormat format_;
    Sink sink_;
    Clock clock_;
    std::vector<std::string> secrets_;
};

// Process-wide logger (info, json, stderr) that main() configures once.
Logger& logger();

} // namespace wabridge

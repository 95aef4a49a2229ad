#include "wabridge/app/log.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <unistd.h>

namespace wabridge {

namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kRedacted = "[redacted]";

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

bool sensitive_key(std::string_view key) {
    std::string lower(key);
    std::transform(lower.begin(), lower.end(), lower.begin(), ascii_lower);
    for (std::string_view word : {"key", "token", "secret", "password", "authorization"}) {
        if (lower.find(word) != std::string::npos) return true;
    }
    return false;
}

// config_summary() reports secrets as "set"/"unset"; those markers carry no secret content.
bool presence_marker(const ojson& value) {
    return value.is_string() && (value.get_ref<const std::string&>() == "set" ||
                                 value.get_ref<const std::string&>() == "unset");
}

// Replaces every occurrence of every secret. Overlapping or adjacent occurrences collapse into
// one marker, so no fragment of a secret survives next to a marker.
std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
    bool found = false;
    for (const auto& s : secrets) {
        if (text.find(s) != std::string_view::npos) {
            found = true;
            break;
        }
    }
    if (!found) return std::string(text);

    std::vector<bool> covered(text.size(), false);
    for (const auto& s : secrets) {
        for (auto pos = text.find(s); pos != std::string_view::npos; pos = text.find(s, pos + 1)) {
            std::fill_n(covered.begin() + static_cast<std::ptrdiff_t>(pos), s.size(), true);
        }
    }
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (!covered[i]) {
            out.push_back(text[i++]);
            continue;
        }
        out.append(kRedacted);
        while (i < text.size() && covered[i])
            ++i;
    }
    return out;
}

void redact_json(ojson& value, const std::vector<std::string>& secrets) {
    if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it) {
            if (sensitive_key(it.key()) && !presence_marker(it.value())) {
                it.value() = kRedacted;
            } else {
                redact_json(it.value(), secrets);
            }
        }
    } else if (value.is_array()) {
        for (auto& item : value)
            redact_json(item, secrets);
    } else if (value.is_string() && !secrets.empty()) {
        value = redact(value.get_ref<const std::string&>(), secrets);
    }
}

std::string dump(const ojson& value) {
    // Invalid UTF-8 would otherwise throw; U+FFFD keeps the line valid JSON.
    return value.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

// Text format stays one line per event: control characters become visible escapes.
void append_escaped_controls(std::string& out, std::string_view text) {
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out.push_back(c);
        }
    }
}

bool needs_quotes(std::string_view text) {
    if (text.empty()) return true;
    return std::any_of(text.begin(), text.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return c == ' ' || c == '"' || c == '=' || u < 0x20 || u == 0x7f;
    });
}

void append_text_value(std::string& out, const ojson& value) {
    std::string raw = value.is_string() ? value.get<std::string>() : dump(value);
    if (needs_quotes(raw)) {
        out += dump(ojson(raw)); // JSON string escaping doubles as quoting
    } else {
        out += raw;
    }
}

std::string_view padded_level(LogLevel level) {
    switch (level) {
    case LogLevel::debug:
        return "DEBUG";
    case LogLevel::info:
        return "INFO ";
    case LogLevel::warn:
        return "WARN ";
    case LogLevel::error:
        return "ERROR";
    }
    return "?????";
}

void write_stderr(std::string_view line) {
    std::string buf;
    buf.reserve(line.size() + 1);
    buf.append(line);
    buf.push_back('\n');
    const char* p = buf.data();
    std::size_t left = buf.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return; // nowhere left to report a failing stderr
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

} // namespace

std::string_view to_string(LogLevel level) {
    switch (level) {
    case LogLevel::debug:
        return "debug";
    case LogLevel::info:
        return "info";
    case LogLevel::warn:
        return "warn";
    case LogLevel::error:
        return "error";
    }
    return "unknown";
}

std::string_view to_string(LogFormat format) {
    switch (format) {
    case LogFormat::json:
        return "json";
    case LogFormat::text:
        return "text";
    }
    return "unknown";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
    for (auto level : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
        if (iequals(text, to_string(level))) return level;
    }
    return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
    for (auto format : {LogFormat::json, LogFormat::text}) {
        if (iequals(text, to_string(format))) return format;
    }
    return std::nullopt;
}

std::string format_log_timestamp(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(time);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
    return buf;
}

Logger::Logger(LogLevel level, LogFormat format)
    : level_(level)
    , format_(format) {
    set_sink(nullptr);
    set_clock(nullptr);
}

void Logger::set_sink(Sink sink) {
    sink_ = sink ? std::move(sink) : Sink(write_stderr);
}

void Logger::set_clock(Clock clock) {
    clock_ = clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); });
}

void Logger::set_secrets(std::vector<std::string> secrets) {
    std::erase_if(secrets, [](const std::string& s) { return s.empty(); });
    std::sort(secrets.begin(), secrets.end());
    secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
    secrets_ = std::move(secrets);
}

void Logger::log(LogLevel level, std::string_view msg, nlohmann::ordered_json fields,
                 std::string_view call_id) noexcept {
    if (!enabled(level)) return;
    try {
        sink_(format_line(level, msg, std::move(fields), call_id));
    } catch (...) {
        // A log call must never take down the caller (e.g. bad_alloc, a throwing test sink).
    }
}

std::string Logger::format_line(LogLevel level, std::string_view msg, nlohmann::ordered_json fields,
                                std::string_view call_id) const {
    if (!fields.is_null() && !fields.is_object()) fields = ojson{{"fields", std::move(fields)}};
    redact_json(fields, secrets_);
    const std::string ts = format_log_timestamp(clock_());
    const std::string safe_msg = redact(msg, secrets_);
    const std::string safe_call_id = redact(call_id, secrets_);

    if (format_ == LogFormat::text) {
        std::string line = ts;
        line += ' ';
        line += padded_level(level);
        line += ' ';
        append_escaped_controls(line, safe_msg);
        if (!call_id.empty()) {
            line += " callId=";
            append_text_value(line, ojson(safe_call_id));
        }
        if (fields.is_object()) {
            for (auto it = fields.begin(); it != fields.end(); ++it) {
                line += ' ';
                append_escaped_controls(line, it.key());
                line += '=';
                append_text_value(line, it.value());
            }
        }
        return line;
    }

    ojson out = ojson::object();
    out["ts"] = ts;
    out["level"] = to_string(level);
    out["msg"] = safe_msg;
    if (!call_id.empty()) out["callId"] = safe_call_id;
    if (fields.is_object()) {
        for (auto it = fields.begin(); it != fields.end(); ++it) {
            std::string name = it.key();
            while (out.contains(name))
                name.insert(name.begin(), '_');
            out[name] = std::move(it.value());
        }
    }
    return dump(out);
}

Logger& logger() {
    static Logger instance(LogLevel::info, LogFormat::json);
    return instance;
}

} // namespace wabridge

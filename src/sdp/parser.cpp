#include "wabridge/sdp/parser.hpp"

#include "wabridge/util/text.hpp"

#include <optional>

namespace wabridge::sdp {

namespace {

using text::parse_uint;
using text::split_sp_strict;

Err<Error> fail(ErrorCode code, size_t line, std::string reason) {
    return err(Error{code, line, std::move(reason)});
}

// RFC 8866 §9: token-char = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
// "-" / "." / "^" / "_" / "`" / "{" / "|" / "}" / "~"
bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_token_char(c)) return false;
    }
    return true;
}

// One physical line with its 1-based number.
struct Line {
    std::string_view text;
    size_t number;
};

// Splits on LF, dropping one CR before it (CRLF or LF endings, RFC 8866 §5 allows both on
// input). Any other control character is refused: SDP text is UTF-8 without controls.
Result<std::vector<Line>, Error> split_lines(std::string_view input, const ParseLimits& limits) {
    std::vector<Line> lines;
    size_t start = 0;
    size_t number = 1;
    while (start < input.size()) {
        size_t end = input.find('\n', start);
        if (end == std::string_view::npos) end = input.size();
        std::string_view line = input.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        for (char c : line) {
            auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f) {
                return fail(ErrorCode::invalid_character, number,
                            "control character 0x" + std::string(1, "0123456789abcdef"[u >> 4]) +
                                std::string(1, "0123456789abcdef"[u & 15]) + " in line");
            }
        }
        if (lines.size() >= limits.max_lines) {
            return fail(ErrorCode::too_many_lines, number,
                        "more than " + std::to_string(limits.max_lines) + " lines");
        }
        lines.push_back({line, number});
        start = end + 1;
        ++number;
    }
    // Trailing empty lines are harmless; empty lines inside the description are not.
    while (!lines.empty() && lines.back().text.empty())
        lines.pop_back();
    return lines;
}

Result<Origin, Error> parse_origin(const Line& line, std::string_view value) {
    auto f = split_sp_strict(value);
    if (!f || f->size() != 6) {
        return fail(ErrorCode::bad_origin, line.number,
                    "o= needs 6 fields: username sess-id sess-version nettype addrtype address");
    }
    Origin o;
    o.username = std::string((*f)[0]);
    o.session_id = std::string((*f)[1]);
    o.session_version = std::string((*f)[2]);
    o.net_type = std::string((*f)[3]);
    o.addr_type = std::string((*f)[4]);
    o.address = std::string((*f)[5]);
    if (!parse_uint(o.session_id, UINT64_MAX) || !parse_uint(o.session_version, UINT64_MAX)) {
        return fail(ErrorCode::bad_origin, line.number,
                    "o= sess-id and sess-version must be numeric");
    }
    return o;
}

Result<Connection, Error> parse_connection(const Line& line, std::string_view value) {
    auto f = split_sp_strict(value);
    if (!f || f->size() != 3) {
        return fail(ErrorCode::bad_connection, line.number,
                    "c= needs 3 fields: nettype addrtype connection-address");
    }
    Connection c{std::string((*f)[0]), std::string((*f)[1]), std::string((*f)[2])};
    if (!text::iequals(c.net_type, "IN")) {
        return fail(ErrorCode::bad_connection, line.number, "c= nettype must be IN");
    }
    if (!text::iequals(c.addr_type, "IP4") && !text::iequals(c.addr_type, "IP6")) {
        return fail(ErrorCode::bad_connection, line.number, "c= addrtype must be IP4 or IP6");
    }
    return c;
}

Result<MediaDescription, Error> parse_media(const Line& line, std::string_view value) {
    auto f = split_sp_strict(value);
    if (!f || f->size() < 4) {
        return fail(ErrorCode::bad_media, line.number,
                    "m= needs: media port proto fmt... (at least one format)");
    }
    MediaDescription m;
    m.line = line.number;
    if (!is_token((*f)[0]))
        return fail(ErrorCode::bad_media, line.number, "m= media is not a token");
    m.media = text::to_lower((*f)[0]);

    // <port>[/<number of ports>]
    std::string_view port_field = (*f)[1];
    std::string_view count_field;
    if (auto slash = port_field.find('/'); slash != std::string_view::npos) {
        count_field = port_field.substr(slash + 1);
        port_field = port_field.substr(0, slash);
    }
    auto port = parse_uint(port_field, 65535);
    if (!port) {
        return fail(ErrorCode::bad_media, line.number,
                    "m= port '" + std::string(port_field) + "' is not a number from 0 to 65535");
    }
    m.port = static_cast<uint16_t>(*port);
    if (!count_field.empty() || (*f)[1].back() == '/') {
        auto count = parse_uint(count_field, 65535);
        if (!count || *count == 0) {
            return fail(ErrorCode::bad_media, line.number, "m= number of ports is not valid");
        }
        m.port_count = static_cast<uint16_t>(*count);
    }

    m.proto = std::string((*f)[2]);
    for (auto part : text::split(m.proto, '/')) {
        if (!is_token(part))
            return fail(ErrorCode::bad_media, line.number, "m= proto is malformed");
    }
    // RFC 8866 §5.14: for RTP profiles the formats are RTP payload type numbers (RFC 3550 §5.1:
    // 7 bits, so 0..127).
    bool rtp = text::to_lower(m.proto).find("rtp/") != std::string::npos;
    for (size_t i = 3; i < f->size(); ++i) {
        std::string_view fmt = (*f)[i];
        if (rtp && !parse_uint(fmt, 127)) {
            return fail(ErrorCode::bad_media, line.number,
                        "m= payload type '" + std::string(fmt) + "' is not a number from 0 to 127");
        }
        if (!rtp && !is_token(fmt)) {
            return fail(ErrorCode::bad_media, line.number, "m= format is not a token");
        }
        m.formats.emplace_back(fmt);
    }
    return m;
}

Result<Attribute, Error> parse_attribute(const Line& line, std::string_view value) {
    Attribute a;
    a.line = line.number;
    size_t colon = value.find(':');
    std::string_view name = value.substr(0, colon);
    if (!is_token(name)) {
        return fail(ErrorCode::bad_attribute, line.number,
                    "attribute name '" + std::string(name) + "' is not a token");
    }
    a.name = std::string(name);
    if (colon != std::string_view::npos) {
        a.has_value = true;
        a.value = std::string(value.substr(colon + 1));
    }
    return a;
}

bool is_session_only(char type) {
    switch (type) {
    case 'v':
    case 'o':
    case 's':
    case 'u':
    case 'e':
    case 'p':
    case 't':
    case 'r':
    case 'z':
        return true;
    default:
        return false;
    }
}

bool is_known_type(char type) {
    return is_session_only(type) || type == 'i' || type == 'c' || type == 'b' || type == 'k' ||
           type == 'a' || type == 'm';
}

} // namespace

Result<SessionDescription, Error> parse(std::string_view input, const ParseLimits& limits) {
    if (input.size() > limits.max_bytes) {
        return fail(ErrorCode::too_large, 0,
                    "SDP is " + std::to_string(input.size()) + " bytes; the limit is " +
                        std::to_string(limits.max_bytes));
    }
    auto split = split_lines(input, limits);
    if (!split) return err(split.error());
    const auto& lines = split.value();
    if (lines.empty()) return fail(ErrorCode::empty_input, 0, "SDP is empty");

    SessionDescription sd;
    bool seen_origin = false, seen_name = false, seen_timing = false;
    MediaDescription* current = nullptr;

    for (size_t i = 0; i < lines.size(); ++i) {
        const Line& line = lines[i];
        if (line.text.empty()) return fail(ErrorCode::malformed_line, line.number, "empty line");
        if (line.text.size() < 2 || line.text[1] != '=') {
            return fail(ErrorCode::malformed_line, line.number,
                        "expected <type>=<value>, got '" + std::string(line.text.substr(0, 40)) +
                            "'");
        }
        const char type = line.text[0];
        const std::string_view value = line.text.substr(2);
        if (!is_known_type(type)) {
            // RFC 8866 §5: a description with a type letter the parser does not understand is
            // to be ignored as a whole; we refuse it with a reason instead.
            return fail(ErrorCode::unknown_line_type, line.number,
                        "unknown line type '" + std::string(1, type) + "='");
        }
        if (i == 0) {
            if (type != 'v' || value != "0") {
                return fail(ErrorCode::bad_version, line.number, "SDP must start with v=0");
            }
            continue;
        }
        if (type == 'v') return fail(ErrorCode::bad_version, line.number, "v= appears twice");
        if (current && is_session_only(type)) {
            return fail(ErrorCode::malformed_line, line.number,
                        std::string(1, type) + "= is only allowed before the first m= line");
        }

        switch (type) {
        case 'o': {
            if (seen_origin) return fail(ErrorCode::bad_origin, line.number, "o= appears twice");
            auto o = parse_origin(line, value);
            if (!o) return err(o.error());
            sd.origin = std::move(o.value());
            seen_origin = true;
            break;
        }
        case 's':
            if (seen_name) return fail(ErrorCode::malformed_line, line.number, "s= appears twice");
            sd.session_name = std::string(value);
            seen_name = true;
            break;
        case 't': {
            auto f = split_sp_strict(value);
            if (!f || f->size() != 2 || !parse_uint((*f)[0], UINT64_MAX) ||
                !parse_uint((*f)[1], UINT64_MAX)) {
                return fail(ErrorCode::bad_timing, line.number, "t= needs two numbers");
            }
            if (!seen_timing)
                sd.timing = std::string(value);
            else
                sd.other_lines.push_back("t=" + std::string(value));
            seen_timing = true;
            break;
        }
        case 'c': {
            auto c = parse_connection(line, value);
            if (!c) return err(c.error());
            if (current) {
                current->has_connection = true;
                current->connection = std::move(c.value());
            } else {
                sd.has_connection = true;
                sd.connection = std::move(c.value());
            }
            break;
        }
        case 'm': {
            if (!seen_origin || !seen_name || !seen_timing) {
                return fail(ErrorCode::missing_field, line.number,
                            "m= before the session's o=, s= and t= lines");
            }
            if (sd.media.size() >= limits.max_media) {
                return fail(ErrorCode::too_many_media, line.number,
                            "more than " + std::to_string(limits.max_media) + " m= sections");
            }
            auto m = parse_media(line, value);
            if (!m) return err(m.error());
            sd.media.push_back(std::move(m.value()));
            current = &sd.media.back();
            break;
        }
        case 'a': {
            auto a = parse_attribute(line, value);
            if (!a) return err(a.error());
            (current ? current->attributes : sd.attributes).push_back(std::move(a.value()));
            break;
        }
        default: // i= u= e= p= b= r= z= k=: kept verbatim, not interpreted.
            (current ? current->other_lines : sd.other_lines).emplace_back(line.text);
            break;
        }
    }
    if (!seen_origin) return fail(ErrorCode::missing_field, 0, "SDP has no o= line");
    if (!seen_name) return fail(ErrorCode::missing_field, 0, "SDP has no s= line");
    if (!seen_timing) return fail(ErrorCode::missing_field, 0, "SDP has no t= line");
    return sd;
}

} // namespace wabridge::sdp

#include "llhttp_base.hpp"

namespace wabridge::http::detail {

namespace {

// Bytes counted per field line on top of its name and value: ": " and CRLF (RFC 9112 §5).
constexpr size_t kFieldLineOverhead = 4;

// One line, printable ASCII only: llhttp's reasons are static text, but they end up in logs and
// in error bodies, so nothing else may slip through.
std::string one_line(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u >= 0x7f) ? ' ' : c;
    }
    return out;
}

bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

int on_header_field(llhttp_t* p, const char* at, size_t n) {
    return LlhttpBase::guarded<LlhttpBase>(p, [&](LlhttpBase& s) {
        size_t cost = n;
        if (!s.field_open) {
            // A new field line (llhttp may deliver one name in several pieces).
            s.field_open = true;
            cost += kFieldLineOverhead;
            if (++s.field_count > s.max_headers) {
                return s.fail(ParseErrorKind::too_many_headers,
                              "more than " + std::to_string(s.max_headers) + " header fields");
            }
            s.storing_field = !s.headers_done;
            if (s.storing_field) s.headers->emplace_back();
        }
        if (int rc = s.add_header_bytes(cost)) return rc;
        // RFC 9112 §5.1: no whitespace between a field name and its colon ("Host : x" is a
        // smuggling vector; a server MUST answer 400). llhttp 8 lets spaces through.
        if (n > 0 && !is_token(std::string_view(at, n))) {
            return s.fail(ParseErrorKind::bad_request, "invalid character in a header field name");
        }
        if (s.storing_field) s.headers->back().name.append(at, n);
        return 0;
    });
}

int on_header_field_complete(llhttp_t* p) {
    return LlhttpBase::guarded<LlhttpBase>(p, [](LlhttpBase& s) {
        s.field_open = false;
        return 0;
    });
}

int on_header_value(llhttp_t* p, const char* at, size_t n) {
    return LlhttpBase::guarded<LlhttpBase>(p, [&](LlhttpBase& s) {
        if (int rc = s.add_header_bytes(n)) return rc;
        if (s.storing_field) s.headers->back().value.append(at, n);
        return 0;
    });
}

int on_header_value_complete(llhttp_t* p) {
    return LlhttpBase::guarded<LlhttpBase>(p, [](LlhttpBase& s) {
        // RFC 9110 §5.5: OWS around a field value is not part of it; llhttp strips the leading
        // whitespace only.
        if (s.storing_field) {
            std::string& v = s.headers->back().value;
            while (!v.empty() && is_ows(v.back()))
                v.pop_back();
        }
        return 0;
    });
}

} // namespace

LlhttpBase::LlhttpBase(llhttp_type_t type, size_t max_header_bytes, size_t max_headers,
                       const char* section) noexcept
    : max_header_bytes(max_header_bytes)
    , max_headers(max_headers)
    , section(section) {
    llhttp_settings_init(&settings);
    settings.on_header_field = &on_header_field;
    settings.on_header_field_complete = &on_header_field_complete;
    settings.on_header_value = &on_header_value;
    settings.on_header_value_complete = &on_header_value_complete;
    // llhttp keeps a pointer to `settings`: the derived Impl may still add callbacks to it.
    llhttp_init(&parser, type, &settings);
    parser.data = this;
}

void LlhttpBase::begin_header_section() {
    headers_done = false;
    field_open = false;
    storing_field = false;
    header_bytes = 0;
    field_count = 0;
}

int LlhttpBase::fail(ParseErrorKind kind, std::string message) {
    if (!error) error = ParseError{kind, std::move(message)};
    return HPE_USER;
}

int LlhttpBase::add_header_bytes(size_t n) {
    if (n > max_header_bytes || header_bytes > max_header_bytes - n) {
        return fail(ParseErrorKind::header_too_large,
                    std::string(section) + " header section exceeds " +
                        std::to_string(max_header_bytes) + " bytes");
    }
    header_bytes += n;
    return 0;
}

int LlhttpBase::append_start_line(std::string& to, const char* at, size_t n) {
    if (int rc = add_header_bytes(n)) return rc;
    to.append(at, n);
    return 0;
}

int LlhttpBase::require_http1() {
    if (parser.http_major == 1) return 0;
    return fail(ParseErrorKind::unsupported, "HTTP/" + std::to_string(parser.http_major) + "." +
                                                 std::to_string(parser.http_minor) +
                                                 " is not supported");
}

int LlhttpBase::check_content_length(size_t max_body_bytes) {
    if ((parser.flags & F_CHUNKED) == 0 && (parser.flags & F_CONTENT_LENGTH) &&
        parser.content_length > max_body_bytes) {
        return fail(ParseErrorKind::body_too_large,
                    "Content-Length " + std::to_string(parser.content_length) + " exceeds the " +
                        std::to_string(max_body_bytes) + "-byte limit");
    }
    return 0;
}

int LlhttpBase::check_chunk_size(size_t max_body_bytes, size_t received) {
    if (parser.content_length > max_body_bytes - received) {
        return fail(ParseErrorKind::body_too_large,
                    "chunked body exceeds the " + std::to_string(max_body_bytes) + "-byte limit");
    }
    return 0;
}

int LlhttpBase::body_too_large(size_t max_body_bytes) {
    return fail(ParseErrorKind::body_too_large,
                "body exceeds the " + std::to_string(max_body_bytes) + "-byte limit");
}

ParseError LlhttpBase::llhttp_error(llhttp_errno_t rc, ParseErrorKind kind) const {
    const char* reason = llhttp_get_error_reason(&parser);
    std::string message = "llhttp: ";
    message += llhttp_errno_name(rc);
    message += ": ";
    message += reason != nullptr ? reason : "";
    return ParseError{kind, one_line(message)};
}

} // namespace wabridge::http::detail

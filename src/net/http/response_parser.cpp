// llhttp in HTTP_RESPONSE mode, one response at a time (see response_parser.hpp).
#include "wabridge/net/http/response_parser.hpp"

#include "wabridge/util/text.hpp"

#include <llhttp.h>
#include <new>
#include <optional>

namespace wabridge::http {

namespace {

// Bytes counted per field line on top of its name and value: ": " and CRLF (RFC 9112 §5).
constexpr size_t kFieldLineOverhead = 4;

// on_headers_complete return values understood by llhttp 8: 1 = the message has no body,
// 2 = no body and the connection switches protocols (llhttp_execute returns HPE_PAUSED_UPGRADE).
constexpr int kSkipBody = 1;
constexpr int kUpgrade = 2;

// llhttp's reasons are static text, but they end up in logs: printable ASCII only.
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

} // namespace

const std::string* ParsedResponse::header(std::string_view name) const noexcept {
    for (const Header& h : headers) {
        if (text::iequals(h.name, name)) return &h.value;
    }
    return nullptr;
}

std::vector<std::string_view> ParsedResponse::header_values(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const Header& h : headers) {
        if (text::iequals(h.name, name)) out.emplace_back(h.value);
    }
    return out;
}

struct ResponseParser::Impl {
    explicit Impl(const ResponseLimits& l) noexcept
        : limits(l) {
        llhttp_settings_init(&settings);
        settings.on_message_begin = &Impl::on_message_begin;
        settings.on_status = &Impl::on_status;
        settings.on_status_complete = &Impl::on_status_complete;
        settings.on_header_field = &Impl::on_header_field;
        settings.on_header_field_complete = &Impl::on_header_field_complete;
        settings.on_header_value = &Impl::on_header_value;
        settings.on_header_value_complete = &Impl::on_header_value_complete;
        settings.on_headers_complete = &Impl::on_headers_complete;
        settings.on_chunk_header = &Impl::on_chunk_header;
        settings.on_body = &Impl::on_body;
        settings.on_message_complete = &Impl::on_message_complete;
        llhttp_init(&parser, HTTP_RESPONSE, &settings);
        parser.data = this;
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    llhttp_t parser{};
    llhttp_settings_t settings{};
    ResponseLimits limits;

    ParsedResponse current;
    bool head_request = false;
    bool in_progress = false;
    bool headers_done = false;
    bool interim = false;       // the message being parsed is a 1xx other than 101
    bool field_open = false;    // the last field callback belongs to a name still being read
    bool storing_field = false; // header (stored) or trailer (counted, dropped: RFC 9110 §6.5.1)
    size_t header_bytes = 0;
    size_t field_count = 0;
    size_t interim_count = 0;

    bool done = false;    // a final response is complete, waiting for take()
    bool closed = false;  // no further response on this connection
    bool eof = false;     // finish() was called
    bool retired = false; // llhttp saw an upgrade; it must not be fed again
    std::optional<ParseError> error;

    static Impl& self(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

    int fail(ParseErrorKind kind, std::string message) {
        if (!error) error = ParseError{kind, std::move(message)};
        return HPE_USER;
    }

    // RFC 9112 §2.3: the header section is capped as it streams in.
    int add_header_bytes(size_t n) {
        if (n > limits.max_header_bytes || header_bytes > limits.max_header_bytes - n) {
            return fail(ParseErrorKind::header_too_large,
                        "response header section exceeds " +
                            std::to_string(limits.max_header_bytes) + " bytes");
        }
        header_bytes += n;
        return 0;
    }

    // An exception must never unwind through llhttp's C frames.
    template <typename F> static int guarded(llhttp_t* p, F&& f) noexcept {
        Impl& s = self(p);
        try {
            return f(s);
        } catch (...) {
            if (!s.error) s.error = ParseError{ParseErrorKind::bad_request, "out of memory"};
            return HPE_USER;
        }
    }

    void start_message() {
        current = ParsedResponse{};
        in_progress = true;
        headers_done = false;
        interim = false;
        field_open = false;
        storing_field = false;
        header_bytes = 0;
        field_count = 0;
    }

    static int on_message_begin(llhttp_t* p) {
        return guarded(p, [](Impl& s) {
            s.start_message();
            return 0;
        });
    }

    static int on_status(llhttp_t* p, const char* at, size_t n) {
        return guarded(p, [&](Impl& s) {
            if (int rc = s.add_header_bytes(n)) return rc;
            s.current.reason.append(at, n);
            return 0;
        });
    }

    // The status code is known once the status line is read, before the headers.
    static int on_status_complete(llhttp_t* p) {
        return guarded(p, [p](Impl& s) {
            s.current.status = p->status_code;
            return 0;
        });
    }

    static int on_header_field(llhttp_t* p, const char* at, size_t n) {
        return guarded(p, [&](Impl& s) {
            size_t cost = n;
            if (!s.field_open) {
                // A new field line (llhttp may deliver one name in several pieces).
                s.field_open = true;
                cost += kFieldLineOverhead;
                if (++s.field_count > s.limits.max_headers) {
                    return s.fail(ParseErrorKind::too_many_headers,
                                  "more than " + std::to_string(s.limits.max_headers) +
                                      " header fields");
                }
                s.storing_field = !s.headers_done;
                if (s.storing_field) s.current.headers.emplace_back();
            }
            if (int rc = s.add_header_bytes(cost)) return rc;
            // RFC 9112 §5.1: no whitespace between a field name and its colon.
            if (n > 0 && !is_token(std::string_view(at, n))) {
                return s.fail(ParseErrorKind::bad_request,
                              "invalid character in a header field name");
            }
            if (s.storing_field) s.current.headers.back().name.append(at, n);
            return 0;
        });
    }

    static int on_header_field_complete(llhttp_t* p) {
        return guarded(p, [](Impl& s) {
            s.field_open = false;
            return 0;
        });
    }

    static int on_header_value(llhttp_t* p, const char* at, size_t n) {
        return guarded(p, [&](Impl& s) {
            if (int rc = s.add_header_bytes(n)) return rc;
            if (s.storing_field) s.current.headers.back().value.append(at, n);
            return 0;
        });
    }

    static int on_header_value_complete(llhttp_t* p) {
        return guarded(p, [](Impl& s) {
            // RFC 9110 §5.5: OWS around a field value is not part of it; llhttp strips only the
            // leading whitespace.
            if (s.storing_field) {
                std::string& v = s.current.headers.back().value;
                while (!v.empty() && is_ows(v.back()))
                    v.pop_back();
            }
            return 0;
        });
    }

    static int on_headers_complete(llhttp_t* p) {
        const int rc = guarded(p, [p](Impl& s) {
            s.field_open = false;
            ParsedResponse& r = s.current;
            r.status = p->status_code;
            r.version_minor = p->http_minor;
            if (p->http_major != 1) {
                return s.fail(ParseErrorKind::unsupported, "HTTP/" + std::to_string(p->http_major) +
                                                               "." + std::to_string(p->http_minor) +
                                                               " is not supported");
            }
            // RFC 9110 §15.2.2: after a 101 the connection speaks the protocol named in Upgrade,
            // from the byte after the empty line. llhttp 8 only treats a 101 as an upgrade when
            // it carries "Upgrade" and "Connection: upgrade"; the caller validates those, so the
            // switch is forced here and a 101 never has a body.
            if (r.status == 101) {
                r.upgraded = true;
                s.headers_done = true;
                return kUpgrade;
            }
            // RFC 9110 §15.2: 1xx responses are interim and have no content.
            if (r.status >= 100 && r.status < 200) {
                s.interim = true;
                return kSkipBody;
            }
            s.headers_done = true;
            if (s.head_request) return kSkipBody; // RFC 9110 §9.3.2
            const bool chunked = (p->flags & F_CHUNKED) != 0;
            // RFC 9112 §6.3: refuse a declared length over the limit before any body byte.
            if (!s.limits.truncate_body && !chunked && (p->flags & F_CONTENT_LENGTH) &&
                p->content_length > s.limits.max_body_bytes) {
                return s.fail(ParseErrorKind::body_too_large,
                              "Content-Length " + std::to_string(p->content_length) +
                                  " exceeds the " + std::to_string(s.limits.max_body_bytes) +
                                  "-byte limit");
            }
            return 0;
        });
        return rc == HPE_USER ? -1 : rc; // on_headers_complete signals an error with -1
    }

    static int on_chunk_header(llhttp_t* p) {
        return guarded(p, [p](Impl& s) {
            // RFC 9112 §7.1: the chunk size is known before its data; refuse early.
            if (!s.limits.truncate_body &&
                p->content_length > s.limits.max_body_bytes - s.current.body.size()) {
                return s.fail(ParseErrorKind::body_too_large,
                              "chunked body exceeds the " +
                                  std::to_string(s.limits.max_body_bytes) + "-byte limit");
            }
            return 0;
        });
    }

    static int on_body(llhttp_t* p, const char* at, size_t n) {
        return guarded(p, [&](Impl& s) {
            std::string& body = s.current.body;
            const size_t room = s.limits.max_body_bytes - body.size();
            if (n > room) {
                if (!s.limits.truncate_body) {
                    return s.fail(ParseErrorKind::body_too_large,
                                  "body exceeds the " + std::to_string(s.limits.max_body_bytes) +
                                      "-byte limit");
                }
                body.append(at, room);
                s.current.body_truncated = true;
                return 0;
            }
            body.append(at, n);
            return 0;
        });
    }

    static int on_message_complete(llhttp_t* p) {
        return guarded(p, [p](Impl& s) {
            if (s.interim) {
                ++s.interim_count;
                s.in_progress = false;
                s.interim = false;
                s.current = ParsedResponse{};
                return 0; // keep parsing: the final response follows
            }
            s.current.keep_alive =
                !s.current.upgraded && !s.eof && llhttp_should_keep_alive(p) != 0;
            s.in_progress = false;
            s.done = true;
            return static_cast<int>(HPE_PAUSED); // stop right after this response
        });
    }

    ParseError llhttp_error(llhttp_errno_t rc) const {
        const char* reason = llhttp_get_error_reason(&parser);
        std::string message = "llhttp: ";
        message += llhttp_errno_name(rc);
        message += ": ";
        message += reason != nullptr ? reason : "";
        return ParseError{ParseErrorKind::bad_request, one_line(message)};
    }

    Result<size_t, ParseError> feed(std::string_view data) {
        if (error) return err(*error);
        if (done || closed || eof || retired || data.empty()) return size_t{0};
        const llhttp_errno_t rc = llhttp_execute(&parser, data.data(), data.size());
        if (rc == HPE_OK && !error) return data.size();
        if ((rc == HPE_PAUSED || rc == HPE_PAUSED_UPGRADE) && !error && done) {
            // error_pos is just past the response: for a 101, the first byte of the new protocol.
            const char* pos = llhttp_get_error_pos(&parser);
            if (rc == HPE_PAUSED_UPGRADE || current.upgraded) {
                retired = true;
            } else {
                llhttp_resume(&parser);
            }
            if (pos < data.data() || pos > data.data() + data.size()) return data.size();
            return static_cast<size_t>(pos - data.data());
        }
        if (!error) error = llhttp_error(rc);
        in_progress = false;
        return err(*error);
    }

    Result<std::monostate, ParseError> finish() {
        if (error) return err(*error);
        if (eof || done || closed || retired) {
            eof = true;
            return std::monostate{};
        }
        eof = true;
        const llhttp_errno_t rc = llhttp_finish(&parser);
        if (error) return err(*error);
        if (rc == HPE_OK || (rc == HPE_PAUSED && done)) {
            if (!done && in_progress) {
                error = ParseError{ParseErrorKind::bad_request, "incomplete response"};
                return err(*error);
            }
            return std::monostate{};
        }
        error = rc == HPE_INVALID_EOF_STATE
                    ? ParseError{ParseErrorKind::bad_request, "incomplete response"}
                    : llhttp_error(rc);
        in_progress = false;
        return err(*error);
    }

    ParsedResponse take() {
        if (!done) return ParsedResponse{};
        ParsedResponse r = std::move(current);
        current = ParsedResponse{};
        if (r.upgraded || !r.keep_alive) closed = true;
        done = false;
        head_request = false;
        headers_done = false;
        return r;
    }
};

ResponseParser::ResponseParser(const ResponseLimits& limits)
    : impl_(new (std::nothrow) Impl(limits)) {}

ResponseParser::~ResponseParser() = default;

void ResponseParser::expect_head_response() noexcept {
    if (impl_) impl_->head_request = true;
}

Result<size_t, ParseError> ResponseParser::feed(std::string_view data) noexcept {
    try {
        if (!impl_) return err(ParseError{ParseErrorKind::bad_request, "out of memory"});
        return impl_->feed(data);
    } catch (...) {
        if (impl_ && !impl_->error) {
            impl_->error = ParseError{ParseErrorKind::bad_request, "out of memory"};
        }
        return err(ParseError{ParseErrorKind::bad_request, "out of memory"});
    }
}

Result<std::monostate, ParseError> ResponseParser::finish() noexcept {
    try {
        if (!impl_) return err(ParseError{ParseErrorKind::bad_request, "out of memory"});
        return impl_->finish();
    } catch (...) {
        if (impl_ && !impl_->error) {
            impl_->error = ParseError{ParseErrorKind::bad_request, "out of memory"};
        }
        return err(ParseError{ParseErrorKind::bad_request, "out of memory"});
    }
}

bool ResponseParser::done() const noexcept {
    return impl_ && impl_->done;
}

bool ResponseParser::headers_complete() const noexcept {
    return impl_ && (impl_->done || (impl_->in_progress && impl_->headers_done));
}

bool ResponseParser::in_progress() const noexcept {
    return impl_ && impl_->in_progress;
}

bool ResponseParser::failed() const noexcept {
    return !impl_ || impl_->error.has_value();
}

bool ResponseParser::closed() const noexcept {
    return impl_ && impl_->closed;
}

size_t ResponseParser::interim_responses() const noexcept {
    return impl_ ? impl_->interim_count : 0;
}

const ParsedResponse& ResponseParser::current() const noexcept {
    static const ParsedResponse empty;
    return impl_ ? impl_->current : empty;
}

ParsedResponse ResponseParser::take() noexcept {
    if (!impl_) return ParsedResponse{};
    return impl_->take();
}

} // namespace wabridge::http

#include "wabridge/net/http/request_parser.hpp"

#include "wabridge/util/text.hpp"

#include <cstdint>
#include <limits>
#include <llhttp.h>
#include <new>
#include <optional>

namespace wabridge::http {

namespace {

// Bytes counted per field line on top of its name and value: ": " and CRLF (RFC 9112 §5).
constexpr size_t kFieldLineOverhead = 4;

// One line, printable ASCII only: llhttp's reasons are static text, but they end up in logs and
// in the error body, so nothing else may slip through.
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

// RFC 9112 §3.2: origin-form "/path?query", absolute-form "http://host/path?query" (§3.2.2: a
// server MUST accept it), asterisk-form "*". The path stays percent-encoded; a fragment (never
// valid in a request-target, but llhttp lets it through) is dropped.
void split_target(Request& r) {
    std::string_view rest = r.target;
    bool absolute = false;
    if (!rest.empty() && rest.front() != '/' && rest != "*") {
        const size_t scheme_end = rest.find("://");
        if (scheme_end != std::string_view::npos) {
            absolute = true;
            const size_t path_start = rest.find_first_of("/?#", scheme_end + 3);
            rest =
                path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
        }
    }
    rest = rest.substr(0, rest.find('#'));
    const size_t q = rest.find('?');
    r.path = std::string(rest.substr(0, q));
    r.query = q == std::string_view::npos ? std::string() : std::string(rest.substr(q + 1));
    if (absolute && r.path.empty()) r.path = "/"; // RFC 9112 §3.2.2: empty path means "/"
}

} // namespace

struct RequestParser::Impl {
    explicit Impl(const Limits& l) noexcept
        : limits(l) {
        llhttp_settings_init(&settings);
        settings.on_message_begin = &Impl::on_message_begin;
        settings.on_url = &Impl::on_url;
        settings.on_header_field = &Impl::on_header_field;
        settings.on_header_field_complete = &Impl::on_header_field_complete;
        settings.on_header_value = &Impl::on_header_value;
        settings.on_header_value_complete = &Impl::on_header_value_complete;
        settings.on_headers_complete = &Impl::on_headers_complete;
        settings.on_chunk_header = &Impl::on_chunk_header;
        settings.on_body = &Impl::on_body;
        settings.on_message_complete = &Impl::on_message_complete;
        llhttp_init(&parser, HTTP_REQUEST, &settings);
        parser.data = this;
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    llhttp_t parser{};
    llhttp_settings_t settings{};
    Limits limits;

    Request current;
    bool in_progress = false;
    bool headers_done = false;
    bool field_open = false;    // the last field callback belongs to a name still being read
    bool storing_field = false; // header (stored) or trailer (counted, dropped: RFC 9110 §6.5.1)
    bool expect_continue = false;
    bool body_expected = false;
    size_t header_bytes = 0;
    size_t field_count = 0;

    std::vector<Request>* out = nullptr;
    size_t completed = 0;
    size_t max_requests = 0;
    std::optional<ParseError> error; // set by a callback, or sticky after a failed feed
    bool closed = false;

    static Impl& self(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

    int fail(ParseErrorKind kind, std::string message) {
        if (!error) error = ParseError{kind, std::move(message)};
        return HPE_USER;
    }

    // RFC 9112 §2.3 / RFC 9110 §5.4: a server must be able to refuse a header section that is too
    // large; counted as it streams in, so an endless field never grows memory.
    int add_header_bytes(size_t n) {
        if (n > limits.max_header_bytes || header_bytes > limits.max_header_bytes - n) {
            return fail(ParseErrorKind::header_too_large,
                        "request header section exceeds " +
                            std::to_string(limits.max_header_bytes) + " bytes");
        }
        header_bytes += n;
        return 0;
    }

    // Every callback catches: an exception must never unwind through llhttp's C frames.
    template <typename F> static int guarded(llhttp_t* p, F&& f) noexcept {
        Impl& s = self(p);
        try {
            return f(s);
        } catch (...) {
            if (!s.error) s.error = ParseError{ParseErrorKind::bad_request, "out of memory"};
            return HPE_USER;
        }
    }

    static int on_message_begin(llhttp_t* p) {
        return guarded(p, [](Impl& s) {
            s.current = Request{};
            s.in_progress = true;
            s.headers_done = false;
            s.field_open = false;
            s.storing_field = false;
            s.expect_continue = false;
            s.body_expected = false;
            s.header_bytes = 0;
            s.field_count = 0;
            return 0;
        });
    }

    static int on_url(llhttp_t* p, const char* at, size_t n) {
        return guarded(p, [&](Impl& s) {
            if (int rc = s.add_header_bytes(n)) return rc;
            s.current.target.append(at, n);
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
            // RFC 9112 §5.1: no whitespace between a field name and its colon ("Host : x" is a
            // smuggling vector; the server MUST answer 400). llhttp 8 lets spaces through.
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
            // RFC 9110 §5.5: OWS around a field value is not part of it; llhttp strips the leading
            // whitespace only.
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
            s.headers_done = true;
            s.field_open = false;
            Request& r = s.current;
            r.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
            r.version_minor = p->http_minor;
            if (p->http_major != 1) {
                // llhttp accepts "HTTP/0.9" and "HTTP/2.0" request lines; only HTTP/1.x is spoken.
                return s.fail(ParseErrorKind::unsupported, "HTTP/" + std::to_string(p->http_major) +
                                                               "." + std::to_string(p->http_minor) +
                                                               " is not supported");
            }
            // llhttp sets `upgrade` for CONNECT and for "Upgrade" + "Connection: upgrade"
            // (RFC 9110 §9.3.6, §7.8). This server tunnels nothing and switches to nothing.
            if (p->upgrade) {
                return s.fail(ParseErrorKind::unsupported,
                              p->method == HTTP_CONNECT ? "CONNECT is not supported"
                                                        : "protocol upgrade is not supported");
            }
            const bool chunked = (p->flags & F_CHUNKED) != 0;
            // RFC 9112 §6.3: Content-Length gives the body length; refuse it before any body byte
            // arrives when it is over the limit (RFC 9110 §15.5.14).
            if (!chunked && (p->flags & F_CONTENT_LENGTH) &&
                p->content_length > s.limits.max_body_bytes) {
                return s.fail(ParseErrorKind::body_too_large,
                              "Content-Length " + std::to_string(p->content_length) +
                                  " exceeds the " + std::to_string(s.limits.max_body_bytes) +
                                  "-byte limit");
            }
            s.body_expected = chunked || p->content_length > 0;
            // RFC 9110 §10.1.1: only an HTTP/1.1 (or later) client waits for 100 Continue.
            const std::string* expect = r.header("Expect");
            s.expect_continue =
                p->http_minor >= 1 && expect != nullptr && text::iequals(*expect, "100-continue");
            r.keep_alive = llhttp_should_keep_alive(p) != 0; // RFC 9112 §9.3
            split_target(r);
            return 0;
        });
        return rc == 0 ? 0 : -1; // on_headers_complete signals an error with -1
    }

    static int on_chunk_header(llhttp_t* p) {
        return guarded(p, [p](Impl& s) {
            // RFC 9112 §7.1: the chunk size is known before its data; refuse early.
            if (p->content_length > s.limits.max_body_bytes - s.current.body.size()) {
                return s.fail(ParseErrorKind::body_too_large,
                              "chunked body exceeds the " +
                                  std::to_string(s.limits.max_body_bytes) + "-byte limit");
            }
            return 0;
        });
    }

    static int on_body(llhttp_t* p, const char* at, size_t n) {
        return guarded(p, [&](Impl& s) {
            if (n > s.limits.max_body_bytes - s.current.body.size()) {
                return s.fail(ParseErrorKind::body_too_large,
                              "body exceeds the " + std::to_string(s.limits.max_body_bytes) +
                                  "-byte limit");
            }
            s.current.body.append(at, n);
            return 0;
        });
    }

    static int on_message_complete(llhttp_t* p) {
        return guarded(p, [p](Impl& s) {
            s.current.keep_alive = llhttp_should_keep_alive(p) != 0;
            const bool last = !s.current.keep_alive;
            s.out->push_back(std::move(s.current));
            s.current = Request{};
            s.in_progress = false;
            s.headers_done = false;
            s.expect_continue = false;
            ++s.completed;
            // RFC 9112 §9.6: nothing after a request that closes the connection is processed.
            if (last) s.closed = true;
            return last || s.completed >= s.max_requests ? HPE_PAUSED : 0;
        });
    }

    Result<size_t, ParseError> feed(std::string_view data, std::vector<Request>& sink, size_t max) {
        if (error) return err(*error);
        if (closed) return data.size();
        if (max == 0 || data.empty()) return size_t{0};
        out = &sink;
        completed = 0;
        max_requests = max;
        const llhttp_errno_t rc = llhttp_execute(&parser, data.data(), data.size());
        out = nullptr;
        if (rc == HPE_OK) return data.size();
        if (rc == HPE_PAUSED && !error) {
            // Paused by on_message_complete: error_pos is just past the completed request.
            const char* pos = llhttp_get_error_pos(&parser);
            llhttp_resume(&parser);
            if (closed) return data.size();
            if (pos < data.data() || pos > data.data() + data.size()) return data.size();
            return static_cast<size_t>(pos - data.data());
        }
        if (!error) {
            const char* reason = llhttp_get_error_reason(&parser);
            std::string message = "llhttp: ";
            message += llhttp_errno_name(rc);
            message += ": ";
            message += reason != nullptr ? reason : "";
            ParseErrorKind kind = ParseErrorKind::bad_request;
            // Unreachable for Upgrade/CONNECT (refused at headers-complete); "PRI * HTTP/2.0" (the
            // HTTP/2 preface, RFC 9113 §3.4) ends up here.
            if (rc == HPE_PAUSED_UPGRADE || rc == HPE_PAUSED_H2_UPGRADE) {
                kind = ParseErrorKind::unsupported;
            }
            error = ParseError{kind, one_line(message)};
        }
        in_progress = false;
        headers_done = false;
        expect_continue = false;
        return err(*error);
    }
};

RequestParser::RequestParser(const Limits& limits)
    : impl_(new (std::nothrow) Impl(limits)) {}

RequestParser::~RequestParser() = default;

Result<std::monostate, ParseError> RequestParser::feed(std::string_view data,
                                                       std::vector<Request>& out) noexcept {
    auto r = feed_some(data, out, std::numeric_limits<size_t>::max());
    if (!r.ok()) return err(r.error());
    return std::monostate{};
}

Result<size_t, ParseError> RequestParser::feed_some(std::string_view data,
                                                    std::vector<Request>& out,
                                                    size_t max_requests) noexcept {
    try {
        if (!impl_) return err(ParseError{ParseErrorKind::bad_request, "out of memory"});
        return impl_->feed(data, out, max_requests);
    } catch (...) {
        if (impl_ && !impl_->error) {
            impl_->error = ParseError{ParseErrorKind::bad_request, "out of memory"};
        }
        return err(ParseError{ParseErrorKind::bad_request, "out of memory"});
    }
}

bool RequestParser::in_progress() const noexcept {
    return impl_ && impl_->in_progress;
}

bool RequestParser::headers_complete() const noexcept {
    return impl_ && impl_->in_progress && impl_->headers_done;
}

bool RequestParser::expects_continue() const noexcept {
    return impl_ && impl_->in_progress && impl_->headers_done && impl_->expect_continue &&
           impl_->body_expected && impl_->current.body.empty();
}

bool RequestParser::closed() const noexcept {
    return impl_ && impl_->closed;
}

bool RequestParser::failed() const noexcept {
    return !impl_ || impl_->error.has_value();
}

} // namespace wabridge::http

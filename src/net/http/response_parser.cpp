// llhttp in HTTP_RESPONSE mode, one response at a time (see response_parser.hpp).
#include "wabridge/net/http/response_parser.hpp"

#include "llhttp_base.hpp"
#include "wabridge/util/text.hpp"

#include <llhttp.h>
#include <new>
#include <optional>

namespace wabridge::http {

namespace {

// on_headers_complete return values understood by llhttp 8: 1 = the message has no body,
// 2 = no body and the connection switches protocols (llhttp_execute returns HPE_PAUSED_UPGRADE).
constexpr int kSkipBody = 1;
constexpr int kUpgrade = 2;

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

struct ResponseParser::Impl : detail::LlhttpBase {
    explicit Impl(const ResponseLimits& l) noexcept
        : LlhttpBase(HTTP_RESPONSE, l.max_header_bytes, l.max_headers, "response")
        , limits(l) {
        attach(*this);
        settings.on_status = &Impl::on_status;
        settings.on_status_complete = &Impl::on_status_complete;
    }

    ResponseLimits limits;

    ParsedResponse current;
    bool head_request = false;
    bool in_progress = false;
    bool interim = false; // the message being parsed is a 1xx other than 101
    size_t interim_count = 0;

    bool done = false;    // a final response is complete, waiting for take()
    bool closed = false;  // no further response on this connection
    bool eof = false;     // finish() was called
    bool retired = false; // llhttp saw an upgrade; it must not be fed again

    void start_message() {
        current = ParsedResponse{};
        in_progress = true;
        begin_header_section();
        interim = false;
    }

    static int on_message_begin(llhttp_t* p) {
        return guarded<Impl>(p, [](Impl& s) {
            s.start_message();
            return 0;
        });
    }

    static int on_status(llhttp_t* p, const char* at, size_t n) {
        return guarded<Impl>(p,
                             [&](Impl& s) { return s.append_start_line(s.current.reason, at, n); });
    }

    // The status code is known once the status line is read, before the headers.
    static int on_status_complete(llhttp_t* p) {
        return guarded<Impl>(p, [p](Impl& s) {
            s.current.status = p->status_code;
            return 0;
        });
    }

    static int on_headers_complete(llhttp_t* p) {
        const int rc = guarded<Impl>(p, [p](Impl& s) {
            s.field_open = false;
            ParsedResponse& r = s.current;
            r.status = p->status_code;
            r.version_minor = p->http_minor;
            if (int rc = s.require_http1()) return rc;
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
            if (s.limits.truncate_body) return 0;
            return s.check_content_length(s.limits.max_body_bytes);
        });
        return rc == HPE_USER ? -1 : rc; // on_headers_complete signals an error with -1
    }

    static int on_chunk_header(llhttp_t* p) {
        return guarded<Impl>(p, [](Impl& s) {
            if (s.limits.truncate_body) return 0;
            return s.check_chunk_size(s.limits.max_body_bytes, s.current.body.size());
        });
    }

    static int on_body(llhttp_t* p, const char* at, size_t n) {
        return guarded<Impl>(p, [&](Impl& s) {
            std::string& body = s.current.body;
            const size_t room = s.limits.max_body_bytes - body.size();
            if (n > room) {
                if (!s.limits.truncate_body) return s.body_too_large(s.limits.max_body_bytes);
                body.append(at, room);
                s.current.body_truncated = true;
                return 0;
            }
            body.append(at, n);
            return 0;
        });
    }

    static int on_message_complete(llhttp_t* p) {
        return guarded<Impl>(p, [p](Impl& s) {
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
    return detail::guard_entry(impl_.get(), [&] { return impl_->feed(data); });
}

Result<std::monostate, ParseError> ResponseParser::finish() noexcept {
    return detail::guard_entry(impl_.get(), [&] { return impl_->finish(); });
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

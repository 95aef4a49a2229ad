#include "wabridge/net/http/request_parser.hpp"

#include "llhttp_base.hpp"
#include "wabridge/util/text.hpp"

#include <cstdint>
#include <limits>
#include <llhttp.h>
#include <new>
#include <optional>

namespace wabridge::http {

namespace {

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

struct RequestParser::Impl : detail::LlhttpBase {
    explicit Impl(const Limits& l) noexcept
        : LlhttpBase(HTTP_REQUEST, l.max_header_bytes, l.max_headers, "request")
        , limits(l) {
        attach(*this);
        settings.on_url = &Impl::on_url;
    }

    Limits limits;

    Request current;
    bool in_progress = false;
    bool expect_continue = false;
    bool body_expected = false;

    std::vector<Request>* out = nullptr;
    size_t completed = 0;
    size_t max_requests = 0;
    bool closed = false;

    static int on_message_begin(llhttp_t* p) {
        return guarded<Impl>(p, [](Impl& s) {
            s.current = Request{};
            s.in_progress = true;
            s.begin_header_section();
            s.expect_continue = false;
            s.body_expected = false;
            return 0;
        });
    }

    static int on_url(llhttp_t* p, const char* at, size_t n) {
        return guarded<Impl>(p,
                             [&](Impl& s) { return s.append_start_line(s.current.target, at, n); });
    }

    static int on_headers_complete(llhttp_t* p) {
        const int rc = guarded<Impl>(p, [p](Impl& s) {
            s.headers_done = true;
            s.field_open = false;
            Request& r = s.current;
            r.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
            r.version_minor = p->http_minor;
            if (int rc = s.require_http1()) return rc;
            // llhttp sets `upgrade` for CONNECT and for "Upgrade" + "Connection: upgrade"
            // (RFC 9110 §9.3.6, §7.8). This server tunnels nothing and switches to nothing.
            if (p->upgrade) {
                return s.fail(ParseErrorKind::unsupported,
                              p->method == HTTP_CONNECT ? "CONNECT is not supported"
                                                        : "protocol upgrade is not supported");
            }
            if (int rc = s.check_content_length(s.limits.max_body_bytes)) return rc;
            s.body_expected = (p->flags & F_CHUNKED) != 0 || p->content_length > 0;
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
        return guarded<Impl>(p, [](Impl& s) {
            return s.check_chunk_size(s.limits.max_body_bytes, s.current.body.size());
        });
    }

    static int on_body(llhttp_t* p, const char* at, size_t n) {
        return guarded<Impl>(p, [&](Impl& s) {
            if (n > s.limits.max_body_bytes - s.current.body.size()) {
                return s.body_too_large(s.limits.max_body_bytes);
            }
            s.current.body.append(at, n);
            return 0;
        });
    }

    static int on_message_complete(llhttp_t* p) {
        return guarded<Impl>(p, [p](Impl& s) {
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
            // Unreachable for Upgrade/CONNECT (refused at headers-complete); "PRI * HTTP/2.0" (the
            // HTTP/2 preface, RFC 9113 §3.4) ends up here.
            const bool upgrade = rc == HPE_PAUSED_UPGRADE || rc == HPE_PAUSED_H2_UPGRADE;
            error = llhttp_error(rc, upgrade ? ParseErrorKind::unsupported
                                             : ParseErrorKind::bad_request);
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
    return detail::guard_entry(impl_.get(), [&] { return impl_->feed(data, out, max_requests); });
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

// What RequestParser and ResponseParser share around llhttp. Private to src/net/http.
//
// LlhttpBase owns the llhttp parser and its settings, the sticky error, and the header section:
// the field callbacks, the byte and field-count caps, the field-name check and the trimming of
// trailing OWS. It also words the failures both parsers share (HTTP version, body limits, llhttp's
// own errors). Each parser's Impl derives from it and adds its start line (request target or
// status line) and its body handling.
#pragma once

#include "wabridge/net/http/message.hpp"
#include "wabridge/net/http/request_parser.hpp"

#include <cstddef>
#include <llhttp.h>
#include <optional>
#include <string>
#include <vector>

namespace wabridge::http::detail {

inline ParseError out_of_memory() {
    return ParseError{ParseErrorKind::bad_request, "out of memory"};
}

struct LlhttpBase {
    // `section` ("request" or "response") names the header section in the header_too_large
    // message. The derived Impl's constructor calls attach() and adds its start-line callbacks
    // to `settings` (llhttp reads them through a pointer, at parse time).
    LlhttpBase(llhttp_type_t type, size_t max_header_bytes, size_t max_headers,
               const char* section) noexcept;
    LlhttpBase(const LlhttpBase&) = delete;
    LlhttpBase& operator=(const LlhttpBase&) = delete;

    llhttp_t parser{};
    llhttp_settings_t settings{};
    size_t max_header_bytes;
    size_t max_headers;
    const char* section;

    std::vector<Header>* headers = nullptr; // where the fields of the current message go
    bool headers_done = false;              // later field lines are trailers
    bool field_open = false;    // the last field callback belongs to a name still being read
    bool storing_field = false; // header (stored) or trailer (counted, dropped: RFC 9110 §6.5.1)
    size_t header_bytes = 0;
    size_t field_count = 0;
    std::optional<ParseError> error; // set by a callback, or sticky after a failed feed

    // Points llhttp at the callbacks every message has (on_message_begin, on_headers_complete,
    // on_chunk_header, on_body, on_message_complete: static members of Impl) and the field
    // callbacks at impl.current.headers. The Impl adds its start-line callbacks itself.
    template <typename Impl> void attach(Impl& impl) {
        settings.on_message_begin = &Impl::on_message_begin;
        settings.on_headers_complete = &Impl::on_headers_complete;
        settings.on_chunk_header = &Impl::on_chunk_header;
        settings.on_body = &Impl::on_body;
        settings.on_message_complete = &Impl::on_message_complete;
        headers = &impl.current.headers;
    }

    // A new message starts: its header section is empty.
    void begin_header_section();

    int fail(ParseErrorKind kind, std::string message);

    // RFC 9112 §2.3 / RFC 9110 §5.4: a header section that is too large may be refused; counted
    // as it streams in (start line included), so an endless field never grows memory.
    int add_header_bytes(size_t n);

    // Start-line text (request target, reason phrase) counts toward the header section's cap.
    int append_start_line(std::string& to, const char* at, size_t n);

    // llhttp accepts "HTTP/0.9" and "HTTP/2.0" start lines; only HTTP/1.x is spoken.
    int require_http1();

    // RFC 9112 §6.3: a Content-Length (on a message not chunked) over `max_body_bytes` is
    // refused at the end of the header section, before any body byte (RFC 9110 §15.5.14).
    int check_content_length(size_t max_body_bytes);
    // RFC 9112 §7.1: a chunk's size is known before its data; refused early when the chunk would
    // take the body (`received` bytes so far) over `max_body_bytes`.
    int check_chunk_size(size_t max_body_bytes, size_t received);
    // The body_too_large failure for body bytes past `max_body_bytes`.
    int body_too_large(size_t max_body_bytes);

    // llhttp's error as one printable line: "llhttp: HPE_...: <reason>".
    ParseError llhttp_error(llhttp_errno_t rc,
                            ParseErrorKind kind = ParseErrorKind::bad_request) const;

    // Runs a callback's body on the Impl (`Self`) that `p` belongs to. Every callback catches: an
    // exception must never unwind through llhttp's C frames.
    template <typename Self, typename F> static int guarded(llhttp_t* p, F&& f) noexcept {
        Self& s = static_cast<Self&>(*static_cast<LlhttpBase*>(p->data));
        try {
            return f(s);
        } catch (...) {
            if (!s.error) s.error = out_of_memory();
            return HPE_USER;
        }
    }
};

// Runs a parser's public entry point `f` (a call on `impl`) so that nothing throws out of it: no
// Impl, or memory running out, is a bad_request "out of memory", sticky once there is an Impl.
template <typename F> auto guard_entry(LlhttpBase* impl, F&& f) noexcept -> decltype(f()) {
    try {
        if (!impl) return err(out_of_memory());
        return f();
    } catch (...) {
        if (impl && !impl->error) impl->error = out_of_memory();
        return err(out_of_memory());
    }
}

} // namespace wabridge::http::detail

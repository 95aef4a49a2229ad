#include "wabridge/net/http/message.hpp"

#include "wabridge/util/text.hpp"

#include <nlohmann/json.hpp>

namespace wabridge::http {

namespace {

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~" / DIGIT / ALPHA
bool is_tchar(char c) {
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
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

// Fields serialize() writes itself, and the ones that frame or re-purpose the connection
// (RFC 9112 §6.1, §6.2, §9.6; RFC 9110 §7.6.1, §7.8): a handler must not be able to change the
// framing of the response (response splitting).
bool is_reserved(std::string_view name) {
    for (std::string_view r : {"content-length", "content-type", "connection", "transfer-encoding",
                               "keep-alive", "upgrade"}) {
        if (text::iequals(name, r)) return true;
    }
    return false;
}

void write_head(std::string& out, const Response& r, bool keep_alive) {
    const int status = r.status >= 100 && r.status <= 599 ? r.status : 500;
    const bool content = status_has_content(status);
    const std::string_view reason = reason_phrase(status);

    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
    out.reserve(128 + r.content_type.size() + r.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    out += reason;
    out += "\r\n";
    if (content && !r.body.empty() && !r.content_type.empty() && is_field_value(r.content_type)) {
        out += "Content-Type: ";
        out += r.content_type;
        out += "\r\n";
    }
    if (content) {
        // RFC 9112 §6.3: an exact Content-Length frames the response, so the connection can stay
        // open after it.
        out += "Content-Length: ";
        out += std::to_string(r.body.size());
        out += "\r\n";
    }
    // RFC 9112 §9.6: "close" tells the client this is the last response on the connection.
    out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const Header& h : r.headers) {
        if (!is_token(h.name) || !is_field_value(h.value) || is_reserved(h.name)) continue;
        out += h.name;
        out += ": ";
        out += h.value;
        out += "\r\n";
    }
    out += "\r\n";
}

} // namespace

bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_tchar(c)) return false;
    }
    return true;
}

bool is_field_value(std::string_view s) noexcept {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
    }
    return true;
}

const std::string* Request::header(std::string_view name) const noexcept {
    for (const Header& h : headers) {
        if (text::iequals(h.name, name)) return &h.value;
    }
    return nullptr;
}

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
    // RFC 9110 §15.2 - §15.6; 429 and 431 from RFC 6585.
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 203:
        return "Non-Authoritative Information";
    case 204:
        return "No Content";
    case 205:
        return "Reset Content";
    case 206:
        return "Partial Content";
    case 300:
        return "Multiple Choices";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 305:
        return "Use Proxy";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 407:
        return "Proxy Authentication Required";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 421:
        return "Misdirected Request";
    case 422:
        return "Unprocessable Content";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

bool status_has_content(int status) noexcept {
    return status >= 200 && status != 204 && status != 304;
}

std::string serialize(const Response& r, bool keep_alive) noexcept {
    try {
        std::string out;
        write_head(out, r, keep_alive);
        const int status = r.status >= 100 && r.status <= 599 ? r.status : 500;
        if (status_has_content(status)) out += r.body;
        return out;
    } catch (...) {
        return {}; // out of memory: nothing sensible to send
    }
}

std::string serialize_head(const Response& r, bool keep_alive) noexcept {
    try {
        std::string out;
        write_head(out, r, keep_alive);
        return out;
    } catch (...) {
        return {};
    }
}

Response error_response(int status, std::string_view code, std::string_view message) noexcept {
    Response r;
    r.status = status;
    try {
        // ordered_json keeps the documented key order: success first, then error.
        nlohmann::ordered_json j = {{"success", false},
                                    {"error", {{"code", code}, {"message", message}}}};
        r.body = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    } catch (...) {
        r.body.clear(); // out of memory: the status alone still says what happened
    }
    return r;
}

} // namespace wabridge::http

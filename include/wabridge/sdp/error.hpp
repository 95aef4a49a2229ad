// Typed SDP errors: a stable code (for metrics and API errors), the 1-based line it concerns
// (0 when it concerns the whole description), and a one-line human reason.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wabridge::sdp {

enum class ErrorCode {
    // Syntax (RFC 8866 §5, §9)
    empty_input,
    too_large,
    too_many_lines,
    too_many_media,
    invalid_character,
    malformed_line,
    unknown_line_type,
    bad_version,
    bad_origin,
    bad_timing,
    bad_connection,
    bad_media,
    bad_attribute,
    bad_candidate,
    missing_field,
    // Semantics of an audio offer or answer (what wabridge can negotiate)
    no_audio,
    unsupported_transport,
    no_opus,
    no_fingerprint,
    unsupported_fingerprint,
    no_ice_credentials,
    bad_ice_credentials,
    sdes_only,
    bad_setup,
    no_rtcp_mux,
};

// Stable snake_case name, e.g. "no_fingerprint": used as a metric label and an API error code.
std::string_view to_string(ErrorCode code);

struct Error {
    ErrorCode code;
    size_t line = 0;
    std::string reason;

    // "line 7: a=fingerprint uses sha-1; wabridge needs sha-256", or just the reason when line is
    // 0.
    std::string describe() const;
};

} // namespace wabridge::sdp

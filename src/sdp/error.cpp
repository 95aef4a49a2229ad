#include "wabridge/sdp/error.hpp"

namespace wabridge::sdp {

std::string_view to_string(ErrorCode code) {
    switch (code) {
    case ErrorCode::empty_input:
        return "empty_input";
    case ErrorCode::too_large:
        return "too_large";
    case ErrorCode::too_many_lines:
        return "too_many_lines";
    case ErrorCode::too_many_media:
        return "too_many_media";
    case ErrorCode::invalid_character:
        return "invalid_character";
    case ErrorCode::malformed_line:
        return "malformed_line";
    case ErrorCode::unknown_line_type:
        return "unknown_line_type";
    case ErrorCode::bad_version:
        return "bad_version";
    case ErrorCode::bad_origin:
        return "bad_origin";
    case ErrorCode::bad_timing:
        return "bad_timing";
    case ErrorCode::bad_connection:
        return "bad_connection";
    case ErrorCode::bad_media:
        return "bad_media";
    case ErrorCode::bad_attribute:
        return "bad_attribute";
    case ErrorCode::bad_candidate:
        return "bad_candidate";
    case ErrorCode::missing_field:
        return "missing_field";
    case ErrorCode::no_audio:
        return "no_audio";
    case ErrorCode::unsupported_transport:
        return "unsupported_transport";
    case ErrorCode::no_opus:
        return "no_opus";
    case ErrorCode::no_fingerprint:
        return "no_fingerprint";
    case ErrorCode::unsupported_fingerprint:
        return "unsupported_fingerprint";
    case ErrorCode::no_ice_credentials:
        return "no_ice_credentials";
    case ErrorCode::bad_ice_credentials:
        return "bad_ice_credentials";
    case ErrorCode::sdes_only:
        return "sdes_only";
    case ErrorCode::bad_setup:
        return "bad_setup";
    case ErrorCode::no_rtcp_mux:
        return "no_rtcp_mux";
    }
    return "unknown";
}

std::string Error::describe() const {
    if (line == 0) return reason;
    return "line " + std::to_string(line) + ": " + reason;
}

} // namespace wabridge::sdp

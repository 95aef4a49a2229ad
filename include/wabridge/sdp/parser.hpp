// SDP parser (RFC 8866). Strict where the RFC is strict (line grammar, field counts, numeric
// ranges), tolerant where real peers deviate (LF or CRLF, upper-case tokens, unknown
// attributes). It never throws and never trusts a length: input, line and media counts are capped.
#pragma once

#include "wabridge/sdp/error.hpp"
#include "wabridge/sdp/session_description.hpp"
#include "wabridge/util/result.hpp"

#include <cstddef>
#include <string_view>

namespace wabridge::sdp {

struct ParseLimits {
    size_t max_bytes = 64 * 1024; // a WhatsApp offer is ~1.2 KiB, a browser offer ~6 KiB
    size_t max_lines = 2000;
    size_t max_media = 32;
};

Result<SessionDescription, Error> parse(std::string_view text, const ParseLimits& limits = {});

} // namespace wabridge::sdp

// Serialises a SessionDescription in RFC 8866 §5 order with CRLF line endings (WhatsApp
// requires CRLF, see whatsapp-calling.md §5 rule 2).
#pragma once

#include "wabridge/sdp/session_description.hpp"

#include <string>

namespace wabridge::sdp {

std::string write(const SessionDescription& sd);

} // namespace wabridge::sdp

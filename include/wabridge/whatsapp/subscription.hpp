// Webhook endpoint verification (whatsapp-calling.md §2.1): Meta sends
// GET <callback>?hub.mode=subscribe&hub.challenge=<random>&hub.verify_token=<token>
// and expects HTTP 200 with the challenge as the body; any other status refuses.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wabridge::whatsapp {

// Longest challenge echoed back (decoded bytes); a longer one is refused.
inline constexpr size_t kMaxChallengeBytes = 1024;

// `query` is the request target's query component (an optional leading '?' is skipped), in
// application/x-www-form-urlencoded form: pairs split on '&' and the first '=', '+' is a space
// and %XX escapes are decoded (URL Standard §5.1). A pair with a malformed escape is invalid
// and ignored; a parameter named twice refuses the request.
// Returns the decoded hub.challenge to send back (as text/plain) when hub.mode is "subscribe"
// and hub.verify_token equals `verify_token` (compared in constant time), the challenge is
// non-empty and at most kMaxChallengeBytes; otherwise nullopt. An empty configured token
// never matches.
std::optional<std::string> verify_subscription(std::string_view query,
                                               std::string_view verify_token);

} // namespace wabridge::whatsapp

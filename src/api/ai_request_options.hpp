// The per-call AI options a session request may carry beyond the old Node API's fields:
// `turnDetection` (issue 6: type, threshold, prefix padding, silence, eagerness) and
// `dtmfToModel`. Checked here, so a bad value is a 400 naming the field, never a call that
// fails later at the Realtime API.
#pragma once

#include "wabridge/call/call_session.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace wabridge::api {

// `value` is the turnDetection member (an object). Accepts camelCase and the GA API's
// snake_case spellings (silenceDurationMs / silence_duration_ms). Returns the error message, or
// nullopt with `out` filled. Unknown members are refused: a typo must not silently keep a
// default.
std::optional<std::string> read_turn_detection(const nlohmann::json& value,
                                               call::TurnDetectionOptions& out);

} // namespace wabridge::api

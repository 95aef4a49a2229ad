// The JSON view of a session for GET /sessions and GET /sessions/{callId}. Private to src/api.
#pragma once

#include "wabridge/call/call_session.hpp"
#include "wabridge/loop/event_loop.hpp"

#include <nlohmann/json.hpp>

namespace wabridge::api {

nlohmann::ordered_json session_json(const call::CallSession& s, const loop::Now& now);

} // namespace wabridge::api

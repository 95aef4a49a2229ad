// The Graph API's call actions (whatsapp-calling.md §3), sans-IO: request bodies for
// pre_accept / accept / reject / terminate, and the Graph error shape
// {"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}} read back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wabridge::whatsapp {

enum class CallAction { pre_accept, accept, reject, terminate, connect };
std::string_view to_string(CallAction action);

// {"messaging_product":"whatsapp","call_id":...,"action":...} plus, for pre_accept and accept,
// "session":{"sdp_type":"answer","sdp":...} (sdp_type is "answer": §3's gotcha) and, for accept,
// the optional biz_opaque_callback_data.
std::string call_action_body(CallAction action, std::string_view call_id, std::string_view sdp,
                             std::string_view biz_opaque_callback_data = {});

// Business-initiated call (§3 `connect`): {"messaging_product","to","action":"connect",
// "session":{"sdp_type":"offer","sdp"}} plus biz_opaque_callback_data when given.
std::string connect_body(std::string_view to, std::string_view offer_sdp,
                         std::string_view biz_opaque_callback_data = {});
// The call id in a connect response {"messaging_product":"whatsapp","calls":[{"id":"wacid..."}]}.
std::optional<std::string> connect_call_id(std::string_view body);

struct GraphError {
    int http_status = 0;
    int code = 0; // Graph error code, e.g. 138008; 0 when the body has none
    std::string type, message, details, fbtrace_id;
};

// Reads a Graph error body; any body (or none) gives at least the HTTP status.
GraphError parse_graph_error(int http_status, std::string_view body);

// The session end reason for a Graph failure: "graph_error_<code>", or "graph_http_<status>"
// without a code, or "graph_unreachable" with no HTTP answer at all.
std::string graph_end_reason(const GraphError& e);

} // namespace wabridge::whatsapp

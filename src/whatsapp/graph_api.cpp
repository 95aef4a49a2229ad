// Graph call action bodies and error bodies (whatsapp-calling.md §3).
#include "wabridge/whatsapp/graph_api.hpp"

#include <nlohmann/json.hpp>

namespace wabridge::whatsapp {

using nlohmann::json;

std::string_view to_string(CallAction action) {
    switch (action) {
    case CallAction::pre_accept:
        return "pre_accept";
    case CallAction::accept:
        return "accept";
    case CallAction::reject:
        return "reject";
    case CallAction::terminate:
        return "terminate";
    case CallAction::connect:
        return "connect";
    }
    return "unknown";
}

std::string call_action_body(CallAction action, std::string_view call_id, std::string_view sdp,
                             std::string_view biz_opaque_callback_data) {
    nlohmann::ordered_json body;
    body["messaging_product"] = "whatsapp";
    body["call_id"] = std::string(call_id);
    body["action"] = std::string(to_string(action));
    if (action == CallAction::pre_accept || action == CallAction::accept) {
        body["session"] = {{"sdp_type", "answer"}, {"sdp", std::string(sdp)}};
    }
    if (action == CallAction::accept && !biz_opaque_callback_data.empty())
        body["biz_opaque_callback_data"] = std::string(biz_opaque_callback_data);
    // Invalid UTF-8 (never expected in an SDP or a call id) is replaced, not thrown.
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string connect_body(std::string_view to, std::string_view offer_sdp,
                         std::string_view biz_opaque_callback_data) {
    nlohmann::ordered_json body;
    body["messaging_product"] = "whatsapp";
    body["to"] = std::string(to);
    body["action"] = "connect";
    body["session"] = {{"sdp_type", "offer"}, {"sdp", std::string(offer_sdp)}};
    if (!biz_opaque_callback_data.empty())
        body["biz_opaque_callback_data"] = std::string(biz_opaque_callback_data);
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::string> connect_call_id(std::string_view body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    auto calls = j.find("calls");
    if (calls == j.end() || !calls->is_array() || calls->empty() || !(*calls)[0].is_object())
        return std::nullopt;
    auto id = (*calls)[0].find("id");
    if (id == (*calls)[0].end() || !id->is_string() || id->get_ref<const std::string&>().empty() ||
        id->get_ref<const std::string&>().size() > 256)
        return std::nullopt;
    return id->get<std::string>();
}

GraphError parse_graph_error(int http_status, std::string_view body) {
    GraphError e;
    e.http_status = http_status;
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return e;
    auto err = j.find("error");
    if (err == j.end() || !err->is_object()) return e;
    auto str = [&](const json& o, const char* key) {
        auto it = o.find(key);
        return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    e.message = str(*err, "message");
    e.type = str(*err, "type");
    e.fbtrace_id = str(*err, "fbtrace_id");
    if (auto c = err->find("code"); c != err->end() && c->is_number_integer())
        e.code = c->get<int>();
    if (auto d = err->find("error_data"); d != err->end() && d->is_object())
        e.details = str(*d, "details");
    return e;
}

std::string graph_end_reason(const GraphError& e) {
    if (e.code != 0) return "graph_error_" + std::to_string(e.code);
    if (e.http_status != 0) return "graph_http_" + std::to_string(e.http_status);
    return "graph_unreachable";
}

} // namespace wabridge::whatsapp

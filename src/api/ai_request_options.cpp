// Request-level AI options (see ai_request_options.hpp). Ranges follow the GA Realtime API's
// RealtimeTurnDetection (brief §4): threshold 0..1, padding and silence in whole ms.
#include "ai_request_options.hpp"

#include <cmath>

namespace wabridge::api {

using nlohmann::json;

namespace {

const json* member(const json& obj, const char* camel, const char* snake) {
    auto it = obj.find(camel);
    if (it != obj.end() && !it->is_null()) return &*it;
    it = obj.find(snake);
    if (it != obj.end() && !it->is_null()) return &*it;
    return nullptr;
}

std::optional<std::string> whole_ms(const json* v, const char* name, int min, int max,
                                    std::optional<int>& out) {
    if (!v) return std::nullopt;
    if (!v->is_number() || std::floor(v->get<double>()) != v->get<double>() ||
        v->get<double>() < min || v->get<double>() > max) {
        return "turnDetection." + std::string(name) + " must be a whole number of ms from " +
               std::to_string(min) + " to " + std::to_string(max);
    }
    out = static_cast<int>(v->get<double>());
    return std::nullopt;
}

} // namespace

std::optional<std::string> read_turn_detection(const json& value,
                                               call::TurnDetectionOptions& out) {
    if (!value.is_object()) return std::string("turnDetection must be an object");
    static const char* const known[] = {"type",
                                        "threshold",
                                        "prefixPaddingMs",
                                        "prefix_padding_ms",
                                        "silenceDurationMs",
                                        "silence_duration_ms",
                                        "eagerness"};
    for (const auto& [key, v] : value.items()) {
        bool ok = false;
        for (const char* k : known)
            ok = ok || key == k;
        if (!ok) return "turnDetection." + key.substr(0, 64) + " is not a known field";
    }
    if (const json* v = member(value, "type", "type")) {
        if (!v->is_string() || (*v != "server_vad" && *v != "semantic_vad"))
            return std::string("turnDetection.type must be \"server_vad\" or \"semantic_vad\"");
        out.type = v->get<std::string>();
    }
    if (const json* v = member(value, "threshold", "threshold")) {
        if (!v->is_number() || v->get<double>() < 0.0 || v->get<double>() > 1.0)
            return std::string("turnDetection.threshold must be a number from 0 to 1");
        out.threshold = v->get<double>();
    }
    if (auto e = whole_ms(member(value, "prefixPaddingMs", "prefix_padding_ms"),
                          "prefixPaddingMs", 0, 5000, out.prefix_padding_ms))
        return e;
    if (auto e = whole_ms(member(value, "silenceDurationMs", "silence_duration_ms"),
                          "silenceDurationMs", 100, 5000, out.silence_duration_ms))
        return e;
    if (const json* v = member(value, "eagerness", "eagerness")) {
        if (!v->is_string() ||
            (*v != "low" && *v != "medium" && *v != "high" && *v != "auto"))
            return std::string("turnDetection.eagerness must be low, medium, high or auto");
        out.eagerness = v->get<std::string>();
    }
    return std::nullopt;
}

} // namespace wabridge::api

#include "session_view.hpp"

#include "wabridge/app/log.hpp"

namespace wabridge::api {

nlohmann::ordered_json session_json(const call::CallSession& s, const loop::Now& now) {
    using namespace std::chrono;
    const bool ended = s.state == call::SessionState::ended;
    auto end = ended ? s.ended_mono : now.mono;
    const auto& n = s.negotiated;
    nlohmann::ordered_json j;
    j["callId"] = s.call_id;
    j["state"] = std::string(call::to_string(s.state));
    j["from"] = s.options.from.empty() ? nlohmann::ordered_json(nullptr)
                                       : nlohmann::ordered_json(s.options.from);
    j["createdAt"] = format_log_timestamp(s.created_wall);
    j["endedAt"] = ended ? nlohmann::ordered_json(format_log_timestamp(*s.ended_wall))
                         : nlohmann::ordered_json(nullptr);
    j["durationSeconds"] = duration<double>(end - s.created_mono).count();
    j["endReason"] = ended ? nlohmann::ordered_json(s.end_reason) : nlohmann::ordered_json(nullptr);
    j["model"] = s.options.model;
    j["voice"] = s.options.voice.empty() ? nlohmann::ordered_json(nullptr)
                                         : nlohmann::ordered_json(s.options.voice);
    j["negotiated"] = {
        {"opusPayloadType", n.opus_payload_type},
        {"dtmfPayloadType", n.dtmf_payload_type ? nlohmann::ordered_json(*n.dtmf_payload_type)
                                                : nlohmann::ordered_json(nullptr)},
        {"sendBitrate", n.send_bitrate_bps},
        {"dtlsRole", n.dtls_role == sdp::DtlsRole::client ? "client" : "server"},
        {"iceRole", n.ice_controlling ? "controlling" : "controlled"},
        {"remoteIceLite", n.remote.ice_lite},
        {"remoteCandidates", n.remote.candidates.size()},
    };
    // The transport arrives with the next issue; until then no media flows, and we say so.
    j["media"] = {{"state", "not_started"}, {"packetsSent", 0}, {"packetsReceived", 0}};
    return j;
}

} // namespace wabridge::api

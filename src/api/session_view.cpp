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
    if (!s.media && s.final_media.state == "new" && !ended) {
        j["media"] = {{"state", "not_started"}, {"packetsSent", 0}, {"packetsReceived", 0}};
    } else {
        const call::MediaStats m = s.media ? s.media->stats() : s.final_media;
        auto opt = [](const std::optional<double>& v) {
            return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
        };
        j["media"] = {
            {"state", m.state},
            {"iceConnectedMs", opt(m.ice_connected_ms)},
            {"dtlsConnectedMs", opt(m.dtls_connected_ms)},
            {"selectedPair", m.selected_pair},
            {"srtpProfile", m.srtp_profile},
            {"packetsReceived", m.packets_received},
            {"packetsSent", m.packets_sent},
            {"bytesReceived", m.bytes_received},
            {"bytesSent", m.bytes_sent},
            {"packetsLost", m.packets_lost},
            {"jitterMs", m.jitter_ms},
            {"rttMs", opt(m.rtt_ms)},
            {"srtpAuthFailures", m.srtp_auth_failures},
            {"srtpReplays", m.srtp_replays},
            {"malformedPackets", m.malformed_packets},
        };
        if (m.audio) {
            const call::AudioStats& a = *m.audio;
            j["media"]["audio"] = {
                {"jitterBufferDelayMs", a.jitter_delay_ms},
                {"jitterBufferTargetMs", a.jitter_target_ms},
                {"latePackets", a.late_packets},
                {"lostPackets", a.lost_packets},
                {"fecRecovered", a.fec_recovered},
                {"concealedMs", a.concealed_ms},
                {"dtmfDigits", a.dtmf_digits},
                {"framesToAi", a.frames_to_ai},
                {"packetsAi", a.packets_ai},
                {"packetsSilence", a.packets_silence},
                {"pacerSkippedSlots", a.pacer_skipped_slots},
                {"pacerMaxLateMs", a.pacer_max_late_ms},
                {"fecLossHintPercent", a.loss_hint_percent},
            };
        }
        if (m.ai) {
            const call::AiStats& a = *m.ai;
            nlohmann::ordered_json lines = nlohmann::ordered_json::array();
            for (const auto& t : a.transcripts) {
                lines.push_back({{"role", t.role},
                                 {"text", t.text},
                                 {"atSeconds", t.at_seconds},
                                 {"interrupted", t.interrupted}});
            }
            j["ai"] = {{"backend", a.backend},       {"state", a.state},
                       {"reconnects", a.reconnects}, {"bargeIns", a.barge_ins},
                       {"truncates", a.truncates},   {"uplinkDroppedMs", a.uplink_dropped_ms},
                       {"transcripts", lines}};
        }
    }
    if (s.whatsapp.present) {
        const call::WhatsAppCall& w = s.whatsapp;
        using oj = nlohmann::ordered_json;
        auto opt = [](const auto& v) { return v ? oj(*v) : oj(nullptr); };
        j["whatsapp"] = {{"callId", w.call_id},
                         {"lastStatus", w.last_status.empty() ? oj(nullptr) : oj(w.last_status)},
                         {"phoneNumberId", w.phone_number_id},
                         {"from", w.from},
                         {"callerName", w.caller_name},
                         {"direction", w.direction},
                         {"connectTimestamp", w.connect_timestamp},
                         {"graphState", w.graph_state},
                         {"preAcceptedMs", opt(w.pre_accepted_ms)},
                         {"acceptedMs", opt(w.accepted_ms)},
                         {"graphError", w.graph_error.empty() ? oj(nullptr) : oj(w.graph_error)},
                         {"terminateStatus",
                          w.terminate_status.empty() ? oj(nullptr) : oj(w.terminate_status)},
                         {"terminateDurationSeconds", opt(w.terminate_duration_seconds)},
                         {"terminateErrorCode", opt(w.terminate_error_code)}};
    }
    return j;
}

} // namespace wabridge::api

// WhatsApp webhook + Graph call actions for user-initiated calls (see call_control.hpp).
#include "wabridge/whatsapp/call_control.hpp"

#include "wabridge/app/log.hpp"
#include "wabridge/whatsapp/signature.hpp"
#include "wabridge/whatsapp/subscription.hpp"

#include <nlohmann/json.hpp>

namespace wabridge::whatsapp {

namespace {

http::Response json_reply(int status, const nlohmann::json& body) {
    http::Response r;
    r.status = status;
    r.body = body.dump();
    return r;
}

http::Response error_reply(int status, std::string_view code, std::string_view message) {
    return json_reply(status, {{"success", false},
                               {"error", {{"code", std::string(code)},
                                          {"message", std::string(message)}}}});
}

double ms_between(loop::TimePoint a, loop::TimePoint b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

} // namespace

CallControl::CallControl(loop::EventLoop& loop, call::SessionRegistry& registry,
                         http::Fetcher& fetcher, WhatsAppSettings settings, CallEvents& events,
                         MetricsRegistry& metrics)
    : loop_(loop)
    , registry_(registry)
    , fetcher_(fetcher)
    , settings_(std::move(settings))
    , events_(events)
    , metrics_(metrics)
    , bad_signatures_(metrics.counter(
          "wabridge_whatsapp_webhook_bad_signatures_total",
          "WhatsApp webhook POSTs refused: X-Hub-Signature-256 missing, malformed or wrong")) {}

CallControl::~CallControl() {
    *alive_ = false;
    for (auto& [id, c] : calls_) {
        if (c.timer) loop_.cancel(c.timer);
        if (c.fetch) fetcher_.cancel(c.fetch);
    }
}

void CallControl::count_event(std::string_view event, std::string_view verdict) {
    metrics_
        .counter("wabridge_whatsapp_events_total", "WhatsApp call webhook events, by verdict",
                 {{"event", std::string(event)}, {"verdict", std::string(verdict)}})
        .inc();
}

http::Response CallControl::handle(const http::Request& request, const loop::Now&) {
    if (!enabled()) {
        return error_reply(404, "whatsapp_disabled",
                           "the WhatsApp webhook is off: WHATSAPP_APP_SECRET is not set");
    }
    if (request.method == "GET") {
        // §2.1: echo hub.challenge when the verify token matches; anything else is refused.
        auto challenge = verify_subscription(request.query, settings_.verify_token);
        if (!challenge) return error_reply(403, "forbidden", "verification refused");
        http::Response r;
        r.status = 200;
        r.content_type = "text/plain";
        r.body = *challenge;
        return r;
    }
    // §2.2: HMAC-SHA256 of the raw body with the app secret, compared in constant time.
    const SignatureCheck sig = verify_sha256(request.header("X-Hub-Signature-256"), request.body,
                                             settings_.app_secret);
    if (sig != SignatureCheck::ok) {
        bad_signatures_.inc();
        return error_reply(401, "bad_signature",
                           "X-Hub-Signature-256 is " + std::string(to_string(sig)));
    }
    auto batch = parse_webhook(request.body);
    if (!batch) {
        count_event("envelope", to_string(batch.error().code));
        return error_reply(400, "invalid_webhook", batch.error().message);
    }
    // Answer now; the work runs on the next loop turn (§2.2: Meta times out and retries).
    std::weak_ptr<bool> alive = alive_;
    auto shared = std::make_shared<WebhookBatch>(std::move(batch.value()));
    loop_.after(std::chrono::milliseconds(0), [this, alive, shared](loop::TimePoint) {
        if (alive.expired()) return;
        process(std::move(*shared));
    });
    return json_reply(200, {{"success", true}});
}

void CallControl::process(WebhookBatch batch) {
    if (batch.invalid_items) count_event("item", "invalid");
    for (const CallEvent& e : batch.calls) {
        const auto verdict = filter_.admit(e.call_id, e.event, loop_.now().mono);
        count_event(e.event, to_string(verdict));
        if (verdict == CallEventFilter::Verdict::duplicate) continue;
        if (verdict == CallEventFilter::Verdict::dead) {
            logger().info("connect for a call already terminated: ignored", {}, e.call_id);
            continue;
        }
        if (e.kind == CallEvent::Kind::connect) on_connect(e);
        if (e.kind == CallEvent::Kind::terminate) on_terminate(e);
    }
    for (const StatusEvent& s : batch.statuses) {
        const auto verdict = filter_.admit(s.call_id, "status:" + s.status, loop_.now().mono);
        count_event("status", to_string(verdict));
        if (verdict == CallEventFilter::Verdict::accept) on_status(s);
    }
}

void CallControl::on_connect(const CallEvent& e) {
    if (e.sdp_type != "offer" || e.sdp.empty()) {
        // A business-initiated call's answer: this bridge does not place calls yet.
        logger().warn("connect webhook without an offer: ignored",
                      {{"sdpType", e.sdp_type}, {"direction", e.direction}}, e.call_id);
        return;
    }
    const loop::Now now = loop_.now();
    call::SessionOptions options;
    options.from = e.from;
    auto created = registry_.create(e.call_id, e.sdp, options, now);
    if (!created) {
        logger().warn("WhatsApp call refused",
                      {{"reason", created.error().message}, {"from", e.from}}, e.call_id);
        count_event("connect", "refused");
        Call& c = calls_[e.call_id];
        c.phone_number_id = e.phone_number_id;
        c.ended = true;
        send(e.call_id, CallAction::reject, [](const http::FetchResult&) {});
        return;
    }
    call::CallSession* s = registry_.find_mutable(e.call_id);
    s->whatsapp.present = true;
    s->whatsapp.phone_number_id = e.phone_number_id;
    s->whatsapp.from = e.from;
    s->whatsapp.caller_name = e.contact_name;
    s->whatsapp.direction = e.direction;
    s->whatsapp.connect_timestamp = e.timestamp;
    s->whatsapp.graph_state = "pre_accepting";
    Call& c = calls_[e.call_id];
    c.phone_number_id = e.phone_number_id;
    c.answer = s->answer;
    logger().info("WhatsApp call",
                  {{"from", e.from}, {"name", e.contact_name}, {"direction", e.direction}},
                  e.call_id);
    std::weak_ptr<bool> alive = alive_;
    send(e.call_id, CallAction::pre_accept, [this, alive, id = e.call_id](const auto& r) {
        if (!alive.expired()) after_pre_accept(id, r);
    });
}

void CallControl::send(const std::string& call_id, CallAction action,
                       std::function<void(const http::FetchResult&)> done) {
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return;
    Call& c = it->second;
    http::ClientRequest req;
    req.url = settings_.graph_url + "/" + c.phone_number_id + "/calls";
    req.headers.push_back({"Authorization", "Bearer " + settings_.access_token});
    req.body = call_action_body(action, call_id, c.answer);
    http::FetchOptions opt;
    opt.ca_file = settings_.ca_file;
    const bool answering = action == CallAction::pre_accept || action == CallAction::accept;
    // 5xx and 429 are retried: within the answer deadline while answering, a few times after.
    opt.retry.max_attempts = answering ? 20 : 4;
    if (answering) opt.retry.deadline = loop_.now().mono + settings_.answer_deadline;
    const std::string name(to_string(action));
    c.fetch = fetcher_.fetch(
        std::move(req), opt,
        [this, name, call_id, done = std::move(done), alive = std::weak_ptr<bool>(alive_)](
            const http::FetchResult& r) {
            if (alive.expired()) return;
            if (auto it = calls_.find(call_id); it != calls_.end()) it->second.fetch = 0;
            metrics_
                .counter("wabridge_graph_requests_total",
                         "Graph call actions by action and final result",
                         {{"action", name}, {"result", r.ok() ? "ok" : "failed"}})
                .inc();
            if (r.attempts > 1) {
                metrics_
                    .counter("wabridge_graph_retries_total", "Graph call action retries",
                             {{"action", name}})
                    .inc(static_cast<double>(r.attempts - 1));
            }
            done(r);
        });
}

void CallControl::after_pre_accept(const std::string& call_id, const http::FetchResult& r) {
    auto it = calls_.find(call_id);
    if (it == calls_.end() || it->second.ended) return;
    if (!r.ok()) return fail(call_id, CallAction::pre_accept, r);
    Call& c = it->second;
    c.pre_accepted = loop_.now().mono;
    if (call::CallSession* s = registry_.find_mutable(call_id)) {
        s->whatsapp.graph_state = "waiting_media";
        s->whatsapp.pre_accepted_ms = ms_between(s->created_mono, c.pre_accepted);
    }
    wait_for_media(call_id);
}

// §3: accept once ICE and DTLS are up (media can flow), or after accept_wait at the latest.
void CallControl::wait_for_media(const std::string& call_id) {
    auto it = calls_.find(call_id);
    if (it == calls_.end() || it->second.ended) return;
    Call& c = it->second;
    const call::CallSession* s = registry_.find(call_id);
    const bool up = s && s->media && s->media->stats().state == "dtls_connected";
    if (up || loop_.now().mono - c.pre_accepted >= settings_.accept_wait) return send_accept(call_id);
    std::weak_ptr<bool> alive = alive_;
    c.timer = loop_.after(settings_.media_poll, [this, alive, call_id](loop::TimePoint) {
        if (alive.expired()) return;
        if (auto i = calls_.find(call_id); i != calls_.end()) i->second.timer = 0;
        wait_for_media(call_id);
    });
}

void CallControl::send_accept(const std::string& call_id) {
    if (call::CallSession* s = registry_.find_mutable(call_id)) s->whatsapp.graph_state = "accepting";
    std::weak_ptr<bool> alive = alive_;
    send(call_id, CallAction::accept, [this, alive, call_id](const auto& r) {
        if (!alive.expired()) after_accept(call_id, r);
    });
}

void CallControl::after_accept(const std::string& call_id, const http::FetchResult& r) {
    auto it = calls_.find(call_id);
    if (it == calls_.end() || it->second.ended) return;
    if (!r.ok()) return fail(call_id, CallAction::accept, r);
    it->second.accepted = true;
    const loop::Now now = loop_.now();
    if (call::CallSession* s = registry_.find_mutable(call_id)) {
        s->whatsapp.graph_state = "accepted";
        s->whatsapp.accepted_ms = ms_between(s->created_mono, now.mono);
        logger().info("WhatsApp call accepted", {{"acceptedMs", *s->whatsapp.accepted_ms}},
                      call_id);
        events_.emit("call.started", call_id,
                     {{"from", s->whatsapp.from},
                      {"callerName", s->whatsapp.caller_name},
                      {"direction", s->whatsapp.direction},
                      {"phoneNumberId", s->whatsapp.phone_number_id},
                      {"acceptedMs", *s->whatsapp.accepted_ms}},
                     now.wall);
    }
}

// A Graph failure while answering: log the whole error (its details name the SDP rule for
// 138008), reject the call, end the session with the Graph code as the reason.
void CallControl::fail(const std::string& call_id, CallAction action,
                       const http::FetchResult& r) {
    const GraphError e = parse_graph_error(r.status, r.body);
    const std::string reason = graph_end_reason(e);
    logger().error("Graph call action failed",
                   {{"action", std::string(to_string(action))},
                    {"status", r.status},
                    {"attempts", r.attempts},
                    {"error", r.error},
                    {"body", r.body.substr(0, 4096)}},
                   call_id);
    const loop::Now now = loop_.now();
    if (call::CallSession* s = registry_.find_mutable(call_id)) {
        s->whatsapp.graph_state = "failed";
        s->whatsapp.graph_error =
            e.code ? std::to_string(e.code) + ": " + (e.details.empty() ? e.message : e.details)
                   : (r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error);
    }
    events_.emit("error", call_id,
                 {{"action", std::string(to_string(action))},
                  {"httpStatus", r.status},
                  {"code", e.code},
                  {"message", e.message},
                  {"details", e.details}},
                 now.wall);
    // The end observer sends the reject (the call was never accepted).
    if (registry_.end(call_id, reason, now))
        logger().info("session ended", {{"reason", reason}}, call_id);
}

void CallControl::on_terminate(const CallEvent& e) {
    call::CallSession* s = registry_.find_mutable(e.call_id);
    logger().info("WhatsApp terminate",
                  {{"status", e.status},
                   {"duration", e.duration_seconds ? nlohmann::json(*e.duration_seconds)
                                                   : nlohmann::json(nullptr)},
                   {"errorCode", e.errors.empty() ? 0 : e.errors.front().code}},
                  e.call_id);
    if (!s) return; // before its connect: the filter marked the id dead
    s->whatsapp.terminate_status = e.status;
    s->whatsapp.terminate_duration_seconds = e.duration_seconds;
    if (!e.errors.empty()) s->whatsapp.terminate_error_code = e.errors.front().code;
    if (auto it = calls_.find(e.call_id); it != calls_.end()) it->second.ended_by_whatsapp = true;
    if (registry_.end(e.call_id, "whatsapp_terminate", loop_.now()))
        logger().info("session ended", {{"reason", "whatsapp_terminate"}}, e.call_id);
}

void CallControl::on_status(const StatusEvent& e) {
    logger().info("WhatsApp call status", {{"status", e.status}}, e.call_id);
}

void CallControl::on_session_ended(const call::CallSession& s) {
    if (!s.whatsapp.present) return;
    auto it = calls_.find(s.call_id);
    if (it == calls_.end()) return;
    Call& c = it->second;
    if (c.ended) return;
    c.ended = true;
    if (c.timer) loop_.cancel(c.timer);
    c.timer = 0;
    if (c.fetch) fetcher_.cancel(c.fetch);
    c.fetch = 0;
    const std::string id = s.call_id;
    if (!c.ended_by_whatsapp) {
        // §3: terminate an accepted call (billing), reject one that never was.
        const CallAction action = c.accepted ? CallAction::terminate : CallAction::reject;
        send(id, action, [id, action](const http::FetchResult& r) {
            if (!r.ok())
                logger().warn("Graph call action failed",
                              {{"action", std::string(to_string(action))},
                               {"status", r.status},
                               {"error", r.error},
                               {"body", r.body.substr(0, 4096)}},
                              id);
        });
    }
    const call::MediaStats& m = s.final_media;
    nlohmann::json quality = {{"packetsReceived", m.packets_received},
                              {"packetsSent", m.packets_sent},
                              {"packetsLost", m.packets_lost},
                              {"jitterMs", m.jitter_ms},
                              {"rttMs", m.rtt_ms ? nlohmann::json(*m.rtt_ms) : nullptr}};
    const double duration =
        std::chrono::duration<double>(s.ended_mono - s.created_mono).count();
    events_.emit("call.ended", id,
                 {{"reason", s.end_reason},
                  {"durationSeconds", duration},
                  {"whatsappStatus", s.whatsapp.terminate_status},
                  {"errorCode", s.whatsapp.terminate_error_code
                                    ? nlohmann::json(*s.whatsapp.terminate_error_code)
                                    : nullptr},
                  {"quality", quality}},
                 s.ended_wall.value_or(std::chrono::system_clock::now()));
}

} // namespace wabridge::whatsapp

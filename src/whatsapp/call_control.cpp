// WhatsApp webhook + Graph call actions for user-initiated calls (see call_control.hpp).
#include "wabridge/whatsapp/call_control.hpp"

#include "wabridge/app/log.hpp"
#include "wabridge/crypto/openssl.hpp"
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

double ms_between(loop::TimePoint a, loop::TimePoint b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

} // namespace

CallControl::CallControl(loop::EventLoop& loop, call::SessionRegistry& registry,
                         http::Fetcher& fetcher, WhatsAppSettings settings, CallEvents& events,
                         MetricsRegistry& metrics, CallPlacement placement)
    : loop_(loop)
    , registry_(registry)
    , fetcher_(fetcher)
    , settings_(std::move(settings))
    , events_(events)
    , metrics_(metrics)
    , bad_signatures_(metrics.counter(
          "wabridge_whatsapp_webhook_bad_signatures_total",
          "WhatsApp webhook POSTs refused: X-Hub-Signature-256 missing, malformed or wrong"))
    , placement_(std::move(placement)) {}

std::string CallControl::resolve(const std::string& whatsapp_call_id) const {
    auto it = aliases_.find(whatsapp_call_id);
    return it == aliases_.end() ? whatsapp_call_id : it->second;
}

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
        return http::error_response(404, "whatsapp_disabled",
                           "the WhatsApp webhook is off: WHATSAPP_APP_SECRET is not set");
    }
    if (request.method == "GET") {
        // §2.1: echo hub.challenge when the verify token matches; anything else is refused.
        auto challenge = verify_subscription(request.query, settings_.verify_token);
        if (!challenge) return http::error_response(403, "forbidden", "verification refused");
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
        return http::error_response(401, "bad_signature",
                           "X-Hub-Signature-256 is " + std::string(to_string(sig)));
    }
    auto batch = parse_webhook(request.body);
    if (!batch) {
        count_event("envelope", to_string(batch.error().code));
        return http::error_response(400, "invalid_webhook", batch.error().message);
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
    if (e.sdp_type == "answer") {
        // §2.5: Meta's answer to a call we placed, under the id Graph's connect returned.
        const std::string id = resolve(e.call_id);
        auto it = calls_.find(id);
        if (it == calls_.end() || !it->second.outgoing) {
            logger().warn("answer for a call we did not place: ignored", {}, e.call_id);
            count_event("connect", "unknown_call");
            return;
        }
        return on_answer(id, e);
    }
    if (e.sdp_type != "offer" || e.sdp.empty()) {
        logger().warn("connect webhook without an offer or answer: ignored",
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
        if (calls_.count(e.call_id)) return; // a call of ours already has this id
        Call& c = calls_[e.call_id];
        c.phone_number_id = e.phone_number_id;
        c.graph_call_id = e.call_id;
        c.ended = true;
        send(e.call_id, CallAction::reject, [](const http::FetchResult&) {});
        calls_.erase(e.call_id); // the request carries what it needs
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
    s->whatsapp.call_id = e.call_id;
    Call& c = calls_[e.call_id];
    c.phone_number_id = e.phone_number_id;
    c.graph_call_id = e.call_id;
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
    req.body = action == CallAction::connect
                   ? connect_body(c.graph_call_id /* "to" until connect answers */, c.offer,
                                  c.biz_opaque)
                   : call_action_body(action, c.graph_call_id, c.answer);
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
    const std::string id = resolve(e.call_id);
    call::CallSession* s = registry_.find_mutable(id);
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
    if (auto it = calls_.find(id); it != calls_.end()) it->second.ended_by_whatsapp = true;
    if (registry_.end(id, "whatsapp_terminate", loop_.now()))
        logger().info("session ended", {{"reason", "whatsapp_terminate"}}, id);
}

void CallControl::on_status(const StatusEvent& e) {
    const std::string id = resolve(e.call_id);
    logger().info("WhatsApp call status", {{"status", e.status}}, id);
    if (call::CallSession* s = registry_.find_mutable(id)) s->whatsapp.last_status = e.status;
}

http::Response CallControl::place(const http::Request& request, const loop::Now& now) {
    if (!enabled() || !placement_.placer) {
        return http::error_response(404, "whatsapp_disabled",
                           "placing calls needs WHATSAPP_APP_SECRET (the answer comes by webhook)");
    }
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return http::error_response(400, "invalid_json", "the body must be a JSON object");
    auto str = [&](const char* key, std::string& out) -> std::optional<http::Response> {
        auto it = body.find(key);
        if (it == body.end() || it->is_null()) return std::nullopt;
        if (!it->is_string())
            return http::error_response(400, "invalid_request", std::string(key) + " must be a string");
        out = it->get<std::string>();
        return std::nullopt;
    };
    std::string to, opaque, phone = settings_.phone_number_id;
    call::SessionOptions options;
    for (auto [key, out] : {std::pair{"to", &to},
                            std::pair{"bizOpaqueCallbackData", &opaque},
                            std::pair{"phoneNumberId", &phone},
                            std::pair{"systemInstructions", &options.instructions},
                            std::pair{"voice", &options.voice}}) {
        if (auto e = str(key, *out)) return *e;
    }
    const bool digits = !to.empty() && to.size() <= 20 &&
                        to.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) return http::error_response(400, "invalid_request", "to must be the user's number, digits");
    if (opaque.size() > 512)
        return http::error_response(400, "invalid_request", "bizOpaqueCallbackData is over 512 characters");
    if (phone.empty() || phone.find_first_not_of("0123456789") != std::string::npos) {
        return http::error_response(400, "invalid_request",
                           "phoneNumberId (or WHATSAPP_PHONE_NUMBER_ID) must be set, digits");
    }
    uint8_t rnd[8];
    openssl::random_bytes(rnd, sizeof rnd);
    std::string id = "out-";
    for (uint8_t b : rnd) {
        static const char* hex = "0123456789abcdef";
        id += hex[b >> 4];
        id += hex[b & 15];
    }
    options.from = to;
    auto created = registry_.place(id, options, now, placement_.placer);
    if (!created) {
        const int status = created.error().kind == call::CreateFailureKind::capacity ||
                                   created.error().kind == call::CreateFailureKind::draining ||
                                   created.error().kind == call::CreateFailureKind::media_unavailable
                               ? 503
                               : 409;
        return http::error_response(status, "cannot_place_call", created.error().message);
    }
    call::CallSession* s = registry_.find_mutable(id);
    s->whatsapp.present = true;
    s->whatsapp.phone_number_id = phone;
    s->whatsapp.from = to;
    s->whatsapp.direction = "BUSINESS_INITIATED";
    s->whatsapp.graph_state = "connecting";
    Call& c = calls_[id];
    c.outgoing = true;
    c.phone_number_id = phone;
    c.graph_call_id = to; // connect_body's "to"; replaced by WhatsApp's call id
    c.offer = s->offer;
    c.biz_opaque = opaque;
    logger().info("placing a WhatsApp call", {{"to", to}}, id);
    std::weak_ptr<bool> alive = alive_;
    send(id, CallAction::connect, [this, alive, id](const auto& r) {
        if (!alive.expired()) after_connect(id, r);
    });
    return json_reply(202, {{"success", true}, {"sessionId", id}, {"state", "connecting"}});
}

void CallControl::after_connect(const std::string& id, const http::FetchResult& r) {
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second.ended) return;
    Call& c = it->second;
    auto wacid = r.ok() ? connect_call_id(r.body) : std::nullopt;
    if (!wacid) {
        c.graph_call_id.clear(); // nothing to terminate at WhatsApp
        if (r.ok()) {
            http::FetchResult odd = r;
            odd.status = 0;
            odd.error = "connect answered without a call id";
            return fail(id, CallAction::connect, odd);
        }
        return fail(id, CallAction::connect, r);
    }
    c.graph_call_id = *wacid;
    aliases_[*wacid] = id;
    if (call::CallSession* s = registry_.find_mutable(id)) {
        s->whatsapp.call_id = *wacid;
        s->whatsapp.graph_state = "ringing";
    }
    logger().info("WhatsApp call placed", {{"whatsappCallId", *wacid}}, id);
}

void CallControl::on_answer(const std::string& id, const CallEvent& e) {
    Call& c = calls_[id];
    if (c.ended) return;
    auto applied = placement_.apply_answer(id, e.sdp);
    const loop::Now now = loop_.now();
    if (!applied) {
        logger().error("Meta's answer cannot be used", {{"error", applied.error()}}, id);
        if (registry_.end(id, "invalid_answer", now))
            logger().info("session ended", {{"reason", "invalid_answer"}}, id);
        return;
    }
    c.accepted = true; // from here on, our end is a terminate
    if (call::CallSession* s = registry_.find_mutable(id)) {
        s->whatsapp.graph_state = "answered";
        s->whatsapp.accepted_ms = ms_between(s->created_mono, now.mono);
        events_.emit("call.started", id,
                     {{"to", s->whatsapp.from},
                      {"whatsappCallId", c.graph_call_id},
                      {"direction", "BUSINESS_INITIATED"},
                      {"phoneNumberId", s->whatsapp.phone_number_id},
                      {"answeredMs", *s->whatsapp.accepted_ms}},
                     now.wall);
    }
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
    // A call we placed exists at WhatsApp once connect returned its id.
    const bool known_at_whatsapp = !c.outgoing || aliases_.count(c.graph_call_id) > 0;
    if (!c.ended_by_whatsapp && known_at_whatsapp) {
        // §3: terminate an accepted call (billing), reject one that never was.
        // A call we placed is terminated whether or not it was answered.
        const CallAction action =
            c.accepted || c.outgoing ? CallAction::terminate : CallAction::reject;
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
    // Nothing more is sent for this call: forget it (late webhooks find the ended session, or
    // nothing, and change nothing).
    aliases_.erase(c.graph_call_id);
    calls_.erase(it);
}

} // namespace wabridge::whatsapp

// WhatsApp Cloud API calling built into the bridge (issue 7; whatsapp-calling.md §2-3): the
// `calls` webhook (GET verification, POST with X-Hub-Signature-256) and the Graph call actions
// for user-initiated calls:
//   connect webhook (offer) -> session + answer -> pre_accept -> ICE+DTLS up (or accept_wait)
//   -> accept with the byte-identical SDP;
//   a Graph failure (after retries of 5xx/429 within answer_deadline) -> reject, and the session
//   ends "graph_error_<code>";
//   a terminate webhook ends the session ("whatsapp_terminate") and nothing is sent back;
//   a session that ends on our side (DELETE, AI, max duration, media) -> terminate (or reject
//   before accept).
// Webhook work runs on the next loop turn, after the 200 has been produced.
#pragma once

#include "wabridge/app/metrics.hpp"
#include "wabridge/call/session_registry.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/net/http/fetcher.hpp"
#include "wabridge/net/http/message.hpp"
#include "wabridge/whatsapp/call_events.hpp"
#include "wabridge/whatsapp/event_filter.hpp"
#include "wabridge/whatsapp/graph_api.hpp"
#include "wabridge/whatsapp/webhook.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace wabridge::whatsapp {

struct WhatsAppSettings {
    std::string app_secret;   // WHATSAPP_APP_SECRET; empty = the webhook route is off
    std::string verify_token; // WHATSAPP_VERIFY_TOKEN (GET verification)
    std::string graph_url = "https://graph.facebook.com/v23.0";
    std::string access_token; // WHATSAPP_ACCESS_TOKEN
    std::string ca_file;      // CAs for the Graph API instead of the system store (tests)
    std::chrono::milliseconds accept_wait{5000};      // pre_accept 200 -> accept, at most
    std::chrono::milliseconds answer_deadline{20000}; // Graph retries of pre_accept/accept
    std::chrono::milliseconds media_poll{10};         // how often media state is looked at
    std::string phone_number_id; // WHATSAPP_PHONE_NUMBER_ID: the number POST /calls calls from
};

// What CallControl needs from the bridge to place a call (business-initiated): the session's
// offer and media (SessionRegistry::place), and applying Meta's answer to them.
struct CallPlacement {
    call::SessionRegistry::Placer placer;
    std::function<Result<bool, std::string>(const std::string& session_id,
                                            const std::string& answer_sdp)>
        apply_answer;
};

class CallControl {
public:
    CallControl(loop::EventLoop& loop, call::SessionRegistry& registry, http::Fetcher& fetcher,
                WhatsAppSettings settings, CallEvents& events, MetricsRegistry& metrics,
                CallPlacement placement = {});
    ~CallControl();
    CallControl(const CallControl&) = delete;
    CallControl& operator=(const CallControl&) = delete;

    bool enabled() const { return !settings_.app_secret.empty(); }
    // GET and POST /whatsapp/webhook.
    http::Response handle(const http::Request& request, const loop::Now& now);
    // POST /calls {"to","systemInstructions"?,"voice"?,"bizOpaqueCallbackData"?,"phoneNumberId"?}:
    // a business-initiated call. Answers 202 with the session id at once; Graph's connect then
    // returns WhatsApp's call id, and Meta's answer arrives in a connect webhook.
    http::Response place(const http::Request& request, const loop::Now& now);
    // The registry's end observer: terminate or reject towards WhatsApp, call.ended event.
    void on_session_ended(const call::CallSession& session);

private:
    struct Call {
        std::string phone_number_id;
        std::string graph_call_id;     // WhatsApp's call id ("" until connect answers)
        bool outgoing = false;         // placed by POST /calls
        std::string answer;            // the SDP sent in pre_accept, sent again in accept
        std::string offer;             // ours, for a call we place
        std::string biz_opaque;        // its biz_opaque_callback_data
        bool accepted = false;         // accept answered 200
        bool ended_by_whatsapp = false; // a terminate webhook ended it: send nothing back
        bool ended = false;
        loop::TimerId timer = 0;
        http::Fetcher::Id fetch = 0;
        loop::TimePoint pre_accepted{};
    };

    void process(WebhookBatch batch);
    void on_connect(const CallEvent& e);
    void on_terminate(const CallEvent& e);
    void on_status(const StatusEvent& e);
    void on_answer(const std::string& session_id, const CallEvent& e);
    void after_connect(const std::string& session_id, const http::FetchResult& r);
    // The session id for WhatsApp's call id (they differ for calls we place).
    std::string resolve(const std::string& whatsapp_call_id) const;
    void send(const std::string& call_id, CallAction action,
              std::function<void(const http::FetchResult&)> done);
    void after_pre_accept(const std::string& call_id, const http::FetchResult& r);
    void wait_for_media(const std::string& call_id);
    void send_accept(const std::string& call_id);
    void after_accept(const std::string& call_id, const http::FetchResult& r);
    void fail(const std::string& call_id, CallAction action, const http::FetchResult& r);
    void count_event(std::string_view event, std::string_view verdict);

    loop::EventLoop& loop_;
    call::SessionRegistry& registry_;
    http::Fetcher& fetcher_;
    WhatsAppSettings settings_;
    CallEvents& events_;
    MetricsRegistry& metrics_;
    CallEventFilter filter_;
    std::map<std::string, Call> calls_;        // by session id
    std::map<std::string, std::string> aliases_; // WhatsApp call id -> session id (placed calls)
    Counter& bad_signatures_;
    CallPlacement placement_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace wabridge::whatsapp

#include "wabridge/app/bridge.hpp"

#include "wabridge/ai/openai_backend.hpp"
#include "wabridge/api/control_api.hpp"
#include "wabridge/app/log.hpp"
#include "wabridge/app/metrics.hpp"
#include "wabridge/app/process_stats.hpp"
#include "wabridge/app/version.hpp"
#include "wabridge/call/session_registry.hpp"
#include "wabridge/crypto/certificate.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/media/echo_assistant.hpp"
#include "wabridge/net/http/server.hpp"
#include "wabridge/net/interfaces.hpp"
#include "wabridge/rtc/webrtc_transport.hpp"
#include "wabridge/sdp/offer.hpp"
#include "wabridge/whatsapp/call_control.hpp"

#include <signal.h>

namespace wabridge {

namespace {
using namespace std::chrono_literals;
constexpr auto kSweepInterval = 1s;
constexpr auto kDrainPoll = 100ms;
// After a drain ended the last call, how long its Graph terminate and call events may take.
constexpr auto kOutgoingGrace = 3s;
} // namespace

struct Bridge::Impl {
    Config config;
    std::unique_ptr<loop::EventLoop> loop;
    std::unique_ptr<Certificate> certificate;
    std::unique_ptr<net::Resolver> resolver; // DNS for the OpenAI WebSocket, off the loop thread
    ai::RealtimeUrl openai_url;
    rtc::TransportSettings transport;
    std::unique_ptr<call::SessionRegistry> registry;
    std::unique_ptr<api::ControlApi> api;
    std::unique_ptr<http::Server> server;
    // Outgoing HTTPS (Graph API, call events) and the WhatsApp webhook side.
    std::unique_ptr<http::Fetcher> fetcher;
    std::unique_ptr<whatsapp::CallEvents> events;
    std::unique_ptr<whatsapp::CallControl> whatsapp;
    bool draining = false;
    loop::TimePoint drain_deadline{};
    std::optional<loop::TimePoint> calls_done; // during a drain: when the last call ended
    Counter& echo_turns = metrics().counter("wabridge_echo_turns_total",
                                            "Caller utterances the echo assistant played back");
    Counter& echo_barge_ins = metrics().counter(
        "wabridge_barge_ins_total", "AI playback flushed because the caller started talking");

    ~Impl() {
        // Sessions (and their libnice agents) go before the loop and the GLib context.
        server.reset();
        api.reset();
        if (registry) registry->set_end_observer({});
        whatsapp.reset();
        events.reset();
        fetcher.reset();
        registry.reset();
        resolver.reset();
        loop.reset();
    }

    // A new call: parse the offer, gather candidates and start ICE, answer, start the transport.
    Result<call::Started, call::StartFailure> start_call(std::string_view offer_text,
                                                         const std::string& call_id,
                                                         const call::SessionOptions& options) {
        auto invalid = [](const sdp::Error& e) {
            return err(call::StartFailure{call::CreateFailureKind::invalid_sdp, e.describe(), e});
        };
        auto offer = sdp::parse(offer_text);
        if (!offer) return invalid(offer.error());
        auto remote = sdp::read_remote_audio(offer.value());
        if (!remote) return invalid(remote.error());
        auto transport = rtc::WebRtcTransport::create(
            *loop, *certificate, this->transport, remote.value(), ends_session(call_id), metrics());
        if (!transport) {
            return err(call::StartFailure{
                call::CreateFailureKind::media_unavailable, transport.error(), {}});
        }
        auto answer = sdp::create_answer(offer.value(), transport.value()->local());
        if (!answer) return invalid(answer.error());
        if (auto started = transport.value()->start(answer->negotiated); !started) {
            return err(call::StartFailure{call::CreateFailureKind::media_unavailable,
                                          "audio engine: " + started.error(),
                                          {}});
        }
        attach_ai(*transport.value(), call_id, options);
        return call::Started{std::move(answer.value()), std::move(transport.value())};
    }

    rtc::WebRtcTransport::EndCallback ends_session(const std::string& call_id) {
        return [this, call_id](std::string_view reason) {
            if (registry->end(call_id, reason, loop->now()))
                logger().info("session ended", {{"reason", reason}}, call_id);
        };
    }

    void attach_ai(rtc::WebRtcTransport& transport, const std::string& call_id,
                   const call::SessionOptions& options) {
        if (config.ai_backend == AiBackend::echo) attach_echo(transport, call_id);
        if (config.ai_backend == AiBackend::openai) attach_openai(transport, call_id, options);
    }

    // A business-initiated call: our offer, and a transport that waits for the answer.
    Result<call::SessionRegistry::Placed, call::StartFailure>
    place_call(const std::string& call_id, const call::SessionOptions&) {
        auto transport = rtc::WebRtcTransport::create_for_offer(
            *loop, *certificate, this->transport, ends_session(call_id), metrics());
        if (!transport) {
            return err(call::StartFailure{
                call::CreateFailureKind::media_unavailable, transport.error(), {}});
        }
        std::string offer = sdp::create_offer(transport.value()->local());
        return call::SessionRegistry::Placed{std::move(offer), std::move(transport.value())};
    }

    // Meta's answer to a call we placed (whatsapp-calling.md §2.5).
    Result<bool, std::string> apply_answer(const std::string& call_id, const std::string& text) {
        call::CallSession* s = registry->find_mutable(call_id);
        auto* transport = s ? dynamic_cast<rtc::WebRtcTransport*>(s->media.get()) : nullptr;
        if (!transport) return err(std::string("the call has no media waiting for an answer"));
        auto negotiated = sdp::read_answer(text);
        if (!negotiated) return err(negotiated.error().describe());
        if (auto started = transport->apply_answer(negotiated.value()); !started)
            return err(started.error());
        s->answer = text;
        s->negotiated = negotiated.value();
        attach_ai(*transport, call_id, s->options);
        return true;
    }

    // AI_BACKEND=echo: the local echo assistant, with a log line per turn and per barge-in.
    void attach_echo(rtc::WebRtcTransport& transport, const std::string& call_id) {
        media::EchoAssistantSettings settings;
        settings.vad.threshold_dbfs = config.echo_vad_threshold_dbfs;
        auto on_turn = [call_id, &turns = echo_turns,
                        &barge_ins = echo_barge_ins](const media::EchoTurn& t) {
            if (t.kind == media::EchoTurn::Kind::played) {
                turns.inc();
                logger().info("echo turn", {{"item", t.item_id}, {"utteranceMs", t.utterance_ms}},
                              call_id);
            } else {
                barge_ins.inc();
                logger().info("barge-in: playback flushed",
                              {{"item", t.item_id}, {"playedMs", t.played_ms}}, call_id);
            }
        };
        transport.attach_backend(std::make_unique<media::EchoAssistant>(
            transport.audio()->playout(), settings, std::move(on_turn)));
    }

    // AI_BACKEND=openai: the call's Realtime session; request options override the defaults.
    void attach_openai(rtc::WebRtcTransport& transport, const std::string& call_id,
                       const call::SessionOptions& options) {
        ai::OpenAiSettings s;
        s.url = openai_url;
        s.api_key = config.openai_api_key;
        s.ca_file = config.openai_ca_file;
        s.resampler_quality = static_cast<int>(config.resampler_quality);
        s.session.model = options.model.empty() ? config.openai_realtime_model : options.model;
        s.session.instructions =
            options.instructions.empty() ? config.system_instructions : options.instructions;
        s.session.voice = options.voice.empty() ? config.openai_voice : options.voice;
        // "none": no input transcription (an empty value means unset, i.e. the default model).
        s.session.transcription_model =
            config.openai_transcription_model == "none" ? "" : config.openai_transcription_model;
        s.session.format = config.openai_audio_format == "pcmu"   ? media::AiAudioFormat::pcmu
                           : config.openai_audio_format == "pcma" ? media::AiAudioFormat::pcma
                                                                  : media::AiAudioFormat::pcm24k;
        s.session.dtmf_to_model = options.dtmf_to_model.value_or(config.openai_dtmf_to_model);
        s.session.uplink_chunk = std::chrono::milliseconds(config.openai_append_ms);
        ai::TurnDetection& td = s.session.turn_detection;
        const call::TurnDetectionOptions& req = options.turn_detection;
        td.type = req.type.value_or(config.openai_vad_type);
        td.threshold = req.threshold.value_or(config.openai_vad_threshold);
        td.prefix_padding_ms =
            req.prefix_padding_ms.value_or(static_cast<int>(config.openai_vad_prefix_padding_ms));
        td.silence_duration_ms =
            req.silence_duration_ms.value_or(static_cast<int>(config.openai_vad_silence_ms));
        td.eagerness = req.eagerness.value_or(config.openai_vad_eagerness);
        if (events && events->enabled()) {
            // Call events for the business backend (CALL_EVENTS_URL).
            s.on_transcript = [this, call_id](const ai::Transcript& t) {
                events->emit("transcript.final", call_id,
                             {{"role", t.role}, {"text", t.text}, {"interrupted", t.interrupted}},
                             loop->now().wall);
            };
            s.on_dtmf = [this, call_id](char digit) {
                events->emit("dtmf", call_id, {{"digit", std::string(1, digit)}}, loop->now().wall);
            };
        }
        auto on_end = [this, call_id](std::string_view reason) {
            if (registry->end(call_id, reason, loop->now()))
                logger().info("session ended", {{"reason", reason}}, call_id);
        };
        transport.attach_backend(std::make_unique<ai::OpenAiBackend>(
            *loop, *resolver, std::move(s), transport.audio()->playout(), std::move(on_end),
            call_id, metrics()));
    }

    void sweep(loop::TimePoint) {
        registry->sweep(loop->now());
        loop->after(kSweepInterval, [this](loop::TimePoint t) { sweep(t); });
    }

    void on_signal(int signo) {
        Logger& log = logger();
        if (draining) {
            log.warn("second stop signal: ending every session now");
            drain_deadline = loop->now().mono;
            return;
        }
        draining = true;
        registry->begin_drain();
        drain_deadline = loop->now().mono + std::chrono::seconds(config.drain_seconds);
        log.info("draining", {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"},
                              {"activeSessions", registry->active()},
                              {"drainSeconds", config.drain_seconds}});
        check_drain(loop->now().mono);
    }

    void check_drain(loop::TimePoint now) {
        if (registry->active() > 0 && now >= drain_deadline) {
            size_t ended = registry->end_all("drain", loop->now());
            logger().warn("drain time is up; sessions ended", {{"sessions", ended}});
        }
        if (registry->active() == 0) {
            // The calls' last Graph actions (terminate, reject) and call events go out first,
            // for at most kOutgoingGrace after the last call ended.
            if (!calls_done) calls_done = now;
            const size_t outgoing = fetcher ? fetcher->in_flight() : 0;
            if (outgoing == 0 || now - *calls_done >= kOutgoingGrace) {
                if (outgoing)
                    logger().warn("exiting with requests unsent", {{"requests", outgoing}});
                logger().info("drained; exiting");
                loop->stop();
                return;
            }
        }
        loop->after(kDrainPoll, [this](loop::TimePoint t) { check_drain(t); });
    }
};

Bridge::Bridge(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
Bridge::~Bridge() = default;

uint16_t Bridge::http_port() const {
    return impl_->server->port();
}

Result<std::unique_ptr<Bridge>, std::string> Bridge::create(const Config& config) {
    auto impl = std::make_unique<Impl>();
    Impl& b = *impl;
    b.config = config;
    auto loop = loop::EventLoop::create();
    if (!loop) return err("event loop: " + loop.error());
    b.loop = std::move(loop.value());
    MetricsRegistry& m = metrics();
    b.loop->set_lag_histogram(
        &m.histogram("wabridge_loop_lag_seconds", "Time from a timer's deadline to its callback",
                     {0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5}));
    auto signals = b.loop->handle_signals([p = &b](int signo) { p->on_signal(signo); });
    if (!signals) return err("signals: " + signals.error());

    const bool outgoing_http =
        !config.whatsapp_app_secret.empty() || !config.call_events_url.empty();
    if (config.ai_backend == AiBackend::openai || outgoing_http) {
        // DNS for the OpenAI WebSocket and the Graph API; the worker thread exists only when
        // it is needed.
        b.resolver = std::make_unique<net::Resolver>(*b.loop);
    }
    if (config.ai_backend == AiBackend::openai) {
        auto url = ai::parse_realtime_url(config.openai_realtime_url);
        if (!url) return err("OPENAI_REALTIME_URL: " + url.error());
        b.openai_url = url.value();
    }

    auto cert = Certificate::generate();
    if (!cert) return err("DTLS certificate: " + cert.error());
    b.certificate = std::make_unique<Certificate>(std::move(cert.value()));

    // libnice runs on this context, which the loop drives (no GLib thread).
    b.transport.bind_addresses = config.ice_bind_addresses;
    if (b.transport.bind_addresses.empty())
        b.transport.bind_addresses = net::non_loopback_addresses();
    if (b.transport.bind_addresses.empty()) {
        return err(std::string("no non-loopback address for ICE; set ICE_BIND_ADDRESSES"));
    }
    b.transport.public_ip = config.public_ip;
    b.transport.port_min = config.rtp_port_min;
    b.transport.port_max = config.rtp_port_max;
    b.transport.media_timeout = std::chrono::seconds(config.media_timeout_seconds);
    b.transport.rtp_echo = config.ai_backend == AiBackend::rtp_echo;
    b.transport.jitter.min_delay = std::chrono::milliseconds(config.jitter_min_ms);
    b.transport.jitter.max_delay = std::chrono::milliseconds(config.jitter_max_ms);
    b.transport.opus_complexity = static_cast<int>(config.opus_complexity);

    call::RegistryLimits limits;
    limits.max_sessions = config.max_sessions;
    limits.max_duration = std::chrono::seconds(config.session_max_seconds);
    b.registry = std::make_unique<call::SessionRegistry>(
        limits,
        [p = &b](std::string_view offer, const std::string& call_id,
                 const call::SessionOptions& options) {
            return p->start_call(offer, call_id, options);
        },
        m,
        // Closed media is destroyed on the next loop turn, never inside its own callback.
        [p = &b](std::unique_ptr<call::CallMedia> media) {
            auto doomed = std::shared_ptr<call::CallMedia>(std::move(media));
            p->loop->after(std::chrono::milliseconds(0), [doomed](loop::TimePoint) {});
        });

    if (b.resolver) {
        b.fetcher = std::make_unique<http::Fetcher>(
            *b.loop, *b.resolver,
            "wabridge/" + version_line().substr(std::string("wabridge ").size()));
        whatsapp::CallEventsSettings ev;
        ev.url = config.call_events_url;
        ev.secret = config.call_events_secret;
        ev.ca_file = config.whatsapp_ca_file;
        b.events = std::make_unique<whatsapp::CallEvents>(*b.fetcher, ev, m);
    }
    if (!config.whatsapp_app_secret.empty()) {
        whatsapp::WhatsAppSettings wa;
        wa.app_secret = config.whatsapp_app_secret;
        wa.verify_token = config.whatsapp_verify_token;
        wa.graph_url = config.whatsapp_graph_url;
        while (!wa.graph_url.empty() && wa.graph_url.back() == '/')
            wa.graph_url.pop_back();
        wa.access_token = config.whatsapp_access_token;
        wa.ca_file = config.whatsapp_ca_file;
        wa.accept_wait = std::chrono::milliseconds(config.whatsapp_accept_wait_ms);
        wa.phone_number_id = config.whatsapp_phone_number_id;
        whatsapp::CallPlacement placement;
        placement.placer = [p = &b](const std::string& id, const call::SessionOptions& o) {
            return p->place_call(id, o);
        };
        placement.apply_answer = [p = &b](const std::string& id, const std::string& sdp) {
            return p->apply_answer(id, sdp);
        };
        b.whatsapp = std::make_unique<whatsapp::CallControl>(*b.loop, *b.registry, *b.fetcher, wa,
                                                             *b.events, m, placement);
        b.registry->set_end_observer(
            [p = &b](const call::CallSession& s) { p->whatsapp->on_session_ended(s); });
        if (config.whatsapp_access_token.empty())
            logger().warn("WHATSAPP_ACCESS_TOKEN is not set: Graph call actions will be refused");
    } else {
        logger().info("WhatsApp webhook off: WHATSAPP_APP_SECRET is not set, so POST "
                      "/whatsapp/webhook answers 404 (calls come through the session API only)");
    }

    api::ApiSettings settings;
    settings.bearer_token = config.bridge_api_token;
    settings.version = version_line().substr(std::string("wabridge ").size());
    settings.started = b.loop->now().mono;
    settings.default_model = config.openai_realtime_model;
    settings.drain_retry_after_seconds = static_cast<int>(config.drain_seconds);
    if (b.whatsapp) {
        settings.whatsapp_webhook = [p = &b](const http::Request& r, const loop::Now& now) {
            return p->whatsapp->handle(r, now);
        };
        settings.place_call = [p = &b](const http::Request& r, const loop::Now& now) {
            return p->whatsapp->place(r, now);
        };
    }
    Gauge& cpu =
        m.gauge("wabridge_process_cpu_seconds", "CPU time used by the process (user+system)");
    Gauge& rss =
        m.gauge("wabridge_process_resident_memory_bytes", "Resident memory of the process");
    b.api = std::make_unique<api::ControlApi>(*b.registry, settings, m, logger(), [&cpu, &rss] {
        if (auto s = read_process_stats()) {
            cpu.set(s->cpu_seconds);
            rss.set(s->resident_bytes);
        }
    });

    http::Server::Settings server;
    server.bind_address = config.bind_address;
    server.port = config.port;
    server.max_connections = config.http_max_connections;
    server.limits.max_header_bytes = config.http_max_header_bytes;
    server.limits.max_headers = config.http_max_headers;
    server.limits.max_body_bytes = config.http_max_body_bytes;
    server.limits.idle_timeout = std::chrono::seconds(config.http_idle_timeout_seconds);
    server.limits.header_timeout = std::chrono::seconds(config.http_header_timeout_seconds);
    server.limits.body_timeout = std::chrono::seconds(config.http_body_timeout_seconds);
    auto started = http::Server::start(
        *b.loop, server,
        [p = &b](const http::Request& r, const loop::Now& now) { return p->api->handle(r, now); },
        m);
    if (!started) return err(started.error());
    b.server = std::move(started.value());

    logger().info("DTLS certificate ready",
                  {{"type", "ECDSA P-256"}, {"fingerprint", b.certificate->sha256_fingerprint()}});
    logger().info("listening", {{"address", config.bind_address},
                                {"port", b.server->port()},
                                {"iceAddresses", b.transport.bind_addresses},
                                {"publicIp", config.public_ip},
                                {"rtpPorts", std::to_string(config.rtp_port_min) + "-" +
                                                 std::to_string(config.rtp_port_max)},
                                {"aiBackend", std::string(to_string(config.ai_backend))}});
    return std::unique_ptr<Bridge>(new Bridge(std::move(impl)));
}

int Bridge::run() {
    Impl& b = *impl_;
    b.loop->after(kSweepInterval, [p = &b](loop::TimePoint t) { p->sweep(t); });
    b.loop->run();
    // One more turn destroys media closed during the drain (their disposal is deferred).
    b.loop->run_once(std::chrono::milliseconds(0));
    return 0;
}

} // namespace wabridge

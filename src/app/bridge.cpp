#include "wabridge/app/bridge.hpp"

#include "wabridge/api/control_api.hpp"
#include "wabridge/app/log.hpp"
#include "wabridge/app/metrics.hpp"
#include "wabridge/app/process_stats.hpp"
#include "wabridge/app/version.hpp"
#include "wabridge/call/session_registry.hpp"
#include "wabridge/crypto/certificate.hpp"
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/net/http/server.hpp"
#include "wabridge/net/interfaces.hpp"
#include "wabridge/rtc/local_credentials.hpp"

#include <signal.h>

namespace wabridge {

namespace {
using namespace std::chrono_literals;
constexpr auto kSweepInterval = 1s;
constexpr auto kDrainPoll = 100ms;
} // namespace

struct Bridge::Impl {
    Config config;
    std::unique_ptr<loop::EventLoop> loop;
    std::unique_ptr<Certificate> certificate;
    std::vector<sdp::Candidate> candidates;
    std::unique_ptr<call::SessionRegistry> registry;
    std::unique_ptr<api::ControlApi> api;
    std::unique_ptr<http::Server> server;
    bool draining = false;
    loop::TimePoint drain_deadline{};

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
            logger().info("drained; exiting");
            loop->stop();
            return;
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

    auto cert = Certificate::generate();
    if (!cert) return err("DTLS certificate: " + cert.error());
    b.certificate = std::make_unique<Certificate>(std::move(cert.value()));

    // Host candidates for every answer. The transport issue replaces this placeholder (one
    // advertised port, nothing bound) with libnice's gathered candidates.
    std::vector<std::string> hosts = config.ice_bind_addresses;
    if (hosts.empty()) hosts = net::non_loopback_addresses();
    b.candidates = sdp::host_candidates(sdp::advertised_addresses(hosts, config.public_ip),
                                        config.rtp_port_min);

    call::RegistryLimits limits;
    limits.max_sessions = config.max_sessions;
    limits.max_duration = std::chrono::seconds(config.session_max_seconds);
    b.registry = std::make_unique<call::SessionRegistry>(
        limits,
        [p = &b](std::string_view offer) {
            return sdp::answer_offer(offer,
                                     rtc::new_local_transport(*p->certificate, p->candidates));
        },
        m);

    api::ApiSettings settings;
    settings.bearer_token = config.bridge_api_token;
    settings.version = version_line().substr(std::string("wabridge ").size());
    settings.started = b.loop->now().mono;
    settings.default_model = config.openai_realtime_model;
    settings.drain_retry_after_seconds = static_cast<int>(config.drain_seconds);
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
    nlohmann::ordered_json addresses = nlohmann::ordered_json::array();
    for (const auto& c : b.candidates)
        addresses.push_back(c.address);
    logger().info("listening", {{"address", config.bind_address},
                                {"port", b.server->port()},
                                {"candidateAddresses", addresses}});
    return std::unique_ptr<Bridge>(new Bridge(std::move(impl)));
}

int Bridge::run() {
    Impl& b = *impl_;
    b.loop->after(kSweepInterval, [p = &b](loop::TimePoint t) { p->sweep(t); });
    b.loop->run();
    return 0;
}

} // namespace wabridge

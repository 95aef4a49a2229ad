#include "wabridge/ai/openai_backend.hpp"

#include "wabridge/app/log.hpp"
#include "wabridge/crypto/openssl.hpp"
#include "wabridge/net/ws/handshake.hpp"

#include <array>
#include <cstring>

namespace wabridge::ai {

namespace {
// Outgoing bytes allowed to wait in the socket before the session stops handing out messages
// (its uplink buffer then takes the backlog, bounded and counted).
constexpr size_t kMaxBufferedBytes = 256 * 1024;

// RFC 6455 §5.3: each frame's mask comes from a strong source. OpenSSL's CSPRNG is asked for 256
// masks at a time: per frame it costs a syscall (its fork check), and there are 25 frames a
// second per call.
ws::MaskKey random_mask() {
    static std::array<uint8_t, 1024> pool;
    static size_t used = pool.size();
    if (used + 4 > pool.size()) {
        openssl::random_bytes(pool.data(), pool.size());
        used = 0;
    }
    ws::MaskKey key;
    std::memcpy(key.data(), pool.data() + used, key.size());
    used += key.size();
    return key;
}
} // namespace

OpenAiBackend::OpenAiBackend(loop::EventLoop& loop, net::Resolver& resolver,
                             OpenAiSettings settings, media::PlayoutQueue& playout,
                             EndCallback on_end, std::string call_id, MetricsRegistry& metrics)
    : loop_(loop)
    , resolver_(resolver)
    , settings_(std::move(settings))
    , on_end_(std::move(on_end))
    , call_id_(std::move(call_id))
    , session_(settings_.session, playout, settings_.resampler_quality)
    , started_(loop.now().mono)
    , metrics_(metrics)
    , reconnects_(metrics.counter("wabridge_openai_reconnects_total",
                                  "Realtime WebSocket reconnects after a lost session"))
    , playout_(playout)
    , uplink_latency_(metrics.histogram(
          "wabridge_openai_uplink_latency_seconds",
          "Caller RTP packet arrival to the append carrying its audio written to the socket",
          {0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.15, 0.2, 0.5, 1}))
    , downlink_latency_(metrics.histogram(
          "wabridge_openai_downlink_latency_seconds",
          "Reply audio delta received (queue empty) to the first RTP packet built from it",
          {0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.1}))
    , uplink_added_(metrics.histogram(
          "wabridge_openai_uplink_added_seconds",
          "Caller frame out of the jitter buffer to the append carrying it written to the socket",
          {0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.1}))
    , barge_in_flush_(metrics.histogram(
          "wabridge_barge_in_flush_seconds",
          "speech_started received (AI audio queued) to the next packet, silence, sent",
          {0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.05})) {
    // First connection attempt on the next loop turn (never inside the HTTP request).
    std::weak_ptr<bool> alive = alive_;
    timer_ = loop_.after(std::chrono::milliseconds(0), [this, alive](loop::TimePoint) {
        if (alive.expired()) return;
        timer_ = 0;
        drive();
    });
}

OpenAiBackend::~OpenAiBackend() {
    *alive_ = false;
    if (timer_) loop_.cancel(timer_);
}

// The one place where the session's wishes turn into I/O.
void OpenAiBackend::drive() {
    if (closed_) return;
    const loop::TimePoint now = loop_.now().mono;
    session_.on_timer(now);
    if (session_.wants_close() && stream_) drop_connection(1000, "closed by the bridge");
    if (auto end = session_.end_call(); end && !ended_) {
        ended_ = true;
        logger().warn("OpenAI session ended the call",
                      {{"reason", end->reason}, {"detail", end->detail}}, call_id_);
        drop_connection(1000, "call ended");
        if (on_end_) on_end_(end->reason);
        return;
    }
    if (!stream_ && session_.wants_connection(now)) connect(now);
    pump_outgoing();
    log_new_transcripts();
    const auto s = session_.stats();
    for (const auto& [code, n] : s.errors_by_code) {
        uint64_t& seen = errors_counted_[code];
        if (n > seen) {
            metrics_
                .counter("wabridge_openai_errors_total", "OpenAI error events by code",
                         {{"code", code}})
                .inc(static_cast<double>(n - seen));
            seen = n;
        }
    }
    if (s.reconnects > reconnects_counted_) {
        reconnects_.inc(static_cast<double>(s.reconnects - reconnects_counted_));
        reconnects_counted_ = s.reconnects;
    }
    arm_timer();
}

void OpenAiBackend::arm_timer() {
    if (timer_) loop_.cancel(timer_);
    timer_ = 0;
    auto deadline = session_.next_deadline();
    if (!deadline || closed_) return;
    std::weak_ptr<bool> alive = alive_;
    timer_ = loop_.at(*deadline, [this, alive](loop::TimePoint) {
        if (alive.expired()) return;
        timer_ = 0;
        drive();
    });
}

void OpenAiBackend::connect(loop::TimePoint now) {
    session_.on_connecting(now);
    net::ClientStream::Callbacks cb;
    cb.on_open = [this] { on_stream_open(); };
    cb.on_data = [this](std::string_view d) { on_plaintext(d); };
    cb.on_closed = [this](const std::string& why) { on_stream_closed(why); };
    stream_ = std::make_unique<net::ClientStream>(
        loop_, resolver_,
        net::ClientTarget{
            settings_.url.host, settings_.url.port, settings_.url.tls, settings_.ca_file, {}},
        std::move(cb));
}

void OpenAiBackend::on_stream_open() {
    ws::HandshakeRequest req;
    req.host = settings_.url.host_header;
    req.target = settings_.url.target(settings_.session.model);
    // GA: the bearer key only; never the retired OpenAI-Beta header.
    req.headers.push_back({"Authorization", "Bearer " + settings_.api_key});
    std::array<uint8_t, 16> nonce;
    openssl::random_bytes(nonce.data(), nonce.size());
    auto prepared = ws::build_handshake(req, nonce);
    if (!prepared) return drop_connection(0, prepared.error().message);
    ws_ = std::make_unique<ws::Client>(random_mask);
    ws_->start(std::move(prepared.value()));
    flush();
}

void OpenAiBackend::on_plaintext(std::string_view bytes) {
    if (!ws_) return;
    handle(ws_->on_bytes(bytes));
}

void OpenAiBackend::on_stream_closed(const std::string& why) {
    if (ws_) {
        auto events = ws_->on_peer_closed();
        if (!events.empty()) return handle(std::move(events));
    }
    drop_connection(0, why);
}

void OpenAiBackend::handle(std::vector<ws::Event> events) {
    const loop::TimePoint now = loop_.now().mono;
    for (auto& e : events) {
        if (std::holds_alternative<ws::Opened>(e)) {
            session_.on_open(now);
        } else if (auto* t = std::get_if<ws::TextMessage>(&e)) {
            on_server_message(t->text, now);
        } else if (auto* c = std::get_if<ws::Closed>(&e)) {
            return drop_connection(c->code, c->reason);
        } else if (auto* err = std::get_if<ws::Error>(&e)) {
            if (err->kind == ws::ErrorKind::handshake && err->handshake.status == 401)
                return drop_connection(0, "invalid_request_error.invalid_api_key");
            logger().warn("OpenAI WebSocket failed", {{"error", err->message}}, call_id_);
            return drop_connection(err->close_code, err->message);
        }
    }
    drive();
}

// Session messages to the socket while it keeps up.
void OpenAiBackend::pump_outgoing() {
    if (!ws_ || ws_->state() != ws::State::open) return;
    const loop::TimePoint now = loop_.now().mono;
    std::optional<RealtimeSession::FrameTimes> oldest;
    std::vector<RealtimeSession::FrameTimes> sent;
    while (ws_->pending_output_bytes() + (stream_ ? stream_->pending() : 0) < kMaxBufferedBytes) {
        oldest.reset();
        auto message = session_.next_outgoing(now, &oldest);
        if (!message) break;
        if (!ws_->send_text(*message)) break;
        if (oldest) sent.push_back(*oldest);
    }
    flush();
    for (const auto& t : sent) {
        uplink_latency_.observe(std::chrono::duration<double>(now - t.arrival).count());
        uplink_added_.observe(std::chrono::duration<double>(now - t.released).count());
    }
}

void OpenAiBackend::flush() {
    if (!stream_ || !ws_) return;
    std::string out = ws_->take_output();
    if (!out.empty()) stream_->send(out);
}

// The connection is over (or never was); the session decides what comes next.
void OpenAiBackend::drop_connection(uint16_t code, const std::string& reason) {
    const bool had = stream_ || ws_;
    if (ws_ && ws_->state() == ws::State::open) {
        (void)ws_->close(1000, "");
        flush();
    }
    if (stream_) stream_->close();
    stream_.reset();
    ws_.reset();
    if (!had) return;
    if (!closed_) {
        logger().info("OpenAI connection closed", {{"code", code}, {"reason", reason}}, call_id_);
        session_.on_closed(code, reason, loop_.now().mono);
        std::weak_ptr<bool> alive = alive_;
        // Decide on the next turn: never re-enter the session from inside its own callbacks.
        if (timer_) loop_.cancel(timer_);
        timer_ = loop_.after(std::chrono::milliseconds(0), [this, alive](loop::TimePoint) {
            if (alive.expired()) return;
            timer_ = 0;
            drive();
        });
    }
}

void OpenAiBackend::on_server_message(const std::string& text, loop::TimePoint now) {
    const auto before = playout_.stats();
    const bool was_empty = playout_.empty();
    session_.on_message(text, now);
    const auto after = playout_.stats();
    if (after.flushed_samples != flushed_seen_) { // barge-in: the marked audio will never play
        flushed_seen_ = after.flushed_samples;
        downlink_mark_.reset();
        flush_mark_ = now;
    }
    if (was_empty && !downlink_mark_ && after.pushed_samples > before.pushed_samples &&
        !playout_.empty())
        downlink_mark_ = DownlinkMark{after.played_samples, now};
}

void OpenAiBackend::on_packet_sent(loop::TimePoint now) {
    if (flush_mark_) {
        barge_in_flush_.observe(std::chrono::duration<double>(now - *flush_mark_).count());
        flush_mark_.reset();
    }
    if (!downlink_mark_) return;
    if (playout_.stats().played_samples > downlink_mark_->first_sample) {
        downlink_latency_.observe(
            std::chrono::duration<double>(now - downlink_mark_->arrived).count());
        downlink_mark_.reset();
    }
}

void OpenAiBackend::on_caller_audio(std::span<const int16_t> frame, loop::TimePoint arrival,
                                    loop::TimePoint now) {
    if (closed_) return;
    session_.on_caller_audio(frame, arrival, now);
    pump_outgoing();
}

void OpenAiBackend::on_dtmf(const media::DtmfDigit& digit, loop::TimePoint now) {
    if (closed_) return;
    logger().info("DTMF", {{"digit", std::string(1, digit.digit)}}, call_id_);
    if (settings_.on_dtmf) settings_.on_dtmf(digit.digit);
    session_.on_dtmf(digit, now);
    pump_outgoing();
}

void OpenAiBackend::close() {
    if (closed_) return;
    closed_ = true;
    session_.close();
    drop_connection(1000, "call ended");
    if (timer_) loop_.cancel(timer_);
    timer_ = 0;
}

void OpenAiBackend::log_new_transcripts() {
    const auto& t = session_.transcripts();
    for (; transcripts_logged_ < t.size(); ++transcripts_logged_) {
        const Transcript& line = t[transcripts_logged_];
        logger().info("transcript",
                      {{"role", line.role}, {"text", line.text}, {"interrupted", line.interrupted}},
                      call_id_);
        if (settings_.on_transcript) settings_.on_transcript(line);
    }
}

void OpenAiBackend::describe(call::AiStats& out) const {
    out.backend = "openai";
    out.state = std::string(session_.state());
    const auto s = session_.stats();
    out.reconnects = s.reconnects;
    out.barge_ins = s.barge_ins;
    out.truncates = s.truncates_sent;
    out.uplink_dropped_ms = s.uplink_dropped_ms;
    for (const Transcript& t : session_.transcripts()) {
        out.transcripts.push_back({t.role, t.text,
                                   std::chrono::duration<double>(t.at - started_).count(),
                                   t.interrupted});
    }
}

} // namespace wabridge::ai

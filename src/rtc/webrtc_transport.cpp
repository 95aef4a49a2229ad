#include "wabridge/rtc/webrtc_transport.hpp"

#include "wabridge/app/log.hpp"
#include "wabridge/crypto/openssl.hpp"
#include "wabridge/rtc/demux.hpp"
#include "wabridge/rtc/local_credentials.hpp"
#include "wabridge/rtp/ntp_time.hpp"
#include "wabridge/rtp/rtcp.hpp"
#include "wabridge/rtp/rtcp_interval.hpp"
#include "wabridge/rtp/rtp_packet.hpp"

#include <array>
#include <cstring>

namespace wabridge::rtc {

namespace {

using namespace std::chrono_literals;

constexpr size_t kMaxDatagram = 1500;
constexpr uint32_t kOpusClock = 48000;
constexpr auto kMediaCheck = 1s;

} // namespace

Result<std::unique_ptr<WebRtcTransport>, std::string>
WebRtcTransport::create(loop::EventLoop& loop, const Certificate& certificate,
                        const TransportSettings& settings, const sdp::RemoteAudio& remote,
                        EndCallback on_end, MetricsRegistry& metrics) {
    // RFC 8445 §6.1.1: as the answerer facing a lite agent, controlling; facing a full one,
    // controlled.
    auto t = create_agent(loop, certificate, settings, remote.ice_lite, std::move(on_end), metrics);
    if (!t) return t;
    t.value()->set_remote(remote);
    return t;
}

Result<std::unique_ptr<WebRtcTransport>, std::string>
WebRtcTransport::create_for_offer(loop::EventLoop& loop, const Certificate& certificate,
                                  const TransportSettings& settings, EndCallback on_end,
                                  MetricsRegistry& metrics) {
    // The offerer controls (RFC 8445 §6.1.1); WhatsApp's answer is lite anyway.
    auto t = create_agent(loop, certificate, settings, true, std::move(on_end), metrics);
    if (t) t.value()->stats_.state = "waiting_answer";
    return t;
}

Result<std::unique_ptr<WebRtcTransport>, std::string>
WebRtcTransport::create_agent(loop::EventLoop& loop, const Certificate& certificate,
                              const TransportSettings& settings, bool controlling,
                              EndCallback on_end, MetricsRegistry& metrics) {
    std::unique_ptr<WebRtcTransport> t(
        new WebRtcTransport(loop, certificate, settings, std::move(on_end), metrics));
    IceSettings ice;
    ice.controlling = controlling;
    ice.bind_addresses = settings.bind_addresses;
    ice.port_min = settings.port_min;
    ice.port_max = settings.port_max;
    ice.local_ufrag = t->local_.ice_ufrag;
    ice.local_pwd = t->local_.ice_pwd;
    auto agent = IceAgent::create(loop, ice, *t);
    if (!agent) return err(agent.error());
    t->ice_ = std::move(agent.value());
    // PUBLIC_IP in place of same-family host addresses (1:1 NAT).
    t->local_.candidates =
        sdp::advertised_candidates(t->ice_->local_candidates(), settings.public_ip);
    return t;
}

// The peer's credentials, candidates and fingerprints; ICE checks start and the ICE timeout runs.
void WebRtcTransport::set_remote(const sdp::RemoteAudio& remote) {
    remote_fingerprints_ = remote.sha256_fingerprints;
    ice_->set_remote(remote.ice_ufrag, remote.ice_pwd, remote.candidates);
    stats_.state = "ice_checking";
    setup_timer_ = loop_.after(settings_.ice_timeout, [this](loop::TimePoint) {
        setup_timer_ = 0;
        if (!ice_connected_) end("ice_timeout");
    });
}

Result<bool, std::string> WebRtcTransport::apply_answer(const sdp::NegotiatedAudio& negotiated) {
    if (negotiated_) return err(std::string("an answer was already applied"));
    set_remote(negotiated.remote);
    return start(negotiated);
}

WebRtcTransport::WebRtcTransport(loop::EventLoop& loop, const Certificate& certificate,
                                 const TransportSettings& settings, EndCallback on_end,
                                 MetricsRegistry& metrics)
    : loop_(loop)
    , certificate_(certificate)
    , settings_(settings)
    , on_end_(std::move(on_end))
    , created_(loop.now().mono)
    , auth_failures_(metrics.counter("wabridge_srtp_auth_failures_total",
                                     "SRTP/SRTCP packets that failed authentication"))
    , replays_(metrics.counter("wabridge_srtp_replays_total", "SRTP/SRTCP packets replayed"))
    , malformed_(metrics.counter("wabridge_media_malformed_packets_total",
                                 "Media datagrams that did not parse (RTP, RTCP or unknown)"))
    , fingerprint_mismatches_(
          metrics.counter("wabridge_dtls_fingerprint_mismatches_total",
                          "DTLS peers whose certificate did not match the SDP fingerprint"))
    , audio_lost_(metrics.counter("wabridge_audio_lost_packets_total",
                                  "Caller audio packets the jitter buffer declared lost"))
    , audio_late_(metrics.counter("wabridge_audio_late_packets_total",
                                  "Caller audio packets that arrived after their playout slot"))
    , audio_fec_(metrics.counter("wabridge_audio_fec_recovered_total",
                                 "Lost caller frames rebuilt from the next packet's in-band FEC"))
    , audio_concealed_ms_(metrics.counter("wabridge_audio_concealed_ms_total",
                                          "Milliseconds of caller audio concealed (PLC)"))
    , pacer_skipped_(metrics.counter("wabridge_pacer_skipped_slots_total",
                                     "20 ms send slots skipped because the loop was late"))
    , pacer_lateness_(metrics.histogram("wabridge_pacer_lateness_seconds",
                                        "How late each 20 ms send slot ran after its deadline",
                                        {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05}))
    , dtmf_digits_(
          metrics.counter("wabridge_dtmf_digits_total", "DTMF key presses received (RFC 4733)")) {
    local_ = new_local_transport(certificate, {});
    uint32_t seed = 0;
    openssl::random_bytes(&seed, sizeof seed);
    rng_.seed(seed);
    openssl::random_bytes(&first_seq_, sizeof first_seq_);
    openssl::random_bytes(&first_ts_, sizeof first_ts_);
}

WebRtcTransport::~WebRtcTransport() {
    cancel_timers();
}

void WebRtcTransport::cancel_timers() {
    for (loop::TimerId* t :
         {&dtls_timer_, &setup_timer_, &media_timer_, &rtcp_timer_, &pacer_timer_}) {
        if (*t) loop_.cancel(*t);
        *t = 0;
    }
}

double WebRtcTransport::ms_since_start(loop::TimePoint t) const {
    return std::chrono::duration<double, std::milli>(t - created_).count();
}

Result<bool, std::string> WebRtcTransport::start(const sdp::NegotiatedAudio& negotiated) {
    negotiated_ = negotiated;
    if (settings_.rtp_echo) {
        echo_out_.emplace(local_.ssrc, negotiated.opus_payload_type, first_seq_, first_ts_);
    } else {
        media::CallAudioSettings a;
        a.opus_payload_type = negotiated.opus_payload_type;
        a.dtmf_payload_type = negotiated.dtmf_payload_type;
        a.ssrc = local_.ssrc;
        a.first_sequence = first_seq_;
        a.first_timestamp = first_ts_;
        a.send_bitrate_bps = static_cast<int>(negotiated.send_bitrate_bps);
        a.opus_complexity = settings_.opus_complexity;
        a.jitter = settings_.jitter;
        auto audio = media::CallAudio::create(a);
        if (!audio) return err(audio.error());
        audio_ = std::move(audio.value());
        if (backend_) audio_->set_backend(backend_.get());
    }
    if (ice_connected_) start_dtls();
    return true;
}

void WebRtcTransport::attach_backend(std::unique_ptr<media::AiBackend> backend) {
    backend_ = std::move(backend);
    if (audio_) audio_->set_backend(backend_.get());
}

const rtp::Packetizer* WebRtcTransport::out_stream() const {
    if (audio_) return &audio_->packetizer();
    return echo_out_ ? &*echo_out_ : nullptr;
}

// From DTLS up until the end: one packet per 20 ms slot, on absolute deadlines.
void WebRtcTransport::start_pacing(loop::TimePoint now) {
    if (!audio_) return;
    pacer_.emplace(now);
    on_pacer(now);
}

void WebRtcTransport::arm_pacer() {
    pacer_timer_ = loop_.at(pacer_->next_deadline(), [this](loop::TimePoint now) {
        pacer_timer_ = 0;
        on_pacer(now);
    });
}

void WebRtcTransport::on_pacer(loop::TimePoint now) {
    if (closed_ || !audio_) return;
    const int due = pacer_->on_tick(now);
    if (due > 0)
        pacer_lateness_.observe(std::chrono::duration<double>(pacer_->last_lateness()).count());
    if (pacer_->skipped_now() > 0) audio_->skip_slots(static_cast<uint32_t>(pacer_->skipped_now()));
    std::array<uint8_t, kMaxDatagram> buf;
    const size_t room = buf.size() - srtp_rtp_overhead(srtp_out_->profile());
    for (int i = 0; i < due; ++i) {
        const size_t n = audio_->on_slot(now, std::span(buf).first(room));
        if (n > 0) send_rtp(buf, n);
    }
    arm_pacer();
}

void WebRtcTransport::on_ice_state(IceState state) {
    if (closed_) return;
    if (state == IceState::connected && !ice_connected_) {
        ice_connected_ = true;
        stats_.ice_connected_ms = ms_since_start(loop_.now().mono);
        stats_.state = "ice_connected";
        if (setup_timer_) loop_.cancel(setup_timer_);
        setup_timer_ = 0;
        if (negotiated_) start_dtls();
    } else if (state == IceState::failed) {
        end(ice_connected_ ? "ice_disconnected" : "ice_failed");
    }
}

void WebRtcTransport::on_ice_selected_pair(const std::string& local, const std::string& remote) {
    stats_.selected_pair = local + " -> " + remote;
}

void WebRtcTransport::start_dtls() {
    if (dtls_ || closed_) return;
    const DtlsRole role =
        negotiated_->dtls_role == sdp::DtlsRole::client ? DtlsRole::client : DtlsRole::server;
    dtls_ = std::make_unique<DtlsEndpoint>(role, certificate_, remote_fingerprints_);
    dtls_->start(loop_.now().mono);
    // The handshake gets the same budget as ICE (OpenSSL alone would retry for about a minute).
    setup_timer_ = loop_.after(settings_.ice_timeout, [this](loop::TimePoint) {
        setup_timer_ = 0;
        if (!srtp_in_) end("dtls_timeout");
    });
    pump_dtls();
}

// Sends what DTLS produced, acts on its state, and re-arms its retransmission timer.
void WebRtcTransport::pump_dtls() {
    if (!dtls_) return;
    for (auto& d : dtls_->take_datagrams())
        ice_->send(d);
    if (auto failure = dtls_->failure()) {
        if (*failure == DtlsFailure::fingerprint_mismatch) {
            fingerprint_mismatches_.inc();
            return end("dtls_fingerprint_mismatch");
        }
        return end(*failure == DtlsFailure::timeout ? "dtls_timeout" : "dtls_failed");
    }
    if (auto connected = dtls_->take_connected()) {
        auto in = SrtpSession::create(connected->profile, connected->keys.remote_key_salt, false);
        auto out = SrtpSession::create(connected->profile, connected->keys.local_key_salt, true);
        if (!in || !out) {
            logger().error("SRTP setup failed", {{"error", in ? out.error() : in.error()}});
            return end("srtp_failed");
        }
        srtp_in_.emplace(std::move(in.value()));
        srtp_out_.emplace(std::move(out.value()));
        stats_.srtp_profile = std::string(srtp_profile_name(connected->profile));
        stats_.dtls_connected_ms = ms_since_start(loop_.now().mono);
        stats_.state = "dtls_connected";
        if (setup_timer_) loop_.cancel(setup_timer_);
        setup_timer_ = 0;
        last_media_ = loop_.now().mono;
        media_timer_ = loop_.after(kMediaCheck, [this](loop::TimePoint now) { check_media(now); });
        schedule_rtcp();
        start_pacing(loop_.now().mono);
    }
    if (dtls_->peer_closed()) return end("dtls_closed");
    arm_dtls_timer();
}

void WebRtcTransport::arm_dtls_timer() {
    if (dtls_timer_) loop_.cancel(dtls_timer_);
    dtls_timer_ = 0;
    if (!dtls_ || dtls_->connected() || closed_) return;
    auto deadline = dtls_->next_timeout();
    if (!deadline) return;
    dtls_timer_ = loop_.at(*deadline, [this](loop::TimePoint now) {
        dtls_timer_ = 0;
        dtls_->on_timeout(now);
        pump_dtls();
    });
}

void WebRtcTransport::on_ice_data(std::span<const uint8_t> datagram) {
    if (closed_) return;
    switch (classify(datagram)) {
    case PacketKind::dtls:
        if (dtls_) {
            dtls_->on_datagram(datagram, loop_.now().mono);
            pump_dtls();
        }
        break;
    case PacketKind::rtp:
        on_srtp(datagram, false);
        break;
    case PacketKind::rtcp:
        on_srtp(datagram, true);
        break;
    default: // STUN never reaches us (libnice keeps it); anything else is noise
        ++stats_.malformed_packets;
        malformed_.inc();
        break;
    }
}

void WebRtcTransport::on_srtp(std::span<const uint8_t> datagram, bool rtcp) {
    if (!srtp_in_) return; // media before DTLS finished: nothing to decrypt it with
    std::array<uint8_t, kMaxDatagram> buf;
    if (datagram.size() > buf.size()) {
        ++stats_.malformed_packets;
        malformed_.inc();
        return;
    }
    std::memcpy(buf.data(), datagram.data(), datagram.size());
    auto plain = rtcp ? srtp_in_->unprotect_rtcp(buf, datagram.size())
                      : srtp_in_->unprotect_rtp(buf, datagram.size());
    if (!plain) {
        if (plain.error() == SrtpError::replay_fail) {
            ++stats_.srtp_replays;
            replays_.inc();
        } else {
            ++stats_.srtp_auth_failures;
            auth_failures_.inc();
        }
        return;
    }
    if (rtcp)
        on_rtcp(buf, plain.value());
    else
        on_rtp(buf, plain.value());
}

void WebRtcTransport::on_rtp(std::span<uint8_t> packet, size_t length) {
    auto parsed = rtp::parse_rtp(packet.first(length));
    if (!parsed) {
        ++stats_.malformed_packets;
        malformed_.inc();
        return;
    }
    const rtp::RtpHeader& h = parsed->header;
    const loop::TimePoint now = loop_.now().mono;
    ++stats_.packets_received;
    stats_.bytes_received += length;
    last_media_ = now;
    if (audio_) audio_->on_rtp(*parsed, now); // Opus and telephone-event
    if (h.payload_type != negotiated_->opus_payload_type) return;
    if (!receiver_ || receiver_->ssrc() != h.ssrc) receiver_.emplace(h.ssrc, kOpusClock);
    receiver_->on_rtp(h.sequence, h.timestamp, now);
    if (echo_out_) echo(parsed->payload);
}

void WebRtcTransport::echo(std::span<const uint8_t> payload) {
    std::array<uint8_t, kMaxDatagram> buf;
    const size_t room = buf.size() - srtp_rtp_overhead(srtp_out_->profile());
    size_t n = echo_out_->write(payload, false, std::span(buf).first(room));
    if (n == 0) return;
    send_rtp(buf, n);
}

void WebRtcTransport::send_rtp(std::span<uint8_t> packet, size_t length) {
    if (closed_ || !srtp_out_) return;
    auto protected_len = srtp_out_->protect_rtp(packet, length);
    if (!protected_len) return;
    if (ice_->send(packet.first(protected_len.value()))) {
        ++stats_.packets_sent;
        stats_.bytes_sent += protected_len.value();
    }
}

void WebRtcTransport::on_rtcp(std::span<uint8_t> packet, size_t length) {
    auto compound = rtp::parse_rtcp(packet.first(length));
    if (!compound) {
        ++stats_.malformed_packets;
        malformed_.inc();
        return;
    }
    const auto now = loop_.now();
    for (const auto& s : compound->senders()) {
        if (receiver_ && s.ssrc == receiver_->ssrc())
            receiver_->on_sender_report(s.info.ntp_timestamp, now.mono);
    }
    for (const auto& r : compound->reports()) {
        if (r.block.ssrc != local_.ssrc) continue;
        if (auto rtt = rtp::rtt_from_report(r.block, now.wall)) {
            stats_.rtt_ms = std::chrono::duration<double, std::milli>(*rtt).count();
        }
        if (audio_) audio_->on_remote_loss(r.block.fraction_lost);
    }
    if (compound->has_bye) end("rtcp_bye");
}

// RFC 3550 §6.3: reports at the computed interval, randomised; SR when we sent since the last
// report, else RR; always with our CNAME (§6.1).
void WebRtcTransport::schedule_rtcp() {
    rtp::RtcpIntervalInput in;
    in.members = 2;
    const rtp::Packetizer* out = out_stream();
    const bool we_sent = out && out->packets() > 0;
    in.senders = we_sent ? 2 : 1;
    in.rtcp_bandwidth_bps = 0.05 * 32000; // 5 % of ~32 kbit/s (20 kbit/s Opus plus headers)
    in.we_sent = we_sent;
    in.avg_rtcp_size = 100;
    in.initial = rtcp_timer_ == 0 && stats_.packets_sent == 0;
    double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    auto interval = rtp::rtcp_interval(in, u);
    rtcp_timer_ = loop_.after(std::chrono::duration_cast<loop::Clock::duration>(interval),
                              [this](loop::TimePoint) {
                                  rtcp_timer_ = 0;
                                  send_rtcp(false);
                                  schedule_rtcp();
                              });
}

void WebRtcTransport::publish_audio_metrics() {
    const auto audio = audio_stats(); // not stats(): no need for the AI side's transcripts here
    if (!audio) return;
    const call::AudioStats& a = *audio;
    auto add = [](Counter& c, uint64_t current, uint64_t& published) {
        if (current > published) c.inc(current - published);
        published = current;
    };
    add(audio_lost_, a.lost_packets, published_.lost_packets);
    add(audio_late_, a.late_packets, published_.late_packets);
    add(audio_fec_, a.fec_recovered, published_.fec_recovered);
    add(audio_concealed_ms_, a.concealed_ms, published_.concealed_ms);
    add(pacer_skipped_, a.pacer_skipped_slots, published_.pacer_skipped_slots);
    add(dtmf_digits_, a.dtmf_digits, published_.dtmf_digits);
}

void WebRtcTransport::send_rtcp(bool bye) {
    publish_audio_metrics();
    if (!srtp_out_ || (closed_ && !bye)) return;
    std::array<uint8_t, kMaxDatagram> buf;
    const size_t room = buf.size() - srtcp_overhead(srtp_out_->profile());
    std::span<uint8_t> out = std::span(buf).first(room);
    const auto now = loop_.now();
    std::array<rtp::ReportBlock, 1> blocks;
    size_t nblocks = 0;
    if (receiver_) {
        blocks[0] = receiver_->report_block(now.mono);
        nblocks = 1;
        stats_.packets_lost = static_cast<uint64_t>(std::max<int64_t>(0, receiver_->lost()));
        stats_.jitter_ms = receiver_->jitter() * 1000.0 / kOpusClock;
    }
    size_t n = 0;
    const rtp::Packetizer* stream = out_stream();
    if (stream && stream->packets() > 0) {
        rtp::SenderInfo info;
        info.ntp_timestamp = rtp::to_ntp(now.wall);
        info.rtp_timestamp = stream->next_timestamp();
        // RFC 3550 §6.4.1: both counts wrap modulo 2^32.
        info.packet_count = static_cast<uint32_t>(stream->packets());
        info.octet_count = static_cast<uint32_t>(stream->payload_octets());
        n = rtp::write_sender_report(local_.ssrc, info, std::span(blocks).first(nblocks), out);
    } else {
        n = rtp::write_receiver_report(local_.ssrc, std::span(blocks).first(nblocks), out);
    }
    n += rtp::write_sdes_cname(local_.ssrc, local_.cname, out.subspan(n));
    if (bye) {
        const uint32_t ssrc = local_.ssrc;
        n += rtp::write_bye(std::span(&ssrc, 1), "", out.subspan(n));
    }
    auto protected_len = srtp_out_->protect_rtcp(buf, n);
    if (protected_len) ice_->send(std::span(buf).first(protected_len.value()));
}

void WebRtcTransport::check_media(loop::TimePoint now) {
    media_timer_ = 0;
    if (closed_) return;
    if (now - last_media_ >= settings_.media_timeout) return end("media_timeout");
    media_timer_ = loop_.after(kMediaCheck, [this](loop::TimePoint t) { check_media(t); });
}

std::optional<call::AudioStats> WebRtcTransport::audio_stats() const {
    if (!audio_) return std::nullopt;
    const media::CallAudioStats a = audio_->stats();
    call::AudioStats out;
    out.jitter_delay_ms = a.jitter.current_delay_ms;
    out.jitter_target_ms = a.jitter.target_delay_ms;
    out.late_packets = a.jitter.late;
    out.lost_packets = a.jitter.lost;
    out.fec_recovered = a.frames_fec;
    out.concealed_ms = a.jitter.concealed_ms;
    out.dtmf_digits = a.dtmf.digits;
    out.frames_to_ai = a.frames_to_ai;
    out.packets_ai = a.packets_ai;
    out.packets_silence = a.packets_silence;
    out.loss_hint_percent = a.loss_hint_percent;
    if (pacer_) {
        out.pacer_skipped_slots = pacer_->skipped();
        out.pacer_max_late_ms =
            std::chrono::duration<double, std::milli>(pacer_->max_lateness()).count();
    }
    return out;
}

call::MediaStats WebRtcTransport::stats() const {
    call::MediaStats s = stats_;
    if (backend_) backend_->describe(s.ai.emplace());
    s.audio = audio_stats();
    return s;
}

void WebRtcTransport::close() {
    if (closed_) return;
    send_rtcp(true); // RTCP BYE (RFC 3550 §6.6)
    if (dtls_) {
        dtls_->close(); // close_notify
        for (auto& d : dtls_->take_datagrams())
            ice_->send(d);
    }
    closed_ = true;
    stats_.state = ended_ ? stats_.state : "closed";
    cancel_timers();
    if (backend_) backend_->close();
}

// The transport decided the call is over; the owner ends the session (which calls close()).
void WebRtcTransport::end(std::string_view reason) {
    if (ended_) return;
    ended_ = true;
    stats_.state = "failed";
    if (reason == "dtls_closed" || reason == "rtcp_bye" || reason == "media_timeout") {
        stats_.state = "closed";
    }
    on_end_(reason);
}

} // namespace wabridge::rtc

// The load bench's WhatsApp-shaped caller (see lite_caller.hpp).
#include "lite_caller.hpp"

#include "wabridge/rtc/demux.hpp"
#include "wabridge/rtc/local_credentials.hpp"
#include "wabridge/rtp/rtp_packet.hpp"
#include "wabridge/sdp/offer.hpp"

#include <array>
#include <random>

namespace wabridge::bench {

namespace {

constexpr auto kFrame = std::chrono::milliseconds(20);
constexpr size_t kMaxDatagram = 1500;

double ms_between(loop::TimePoint a, loop::TimePoint b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// The shape of the relay's offer in ../shared/data (wa-offer-01.sdp), with our credentials,
// fingerprint, candidate and SSRC.
std::string whatsapp_offer(const std::string& ufrag, const std::string& pwd,
                           const std::string& fingerprint, const sdp::Candidate& candidate,
                           uint32_t ssrc) {
    const std::string port = std::to_string(candidate.port);
    std::string s;
    s += "v=0\r\no=- " + std::to_string(ssrc) + " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    s += "a=group:BUNDLE audio\r\na=msid-semantic: WMS load\r\na=ice-lite\r\n";
    s += "m=audio " + port + " UDP/TLS/RTP/SAVPF 111 126\r\n";
    s += "c=IN IP4 " + candidate.address + "\r\na=rtcp:9 IN IP4 0.0.0.0\r\n";
    s += "a=candidate:1 1 udp 2122260223 " + candidate.address + " " + port +
         " typ host generation 0 network-cost 50\r\n";
    s += "a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + pwd + "\r\n";
    s += "a=fingerprint:sha-256 " + fingerprint + "\r\na=setup:actpass\r\na=mid:audio\r\n";
    s += "a=sendrecv\r\na=msid:load WhatsAppTrack1\r\na=rtcp-mux\r\n";
    s += "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n";
    s += "a=fmtp:111 maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;"
         "sprop-maxcapturerate=16000;useinbandfec=1\r\n";
    s += "a=rtpmap:126 telephone-event/8000\r\na=maxptime:20\r\na=ptime:20\r\n";
    s += "a=ssrc:" + std::to_string(ssrc) + " cname:WhatsAppAudioStream1\r\n";
    return s;
}

} // namespace

LiteCall::LiteCall(loop::EventLoop& loop, const Certificate& certificate,
                   const CallerScript& script)
    : loop_(loop)
    , certificate_(certificate)
    , script_(script) {}

LiteCall::~LiteCall() {
    if (dtls_timer_) loop_.cancel(dtls_timer_);
    if (send_timer_) loop_.cancel(send_timer_);
}

Result<std::unique_ptr<LiteCall>, std::string>
LiteCall::create(loop::EventLoop& loop, const Certificate& certificate, const CallerScript& script,
                 const std::string& bind_address, uint16_t port_min, uint16_t port_max) {
    std::unique_ptr<LiteCall> call(new LiteCall(loop, certificate, script));
    call->ufrag_ = rtc::random_ice_string(16);
    call->pwd_ = rtc::random_ice_string(24);
    rtc::IceSettings ice;
    ice.controlling = false; // RFC 8445 §6.1.1: a lite agent is always controlled
    ice.lite = true;
    ice.bind_addresses = {bind_address};
    ice.port_min = port_min;
    ice.port_max = port_max;
    ice.local_ufrag = call->ufrag_;
    ice.local_pwd = call->pwd_;
    auto agent = rtc::IceAgent::create(loop, ice, *call);
    if (!agent) return err("ICE: " + agent.error());
    call->ice_ = std::move(agent.value());
    if (call->ice_->local_candidates().empty()) return err(std::string("ICE: no candidate"));
    std::random_device rd;
    const uint32_t ssrc = (static_cast<uint32_t>(rd()) | 1u);
    call->offer_ = whatsapp_offer(call->ufrag_, call->pwd_, certificate.sha256_fingerprint(),
                                  call->ice_->local_candidates().front(), ssrc);
    call->packetizer_.emplace(ssrc, 111, static_cast<uint16_t>(rd()), static_cast<uint32_t>(rd()));
    call->next_frame_ = rd() % script.frames.size(); // callers talk at independent times
    return call;
}

Result<bool, std::string> LiteCall::apply_answer(const std::string& answer_sdp,
                                                 loop::TimePoint now) {
    auto negotiated = sdp::read_answer(answer_sdp);
    if (!negotiated) return err("answer: " + negotiated.error().describe());
    const sdp::RemoteAudio& remote = negotiated->remote;
    if (negotiated->dtls_role != sdp::DtlsRole::server)
        return err(std::string("answer: the bridge must be the DTLS client (a=setup:active)"));
    answered_ = now;
    ice_->set_remote(remote.ice_ufrag, remote.ice_pwd, remote.candidates);
    dtls_.emplace(rtc::DtlsRole::server, certificate_, remote.sha256_fingerprints);
    dtls_->start(now);
    return true;
}

void LiteCall::on_ice_state(rtc::IceState state) {
    if (state == rtc::IceState::failed) fail("ice_failed");
}

void LiteCall::on_ice_data(std::span<const uint8_t> datagram) {
    if (stopped_ || failed_) return;
    const loop::TimePoint now = loop_.now().mono;
    switch (rtc::classify(datagram)) {
    case rtc::PacketKind::dtls:
        if (!dtls_) return;
        dtls_->on_datagram(datagram, now);
        pump_dtls();
        return;
    case rtc::PacketKind::rtp: {
        if (!srtp_in_) return;
        std::array<uint8_t, kMaxDatagram> buf;
        if (datagram.size() > buf.size()) return;
        std::copy(datagram.begin(), datagram.end(), buf.begin());
        auto n = srtp_in_->unprotect_rtp(buf, datagram.size());
        if (!n) {
            ++stats_.srtp_failures;
            return;
        }
        auto packet = rtp::parse_rtp(std::span<const uint8_t>(buf.data(), *n));
        if (!packet) {
            ++stats_.other;
            return;
        }
        ++stats_.received;
        if (packet->payload.size() > kSilenceMaxBytes) ++stats_.received_ai;
        if (stats_.received > 1) {
            const double gap = ms_between(last_rtp_, now);
            stats_.max_gap_ms = std::max(stats_.max_gap_ms, gap);
            if (gap > 40) ++stats_.gaps_over_40ms;
        }
        last_rtp_ = now;
        return;
    }
    default:
        ++stats_.other;
        return;
    }
}

void LiteCall::pump_dtls() {
    for (auto& d : dtls_->take_datagrams())
        ice_->send(d);
    if (auto failure = dtls_->failure()) return fail(std::string(rtc::to_string(*failure)));
    if (auto connected = dtls_->take_connected()) {
        auto in =
            rtc::SrtpSession::create(connected->profile, connected->keys.remote_key_salt, false);
        auto out =
            rtc::SrtpSession::create(connected->profile, connected->keys.local_key_salt, true);
        if (!in || !out) return fail("srtp");
        srtp_in_.emplace(std::move(in.value()));
        srtp_out_.emplace(std::move(out.value()));
        const loop::TimePoint now = loop_.now().mono;
        stats_.connect_ms = ms_between(answered_, now);
        send_next(now);
    }
    arm_dtls_timer();
}

void LiteCall::arm_dtls_timer() {
    if (dtls_timer_) loop_.cancel(dtls_timer_);
    dtls_timer_ = 0;
    auto deadline = dtls_->next_timeout();
    if (!deadline) return;
    dtls_timer_ = loop_.at(*deadline, [this](loop::TimePoint now) {
        dtls_timer_ = 0;
        dtls_->on_timeout(now);
        pump_dtls();
    });
}

// One packet per 20 ms on absolute deadlines (RFC 7587 §4: 20 ms Opus frames at 48 kHz ticks).
void LiteCall::send_next(loop::TimePoint deadline) {
    send_timer_ = 0;
    if (stopped_ || failed_) return;
    const auto& payload = script_.frames[next_frame_ % script_.frames.size()];
    ++next_frame_;
    std::array<uint8_t, kMaxDatagram> buf;
    const size_t room = buf.size() - rtc::srtp_rtp_overhead(srtp_out_->profile());
    const size_t n = packetizer_->write(payload, false, std::span(buf).first(room));
    if (n > 0) {
        auto protected_size = srtp_out_->protect_rtp(buf, n);
        if (protected_size && ice_->send(std::span(buf.data(), *protected_size))) ++stats_.sent;
    }
    const loop::TimePoint next = deadline + kFrame;
    send_timer_ = loop_.at(next, [this, next](loop::TimePoint) { send_next(next); });
}

void LiteCall::stop() {
    stopped_ = true;
    if (send_timer_) loop_.cancel(send_timer_);
    send_timer_ = 0;
}

void LiteCall::fail(std::string why) {
    if (failed_) return;
    failed_ = true;
    failure_ = std::move(why);
    stop();
}

} // namespace wabridge::bench

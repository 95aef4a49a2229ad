// Per-packet SRTP cost through our libsrtp2 adapter: protect and unprotect of a 20 ms Opus
// packet (12-byte RTP header + 60-byte payload, WhatsApp's ~20 kbit/s), for both profiles.
#include "wabridge/rtc/srtp_session.hpp"
#include "wabridge/rtp/rtp_packet.hpp"

#include <array>
#include <benchmark/benchmark.h>
#include <cstring>
#include <vector>

namespace {

using namespace wabridge;

constexpr size_t kPayload = 60;

std::vector<uint8_t> key_salt(rtc::SrtpProfile p) {
    std::vector<uint8_t> k(rtc::srtp_key_length(p) + rtc::srtp_salt_length(p));
    for (size_t i = 0; i < k.size(); ++i)
        k[i] = static_cast<uint8_t>(i * 7 + 1);
    return k;
}

size_t make_packet(std::array<uint8_t, 256>& buf, uint16_t seq) {
    std::array<uint8_t, kPayload> payload{};
    payload[0] = 0x48; // an Opus TOC byte
    rtp::RtpHeader h{};
    h.payload_type = 111;
    h.sequence = seq;
    h.timestamp = seq * 960u;
    h.ssrc = 0x12345678;
    return rtp::write_rtp(h, payload, buf);
}

void BM_SrtpProtect(benchmark::State& state) {
    auto profile = static_cast<rtc::SrtpProfile>(state.range(0));
    auto out = rtc::SrtpSession::create(profile, key_salt(profile), true);
    std::array<uint8_t, 256> buf;
    uint16_t seq = 0;
    for (auto _ : state) {
        size_t n = make_packet(buf, seq++);
        benchmark::DoNotOptimize(out->protect_rtp(buf, n));
    }
    state.SetLabel(std::string(rtc::srtp_profile_name(profile)));
}
BENCHMARK(BM_SrtpProtect)
    ->Arg(static_cast<int>(rtc::SrtpProfile::aes128_cm_sha1_80))
    ->Arg(static_cast<int>(rtc::SrtpProfile::aead_aes_128_gcm));

void BM_SrtpUnprotect(benchmark::State& state) {
    auto profile = static_cast<rtc::SrtpProfile>(state.range(0));
    auto out = rtc::SrtpSession::create(profile, key_salt(profile), true);
    auto in = rtc::SrtpSession::create(profile, key_salt(profile), false);
    // Protected packets prepared outside the timing; each is unprotected once (replay window).
    constexpr size_t kBatch = 4096;
    std::vector<std::array<uint8_t, 256>> packets(kBatch);
    std::vector<size_t> lengths(kBatch);
    uint16_t seq = 0;
    size_t i = kBatch;
    std::array<uint8_t, 256> work;
    for (auto _ : state) {
        if (i == kBatch) {
            state.PauseTiming();
            in = rtc::SrtpSession::create(profile, key_salt(profile), false);
            out = rtc::SrtpSession::create(profile, key_salt(profile), true);
            for (size_t k = 0; k < kBatch; ++k) {
                size_t n = make_packet(packets[k], seq++);
                lengths[k] = out->protect_rtp(packets[k], n).value();
            }
            i = 0;
            state.ResumeTiming();
        }
        std::memcpy(work.data(), packets[i].data(), lengths[i]);
        benchmark::DoNotOptimize(in->unprotect_rtp(work, lengths[i]));
        ++i;
    }
    state.SetLabel(std::string(rtc::srtp_profile_name(profile)));
}
BENCHMARK(BM_SrtpUnprotect)
    ->Arg(static_cast<int>(rtc::SrtpProfile::aes128_cm_sha1_80))
    ->Arg(static_cast<int>(rtc::SrtpProfile::aead_aes_128_gcm));

} // namespace

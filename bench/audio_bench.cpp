// The audio engine's CPU against its codec floor, and the jitter buffer's added latency.
//
//   BM_CodecFloor           one Opus decode (caller packet → 24 kHz) + one Opus encode (24 kHz →
//                           packet) of speech-like frames: the least any bridge must spend per
//                           20 ms of a call in both directions.
//   BM_CallAudioSlot/1      our whole per-slot path, sans-IO: RTP in → jitter buffer → decode
//                           → backend frame; playout queue → encode → RTP out (AI talking).
//   BM_CallAudioSlot/0      the same with the AI silent (cached silence packets).
//   BM_JitterLatency/L/J/P  the jitter buffer fed a simulated network: L % random loss, J ms of
//                           uniform ± jitter around a 30 ms delay (J=0: no jitter), pops P ms
//                           after the sender's 20 ms grid; the counters report the added delay
//                           (pop time − arrival) p50/p99 in ms.
#include "wabridge/media/call_audio.hpp"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <cmath>
#include <random>
#include <vector>

namespace {

using namespace wabridge;
using namespace wabridge::media;
using namespace std::chrono_literals;

// Speech-like: harmonics of a 150 Hz voice under a 4 Hz syllable envelope, 24 kHz.
std::vector<int16_t> speech(size_t frames) {
    std::vector<int16_t> v(frames * kFrameSamples);
    for (size_t i = 0; i < v.size(); ++i) {
        const double t = static_cast<double>(i) / kEngineRate;
        double s = 0;
        for (int h = 1; h <= 12; ++h)
            s += std::sin(2 * M_PI * 150 * h * t) / h;
        const double env = 0.5 + 0.5 * std::sin(2 * M_PI * 4 * t);
        v[i] = static_cast<int16_t>(5000 * env * s);
    }
    return v;
}

struct Packets {
    std::vector<std::vector<uint8_t>> payloads;
    std::vector<int16_t> pcm;
};

const Packets& caller_packets() {
    static const Packets p = [] {
        Packets out;
        out.pcm = speech(250); // 5 s
        auto enc = std::move(OpusEncoder::create({}).value());
        std::vector<uint8_t> buf(1500);
        for (size_t f = 0; f < 250; ++f) {
            auto frame = std::span(out.pcm).subspan(f * kFrameSamples, kFrameSamples);
            size_t n = enc.encode(frame, buf).value();
            out.payloads.emplace_back(buf.begin(), buf.begin() + n);
        }
        return out;
    }();
    return p;
}

void BM_CodecFloor(benchmark::State& state) {
    const Packets& p = caller_packets();
    auto enc = std::move(OpusEncoder::create({}).value());
    auto dec = std::move(OpusDecoder::create(kEngineRate).value());
    std::vector<int16_t> pcm(2880);
    std::vector<uint8_t> out(1500);
    size_t i = 0;
    for (auto _ : state) {
        const size_t f = i++ % p.payloads.size();
        benchmark::DoNotOptimize(dec.decode(p.payloads[f], pcm).value());
        auto frame = std::span(p.pcm).subspan(f * kFrameSamples, kFrameSamples);
        benchmark::DoNotOptimize(enc.encode(frame, out).value());
    }
}
BENCHMARK(BM_CodecFloor);

struct NullBackend : AiBackend {
    size_t frames = 0;
    void on_caller_audio(std::span<const int16_t>, loop::TimePoint, loop::TimePoint) override {
        ++frames;
    }
    void on_dtmf(const DtmfDigit&, loop::TimePoint) override {}
};

void BM_CallAudioSlot(benchmark::State& state) {
    const bool ai_talking = state.range(0) != 0;
    const Packets& p = caller_packets();
    CallAudioSettings s;
    s.ssrc = 1;
    auto audio = std::move(CallAudio::create(s).value());
    NullBackend backend;
    audio->set_backend(&backend);
    std::vector<uint8_t> rtp(1500), out(1500);
    loop::TimePoint now{};
    uint16_t seq = 0;
    uint32_t ts = 0;
    size_t i = 0;
    for (auto _ : state) {
        const size_t f = i++ % p.payloads.size();
        rtp::RtpHeader h{};
        h.payload_type = 111;
        h.sequence = seq++;
        h.timestamp = ts;
        ts += 960;
        h.ssrc = 7;
        size_t n = rtp::write_rtp(h, p.payloads[f], rtp);
        audio->on_rtp(rtp::parse_rtp(std::span(rtp).first(n)).value(), now);
        if (ai_talking && audio->playout().queued_samples() < kFrameSamples)
            audio->playout().push("item", 0, p.pcm);
        benchmark::DoNotOptimize(audio->on_slot(now, out));
        now += 20ms;
    }
}
BENCHMARK(BM_CallAudioSlot)->Arg(1)->Arg(0);

void BM_JitterLatency(benchmark::State& state) {
    const double loss = static_cast<double>(state.range(0)) / 100.0;
    const int jitter_ms = static_cast<int>(state.range(1));
    const auto phase = std::chrono::milliseconds(state.range(2));
    std::vector<double> added;
    for (auto _ : state) {
        state.PauseTiming();
        added.clear();
        JitterBuffer jb;
        std::mt19937 rng(42);
        std::uniform_real_distribution<double> u(0, 1);
        std::uniform_int_distribution<int> jit(-jitter_ms, jitter_ms);
        struct Arrival {
            loop::TimePoint at;
            uint16_t seq;
        };
        std::vector<Arrival> arrivals;
        const int packets = 3000; // 60 s
        const loop::TimePoint t0{};
        for (int k = 0; k < packets; ++k) {
            if (u(rng) < loss) continue;
            const int delay = jitter_ms ? 30 + jit(rng) : 0;
            arrivals.push_back(
                {t0 + 20ms * k + std::chrono::milliseconds(delay), static_cast<uint16_t>(k)});
        }
        std::sort(arrivals.begin(), arrivals.end(),
                  [](const Arrival& a, const Arrival& b) { return a.at < b.at; });
        state.ResumeTiming();
        const std::vector<uint8_t> payload(40, 0x48);
        size_t next = 0;
        // Slots tick every 20 ms with a phase against the sender's clock.
        for (loop::TimePoint now = t0 + phase; now < t0 + 20ms * (packets + 20); now += 20ms) {
            while (next < arrivals.size() && arrivals[next].at <= now) {
                const auto& a = arrivals[next++];
                jb.push(9, a.seq, a.seq * 960u, payload, a.at);
            }
            JitterFrame f = jb.pop(now);
            if (f.kind == JitterFrame::Kind::packet && f.arrival)
                added.push_back(
                    std::chrono::duration<double, std::milli>(now - *f.arrival).count());
        }
    }
    std::sort(added.begin(), added.end());
    auto pct = [&](double q) {
        return added.empty() ? 0.0 : added[std::min(added.size() - 1, size_t(q * added.size()))];
    };
    state.counters["added_p50_ms"] = pct(0.5);
    state.counters["added_p99_ms"] = pct(0.99);
}
BENCHMARK(BM_JitterLatency)
    ->Args({0, 0, 7})
    ->Args({0, 0, 17})
    ->Args({5, 0, 7})
    ->Args({5, 0, 17})
    ->Args({5, 20, 7})
    ->Iterations(3);

} // namespace

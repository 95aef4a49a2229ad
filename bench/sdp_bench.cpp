// Micro-benchmarks of the offer -> answer path: what a `connect` webhook costs before any
// network I/O. Run with `make bench`; figures go to bench/RESULTS.md.
#include "wabridge/crypto/certificate.hpp"
#include "wabridge/rtc/local_credentials.hpp"
#include "wabridge/sdp/answer.hpp"
#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/whatsapp_checklist.hpp"

#include <benchmark/benchmark.h>
#include <fstream>
#include <sstream>

namespace {

using namespace wabridge;

std::string read(const char* path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

const std::string& offer() {
    static const std::string s = read("tests/data/sdp/whatsapp/wa-offer-01.sdp");
    return s;
}

const Certificate& certificate() {
    static const Certificate c = std::move(Certificate::generate().value());
    return c;
}

sdp::LocalTransport transport() {
    return rtc::new_local_transport(certificate(),
                                    sdp::host_candidates({"203.0.113.7", "2001:db8::7"}, 10000));
}

void BM_ParseWhatsAppOffer(benchmark::State& state) {
    for (auto _ : state)
        benchmark::DoNotOptimize(sdp::parse(offer()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * offer().size()));
}
BENCHMARK(BM_ParseWhatsAppOffer);

void BM_AnswerParsedOffer(benchmark::State& state) {
    auto parsed = sdp::parse(offer());
    auto local = transport();
    for (auto _ : state)
        benchmark::DoNotOptimize(sdp::create_answer(parsed.value(), local));
}
BENCHMARK(BM_AnswerParsedOffer);

void BM_NewLocalTransport(benchmark::State& state) {
    auto candidates = sdp::host_candidates({"203.0.113.7", "2001:db8::7"}, 10000);
    for (auto _ : state)
        benchmark::DoNotOptimize(rtc::new_local_transport(certificate(), candidates));
}
BENCHMARK(BM_NewLocalTransport);

// Everything a connect webhook needs from the SDP engine: fresh credentials, parse, answer.
void BM_OfferToAnswer(benchmark::State& state) {
    auto candidates = sdp::host_candidates({"203.0.113.7", "2001:db8::7"}, 10000);
    for (auto _ : state) {
        auto local = rtc::new_local_transport(certificate(), candidates);
        benchmark::DoNotOptimize(sdp::answer_offer(offer(), local));
    }
}
BENCHMARK(BM_OfferToAnswer);

void BM_ChecklistOnAnswer(benchmark::State& state) {
    std::string answer = sdp::answer_offer(offer(), transport())->sdp;
    for (auto _ : state)
        benchmark::DoNotOptimize(sdp::check_whatsapp_answer(offer(), answer));
}
BENCHMARK(BM_ChecklistOnAnswer);

// Once per process at start-up.
void BM_GenerateEcdsaCertificate(benchmark::State& state) {
    for (auto _ : state)
        benchmark::DoNotOptimize(Certificate::generate());
}
BENCHMARK(BM_GenerateEcdsaCertificate)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();

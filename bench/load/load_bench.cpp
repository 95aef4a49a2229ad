// load_bench: N concurrent WhatsApp-shaped calls against one running bridge, with the lean fake
// OpenAI in the same process, and every figure of issue 8 from one window of the run.
//
//   load_bench --bridge-port P --bridge-pid PID --fake-port F --calls N [--seconds 20]
//              [--settle 3] [--ramp-ms 20] [--json FILE]
//
// The bridge must already run with OPENAI_REALTIME_URL=ws://127.0.0.1:F/v1/realtime and
// AI_BACKEND=openai (bench/run_load_bench.sh starts it). The harness runs one event loop: its
// callers (bench/load/lite_caller.*) send pre-encoded Opus, talking 2 s then silent 2 s; the
// fake (bench/load/realtime_load_fake.*) streams 2.2 s of reply audio every 4 s and barges in
// at the end of each cycle. Calls are placed one after another, `ramp-ms` apart; after all are
// connected and `settle` seconds have passed, a window of `seconds` is measured: the bridge's
// CPU (/proc/PID/task/*/schedstat), RSS, and the difference of its /metrics histograms. Then
// the codec floor is timed on the same frames in this process, and everything is printed.
#include "lite_caller.hpp"
#include "realtime_load_fake.hpp"
#include "wabridge/app/metrics.hpp"
#include "wabridge/media/opus_codec.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

using namespace wabridge;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    int bridge_port = 0;
    int bridge_pid = 0;
    int fake_port = 0;
    int calls = 10;
    int seconds = 20;
    int settle = 3;
    int ramp_ms = 20;
    std::string json_path;
    uint16_t port_min = 40000, port_max = 49999;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "load_bench: %s\nusage: load_bench --bridge-port P --bridge-pid PID --fake-port F "
                 "--calls N [--seconds 20] [--settle 3] [--ramp-ms 20] [--json FILE]\n",
                 why);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value for " + a).c_str());
            return argv[++i];
        };
        if (a == "--bridge-port")
            o.bridge_port = std::stoi(value());
        else if (a == "--bridge-pid")
            o.bridge_pid = std::stoi(value());
        else if (a == "--fake-port")
            o.fake_port = std::stoi(value());
        else if (a == "--calls")
            o.calls = std::stoi(value());
        else if (a == "--seconds")
            o.seconds = std::stoi(value());
        else if (a == "--settle")
            o.settle = std::stoi(value());
        else if (a == "--ramp-ms")
            o.ramp_ms = std::stoi(value());
        else if (a == "--json")
            o.json_path = value();
        else if (a == "--help" || a == "-h")
            usage("help");
        else
            usage(("unknown option " + a).c_str());
    }
    if (o.bridge_port <= 0 || o.bridge_pid <= 0 || o.fake_port <= 0 || o.calls <= 0 ||
        o.seconds <= 0)
        usage("--bridge-port, --bridge-pid, --fake-port and a positive --calls are required");
    return o;
}

// ---- blocking HTTP/1.1 to the bridge (one request per connection) ----

struct HttpReply {
    int status = -1;
    std::string body;
};

HttpReply http(int port, const std::string& method, const std::string& path,
               const std::string& body = {}) {
    HttpReply r;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return r;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!body.empty())
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n";
    req += "\r\n" + body;
    size_t sent = 0;
    while (sent < req.size()) {
        ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
    }
    std::string in;
    char buf[65536];
    while (true) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    if (in.size() < 12) return r;
    r.status = std::atoi(in.c_str() + 9);
    const size_t head = in.find("\r\n\r\n");
    if (head != std::string::npos) r.body = in.substr(head + 4);
    return r;
}

// ---- /proc and /metrics ----

uint64_t process_cpu_ns(int pid) { // RUNNING time of every thread (first field of schedstat)
    uint64_t total = 0;
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return 0;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream f(dir + "/" + e->d_name + "/schedstat");
        uint64_t ns = 0;
        if (f >> ns) total += ns;
    }
    ::closedir(d);
    return total;
}

uint64_t rss_bytes(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

// Time the hypervisor ran something else on our vCPUs (8th value of each cpu line of
// /proc/stat, in clock ticks): a VM's stalls that no process here caused.
std::map<std::string, double> steal_seconds() {
    std::map<std::string, double> out;
    std::ifstream f("/proc/stat");
    std::string line;
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    while (std::getline(f, line)) {
        if (line.rfind("cpu", 0) != 0) break;
        std::istringstream in(line);
        std::string name;
        double v[8] = {};
        in >> name;
        for (double& x : v)
            in >> x;
        out[name] = v[7] / hz;
    }
    return out;
}

using MetricMap = std::map<std::string, double>;

MetricMap scrape(int port) {
    MetricMap m;
    std::istringstream in(http(port, "GET", "/metrics").body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const size_t sp = line.rfind(' ');
        if (sp == std::string::npos) continue;
        m[line.substr(0, sp)] = std::atof(line.c_str() + sp + 1);
    }
    return m;
}

double delta(const MetricMap& a, const MetricMap& b, const std::string& key) {
    auto ib = b.find(key);
    auto ia = a.find(key);
    return (ib == b.end() ? 0 : ib->second) - (ia == a.end() ? 0 : ia->second);
}

// A histogram's window (b - a): count, mean, and quantiles as bucket upper bounds in ms.
json histogram_window(const MetricMap& a, const MetricMap& b, const std::string& name) {
    std::vector<std::pair<double, double>> buckets; // (le, cumulative count)
    const std::string prefix = name + "_bucket{le=\"";
    for (const auto& [key, value] : b) {
        if (key.rfind(prefix, 0) != 0) continue;
        const std::string le = key.substr(prefix.size(), key.size() - prefix.size() - 2);
        const double bound = le == "+Inf" ? INFINITY : std::atof(le.c_str());
        buckets.emplace_back(bound, value - (a.count(key) ? a.at(key) : 0));
    }
    std::sort(buckets.begin(), buckets.end());
    const double count = delta(a, b, name + "_count");
    json out{{"count", count}};
    if (count <= 0) return out;
    out["mean_ms"] = delta(a, b, name + "_sum") / count * 1000;
    auto quantile = [&](double q) -> json {
        for (const auto& [le, cum] : buckets)
            if (cum >= q * count) return std::isinf(le) ? json("inf") : json(le * 1000);
        return json("inf");
    };
    out["p50_le_ms"] = quantile(0.5);
    out["p99_le_ms"] = quantile(0.99);
    out["max_le_ms"] = quantile(1.0);
    for (const auto& [le, cum] : buckets)
        if (std::abs(le - 0.01) < 1e-9) out["over_10ms"] = count - cum;
    return out;
}

json percentiles(std::vector<double> v) {
    if (v.empty()) return json{{"count", 0}};
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(q * v.size())) - 1);
        return v[std::max<size_t>(i, 0)];
    };
    return json{
        {"count", v.size()}, {"p50_ms", at(0.5)}, {"p99_ms", at(0.99)}, {"max_ms", v.back()}};
}

// ---- audio ----

// Voiced-speech-like test signal: a 120–200 Hz buzz with formant-like harmonics, syllables at
// ~4 Hz. Good enough to make Opus code SILK speech frames; nobody listens to it.
std::vector<int16_t> speech_like(int rate, double seconds, double level, uint32_t seed) {
    std::vector<int16_t> out(static_cast<size_t>(rate * seconds));
    std::minstd_rand rng(seed);
    std::uniform_real_distribution<double> noise(-1, 1);
    double phase = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        const double t = static_cast<double>(i) / rate;
        const double f0 = 150 + 40 * std::sin(2 * M_PI * 0.7 * t);
        phase += 2 * M_PI * f0 / rate;
        double v = 0;
        for (int h = 1; h <= 12; ++h)
            v += std::sin(h * phase) / h * (h == 3 || h == 7 ? 2.0 : 1.0);
        const double envelope = 0.5 + 0.5 * std::sin(2 * M_PI * 4 * t);
        v = v * 0.25 * envelope + 0.02 * noise(rng);
        out[i] = static_cast<int16_t>(std::clamp(v * level * 32767, -32767.0, 32767.0));
    }
    return out;
}

bench::CallerScript caller_script() {
    media::OpusEncoderSettings s;
    s.sample_rate = 16000; // WhatsApp sends wideband (sprop-maxcapturerate=16000)
    s.bitrate = 20000;
    s.complexity = 5;
    auto enc = media::OpusEncoder::create(s);
    if (!enc) usage(("opus: " + enc.error()).c_str());
    const auto talk = speech_like(16000, 2.0, 0.5, 1);
    const auto quiet = speech_like(16000, 2.0, 0.003, 2); // room noise, not digital silence
    bench::CallerScript script;
    std::vector<uint8_t> out(1500);
    for (const auto* part : {&talk, &quiet}) {
        for (size_t at = 0; at + 320 <= part->size(); at += 320) {
            auto n = enc->encode(std::span(part->data() + at, 320), out);
            if (!n) usage(("opus: " + n.error()).c_str());
            script.frames.emplace_back(out.begin(), out.begin() + static_cast<long>(*n));
        }
    }
    return script;
}

double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// The codec floor on the same frames, with the bridge's settings: µs per decode of a caller
// frame (to 24 kHz), per encode of a 20 ms reply-audio frame and of an all-zero frame (24 kHz,
// 20 kbit/s, wideband, FEC, complexity 5).
json codec_floor(const bench::CallerScript& script, const std::vector<int16_t>& reply) {
    auto dec = media::OpusDecoder::create(24000);
    media::OpusEncoderSettings s; // the bridge's defaults (media::CallAudio)
    auto enc = media::OpusEncoder::create(s);
    if (!dec || !enc) usage("opus for the floor");
    std::vector<int16_t> pcm(dec->max_frame_samples());
    std::vector<uint8_t> out(1500);
    const std::vector<int16_t> zeros(480, 0);
    auto time_per = [](int n, auto&& op) {
        const double t0 = thread_cpu_ns();
        for (int i = 0; i < n; ++i)
            op(i);
        return (thread_cpu_ns() - t0) / n / 1000.0;
    };
    const int rounds = 3000;
    const double decode_us = time_per(rounds, [&](int i) {
        (void)dec->decode(script.frames[static_cast<size_t>(i) % script.frames.size()], pcm);
    });
    const size_t reply_frames = reply.size() / 480;
    const double encode_audio_us = time_per(rounds, [&](int i) {
        (void)enc->encode(
            std::span(reply.data() + (static_cast<size_t>(i) % reply_frames) * 480, 480), out);
    });
    const double encode_zero_us = time_per(rounds, [&](int) { (void)enc->encode(zeros, out); });
    return json{{"decode_us", decode_us},
                {"encode_audio_us", encode_audio_us},
                {"encode_zero_us", encode_zero_us}};
}

} // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    auto loop_result = loop::EventLoop::create();
    if (!loop_result) usage(loop_result.error().c_str());
    auto& loop = *loop_result.value();
    auto cert = Certificate::generate("load-caller");
    if (!cert) usage(cert.error().c_str());

    const bench::CallerScript script = caller_script();
    bench::FakeScript fake_script;
    fake_script.reply_audio = speech_like(24000, 2.2, 0.4, 3);
    const std::vector<int16_t> reply = fake_script.reply_audio;
    auto fake = bench::RealtimeLoadFake::create(loop, static_cast<uint16_t>(o.fake_port),
                                                std::move(fake_script));
    if (!fake) usage(fake.error().c_str());

    auto run_for = [&](Clock::duration d) {
        const auto until = Clock::now() + d;
        while (Clock::now() < until)
            loop.run_once(std::chrono::duration_cast<Clock::duration>(until - Clock::now()));
    };
    for (int i = 0; i < 100 && http(o.bridge_port, "GET", "/health").status != 200; ++i)
        run_for(std::chrono::milliseconds(100));

    const uint64_t rss_idle = rss_bytes(o.bridge_pid);
    std::vector<std::unique_ptr<bench::LiteCall>> calls;
    std::vector<std::string> ids;
    std::vector<double> answer_ms;
    int refused = 0;
    for (int i = 0; i < o.calls; ++i) {
        auto call =
            bench::LiteCall::create(loop, *cert, script, "127.0.0.1", o.port_min, o.port_max);
        if (!call) usage(call.error().c_str());
        const std::string id = "load-" + std::to_string(getpid()) + "-" + std::to_string(i);
        const auto t0 = Clock::now();
        auto reply_http = http(o.bridge_port, "POST", "/sessions/" + id + "/webrtc",
                               json{{"sdpOffer", (*call)->offer()}}.dump());
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        json body = json::parse(reply_http.body, nullptr, false);
        if (reply_http.status != 200 || !body.is_object() || !body.contains("sdpAnswer")) {
            ++refused;
            std::fprintf(stderr, "call %d refused: %d %s\n", i, reply_http.status,
                         reply_http.body.substr(0, 300).c_str());
            continue;
        }
        answer_ms.push_back(ms);
        auto applied = (*call)->apply_answer(body["sdpAnswer"].get<std::string>(), loop.now().mono);
        if (!applied) std::fprintf(stderr, "call %d: %s\n", i, applied.error().c_str());
        (*call)->stats().answer_ms = ms;
        calls.push_back(std::move(call.value()));
        ids.push_back(id);
        run_for(std::chrono::milliseconds(o.ramp_ms));
    }
    for (int i = 0; i < 100; ++i) {
        const bool all = std::all_of(calls.begin(), calls.end(),
                                     [](auto& c) { return c->connected() || c->failed(); });
        if (all) break;
        run_for(std::chrono::milliseconds(100));
    }
    run_for(std::chrono::seconds(o.settle));

    // ---- the window ----
    auto snapshot_calls = [&] {
        std::vector<bench::LiteCallStats> v;
        for (auto& c : calls)
            v.push_back(c->stats());
        return v;
    };
    const MetricMap m0 = scrape(o.bridge_port);
    const auto calls0 = snapshot_calls();
    // The harness's own timer lag: a stall here and in the bridge at once is the machine's.
    Histogram harness_lag({0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1});
    loop.set_lag_histogram(&harness_lag);
    const auto steal0 = steal_seconds();
    const uint64_t cpu0 = process_cpu_ns(o.bridge_pid);
    const uint64_t self0 = process_cpu_ns(getpid());
    const bench::FakeStats fake0 = (*fake)->stats();
    const auto w0 = Clock::now();
    for (auto& c : calls)
        c->stats().max_gap_ms = 0, c->stats().gaps_over_40ms = 0;
    run_for(std::chrono::seconds(o.seconds));
    const double window_s = std::chrono::duration<double>(Clock::now() - w0).count();
    const uint64_t cpu1 = process_cpu_ns(o.bridge_pid);
    const auto steal1 = steal_seconds();
    loop.set_lag_histogram(nullptr);
    json harness_lag_json{{"count", harness_lag.count()}};
    for (size_t i = 0; i < harness_lag.bounds().size(); ++i)
        harness_lag_json["le_" + std::to_string(harness_lag.bounds()[i] * 1000) + "ms"] =
            harness_lag.cumulative_count(i);
    json steal = json::object();
    for (const auto& [name, seconds] : steal1)
        steal[name] = seconds - (steal0.count(name) ? steal0.at(name) : 0);
    const uint64_t self1 = process_cpu_ns(getpid());
    const uint64_t rss_loaded = rss_bytes(o.bridge_pid);
    const MetricMap m1 = scrape(o.bridge_port);
    const auto calls1 = snapshot_calls();
    const bench::FakeStats fake1 = (*fake)->stats();

    // Whole-call pacing as each session saw it (call start included, unlike the window).
    std::vector<double> call_max_late_ms;
    double call_skipped = 0;
    size_t calls_with_skips = 0;
    for (const auto& id : ids) {
        json reply =
            json::parse(http(o.bridge_port, "GET", "/sessions/" + id).body, nullptr, false);
        if (!reply.is_object() || !reply.contains("session")) continue;
        const json& view = reply["session"];
        if (!view.contains("media") || !view["media"].contains("audio")) continue;
        const json& audio = view["media"]["audio"];
        call_max_late_ms.push_back(audio.value("pacerMaxLateMs", 0.0));
        const double skipped = audio.value("pacerSkippedSlots", 0.0);
        call_skipped += skipped;
        if (skipped > 0) ++calls_with_skips;
    }
    for (auto& c : calls)
        c->stop();
    for (const auto& id : ids)
        http(o.bridge_port, "DELETE", "/sessions/" + id);
    run_for(std::chrono::milliseconds(300));

    // ---- figures ----
    const json floor = codec_floor(script, reply);
    size_t connected = 0, failed = 0;
    std::vector<double> connect_ms;
    uint64_t sent = 0, received = 0, received_ai = 0, srtp_failures = 0, gaps = 0;
    double max_gap = 0;
    for (size_t i = 0; i < calls.size(); ++i) {
        const auto& s = calls1[i];
        if (s.connect_ms >= 0) {
            ++connected;
            connect_ms.push_back(s.connect_ms);
        }
        if (calls[i]->failed()) ++failed;
        sent += s.sent - calls0[i].sent;
        received += s.received - calls0[i].received;
        received_ai += s.received_ai - calls0[i].received_ai;
        srtp_failures += s.srtp_failures;
        gaps += s.gaps_over_40ms;
        max_gap = std::max(max_gap, s.max_gap_ms);
    }
    const double call_seconds = window_s * static_cast<double>(std::max<size_t>(connected, 1));
    const double bridge_core = static_cast<double>(cpu1 - cpu0) / 1e9 / call_seconds; // per call
    const double floor_s =
        (static_cast<double>(sent) * floor["decode_us"].get<double>() +
         static_cast<double>(received_ai) * floor["encode_audio_us"].get<double>() +
         static_cast<double>(received - received_ai) * floor["encode_zero_us"].get<double>()) /
        1e6;
    const double floor_core = floor_s / call_seconds;
    json out{
        {"calls", o.calls},
        {"refused", refused},
        {"connected", connected},
        {"failed", failed},
        {"window_s", window_s},
        {"vm_steal_s", steal},
        {"harness_loop_lag", harness_lag_json},
        {"bridge_cpu_per_call_pct", bridge_core * 100},
        {"bridge_cpu_total_pct", static_cast<double>(cpu1 - cpu0) / 1e9 / window_s * 100},
        {"harness_cpu_total_pct", static_cast<double>(self1 - self0) / 1e9 / window_s * 100},
        {"codec_floor", floor},
        {"codec_floor_per_call_pct", floor_core * 100},
        {"ratio_bridge_to_floor", floor_core > 0 ? bridge_core / floor_core : 0},
        {"rss_idle_mib", rss_idle / 1048576.0},
        {"rss_loaded_mib", rss_loaded / 1048576.0},
        {"rss_per_call_kib",
         connected ? (static_cast<double>(rss_loaded) - static_cast<double>(rss_idle)) / 1024.0 /
                         static_cast<double>(connected)
                   : 0},
        {"packets",
         {{"caller_sent", sent},
          {"caller_received", received},
          {"caller_received_ai", received_ai},
          {"expected_each_way", window_s * 50 * static_cast<double>(connected)},
          {"srtp_failures", srtp_failures},
          {"gaps_over_40ms", gaps},
          {"max_gap_ms", max_gap}}},
        {"offer_to_answer", percentiles(answer_ms)},
        {"ice_dtls_connect", percentiles(connect_ms)},
        {"loop_lag", histogram_window(m0, m1, "wabridge_loop_lag_seconds")},
        {"pacer_lateness", histogram_window(m0, m1, "wabridge_pacer_lateness_seconds")},
        {"pacer_skipped_slots", delta(m0, m1, "wabridge_pacer_skipped_slots_total")},
        {"whole_calls",
         {{"pacer_max_late", percentiles(call_max_late_ms)},
          {"pacer_skipped_slots", call_skipped},
          {"calls_with_skips", calls_with_skips}}},
        {"uplink_arrival_to_append",
         histogram_window(m0, m1, "wabridge_openai_uplink_latency_seconds")},
        {"uplink_added", histogram_window(m0, m1, "wabridge_openai_uplink_added_seconds")},
        {"downlink_delta_to_rtp",
         histogram_window(m0, m1, "wabridge_openai_downlink_latency_seconds")},
        {"barge_in_flush", histogram_window(m0, m1, "wabridge_barge_in_flush_seconds")},
        {"fake",
         {{"connections", fake1.connections},
          {"appends", fake1.appends - fake0.appends},
          {"append_b64_bytes", fake1.append_bytes - fake0.append_bytes},
          {"deltas_sent", fake1.deltas_sent - fake0.deltas_sent},
          {"replies", fake1.replies - fake0.replies},
          {"truncates", fake1.truncates - fake0.truncates},
          {"bad_frames", fake1.bad_frames}}},
    };
    const std::string text = out.dump(2);
    std::printf("%s\n", text.c_str());
    if (!o.json_path.empty()) std::ofstream(o.json_path) << text << "\n";
    calls.clear();
    fake->reset();
    return connected == static_cast<size_t>(o.calls) ? 0 : 1;
}

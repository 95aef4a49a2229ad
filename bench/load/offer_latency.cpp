// Offer -> answer latency over HTTP: N clients, each on its own keep-alive connection and
// thread, POST a WhatsApp offer to /sessions/{callId}/webrtc and DELETE the session, again and
// again. Prints p50/p90/p99/max of the POST round trip and the answers per second.
//   offer_latency PORT CLIENTS REQUESTS_PER_CLIENT OFFER_FILE
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::perror("connect");
        std::exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Sends one request and reads one response; returns the status code.
int round_trip(int fd, const std::string& request, std::string& buffer) {
    size_t sent = 0;
    while (sent < request.size()) {
        ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        sent += static_cast<size_t>(n);
    }
    buffer.clear();
    char chunk[65536];
    size_t head_end = std::string::npos, need = 0;
    while (true) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return -1;
        buffer.append(chunk, static_cast<size_t>(n));
        if (head_end == std::string::npos) {
            head_end = buffer.find("\r\n\r\n");
            if (head_end == std::string::npos) continue;
            auto cl = buffer.find("Content-Length: ");
            need = head_end + 4 + std::strtoul(buffer.c_str() + cl + 16, nullptr, 10);
        }
        if (buffer.size() >= need) break;
    }
    return std::atoi(buffer.c_str() + 9);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: offer_latency PORT CLIENTS REQUESTS_PER_CLIENT OFFER_FILE\n");
        return 2;
    }
    int port = std::atoi(argv[1]);
    int clients = std::atoi(argv[2]);
    int per_client = std::atoi(argv[3]);
    std::ifstream f(argv[4]);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string body = nlohmann::json{{"sdpOffer", ss.str()}}.dump();

    std::vector<std::vector<double>> samples(static_cast<size_t>(clients));
    std::atomic<int> failures{0};
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            int fd = connect_to(port);
            std::string buffer;
            auto& mine = samples[static_cast<size_t>(c)];
            mine.reserve(static_cast<size_t>(per_client));
            for (int i = 0; i < per_client; ++i) {
                std::string id = "bench-" + std::to_string(c) + "-" + std::to_string(i);
                std::string post = "POST /sessions/" + id +
                                   "/webrtc HTTP/1.1\r\nHost: b\r\n"
                                   "Content-Type: application/json\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\n\r\n" + body;
                auto t0 = Clock::now();
                int status = round_trip(fd, post, buffer);
                auto t1 = Clock::now();
                if (status != 200) ++failures;
                mine.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
                std::string del = "DELETE /sessions/" + id + " HTTP/1.1\r\nHost: b\r\n\r\n";
                if (round_trip(fd, del, buffer) != 200) ++failures;
            }
            close(fd);
        });
    }
    for (auto& t : threads)
        t.join();
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (auto& s : samples)
        all.insert(all.end(), s.begin(), s.end());
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
        return all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
    };
    std::printf("clients=%d offers=%zu failures=%d p50=%.0fus p90=%.0fus p99=%.0fus max=%.0fus "
                "offers_per_s=%.0f\n",
                clients, all.size(), failures.load(), pct(0.50), pct(0.90), pct(0.99), all.back(),
                static_cast<double>(all.size()) / seconds);
    return failures.load() ? 1 : 0;
}

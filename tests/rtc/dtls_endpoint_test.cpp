// DtlsEndpoint tests: two endpoints in memory, no sockets, a fake clock.
//
// Retransmission: OpenSSL checks its DTLS timer against the real clock, so the tests that need
// a retransmission shorten the initial timer with DtlsOptions::initial_retransmit (installed
// through DTLS_set_timer_cb) to a few milliseconds, sleep that long for real, then advance the
// fake clock to next_timeout() and call on_timeout. No test waits the default 1 s.
#include "wabridge/rtc/dtls_endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>

namespace wabridge::rtc {
namespace {

using namespace std::chrono_literals;
using Datagrams = std::vector<std::vector<uint8_t>>;

Certificate make_certificate(std::string_view cn) {
    auto cert = Certificate::generate(cn);
    if (!cert) ADD_FAILURE() << cert.error();
    return std::move(cert.value());
}

std::string lower(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A fingerprint that is not anybody's.
const std::string kWrongFingerprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

class DtlsPair {
public:
    explicit DtlsPair(DtlsOptions client_options = {}, DtlsOptions server_options = {},
                      std::vector<std::string> client_expects = {},
                      std::vector<std::string> server_expects = {})
        : client_cert(make_certificate("client"))
        , server_cert(make_certificate("server"))
        , client(DtlsRole::client, client_cert,
                 client_expects.empty() ? std::vector{server_cert.sha256_fingerprint()}
                                        : client_expects,
                 client_options)
        , server(DtlsRole::server, server_cert,
                 server_expects.empty() ? std::vector{client_cert.sha256_fingerprint()}
                                        : server_expects,
                 server_options)
        , mtu_client(client_options.mtu)
        , mtu_server(server_options.mtu) {}

    // Moves datagrams both ways until neither side has anything to send.
    void shuttle(int max_rounds = 20) {
        for (int i = 0; i < max_rounds; ++i) {
            now += 1ms;
            Datagrams from_client = take(client, mtu_client);
            for (const auto& d : from_client)
                server.on_datagram(d, now);
            Datagrams from_server = take(server, mtu_server);
            for (const auto& d : from_server)
                client.on_datagram(d, now);
            if (from_client.empty() && from_server.empty()) return;
        }
    }

    void handshake() {
        client.start(now);
        server.start(now);
        shuttle();
    }

    // take_datagrams with the size check every test wants.
    Datagrams take(DtlsEndpoint& e, size_t mtu) {
        Datagrams out = e.take_datagrams();
        for (const auto& d : out) {
            EXPECT_LE(d.size(), mtu);
            EXPECT_FALSE(d.empty());
            largest = std::max(largest, d.size());
            ++datagrams_seen;
        }
        return out;
    }

    Certificate client_cert, server_cert;
    DtlsEndpoint client, server;
    size_t mtu_client, mtu_server;
    loop::TimePoint now = loop::TimePoint{} + 1000h;
    size_t largest = 0, datagrams_seen = 0;
};

// Sleeps long enough for OpenSSL's real-clock timer, then moves the fake clock to the deadline.
void wait_for_deadline(DtlsEndpoint& e, loop::TimePoint& now) {
    ASSERT_TRUE(e.next_timeout().has_value());
    auto wait = *e.next_timeout() - now;
    std::this_thread::sleep_for(wait + 5ms);
    now = std::max(now, *e.next_timeout());
}

std::vector<uint8_t> rtp(uint16_t seq, uint32_t ssrc) {
    std::vector<uint8_t> p = {0x80,
                              111,
                              uint8_t(seq >> 8),
                              uint8_t(seq),
                              0,
                              0,
                              0,
                              160,
                              uint8_t(ssrc >> 24),
                              uint8_t(ssrc >> 16),
                              uint8_t(ssrc >> 8),
                              uint8_t(ssrc)};
    for (int i = 0; i < 80; ++i)
        p.push_back(uint8_t(i));
    return p;
}

// Protects with `from`'s outbound key and unprotects with `to`'s inbound key.
void expect_srtp_flows(const DtlsConnected& from, const DtlsConnected& to) {
    ASSERT_EQ(from.profile, to.profile);
    auto tx = SrtpSession::create(from.profile, from.keys.local_key_salt, true);
    auto rx = SrtpSession::create(to.profile, to.keys.remote_key_salt, false);
    ASSERT_TRUE(tx) << tx.error();
    ASSERT_TRUE(rx) << rx.error();
    const auto plain = rtp(4242, 0xfeedbeef);
    auto buf = plain;
    buf.resize(plain.size() + srtp_rtp_overhead(from.profile));
    auto n = tx->protect_rtp(buf, plain.size());
    ASSERT_TRUE(n);
    auto m = rx->unprotect_rtp(buf, *n);
    ASSERT_TRUE(m) << to_string(m.error());
    buf.resize(*m);
    EXPECT_EQ(buf, plain);
}

TEST(DtlsEndpoint, HandshakeNegotiatesGcmAndMatchingKeys) {
    DtlsPair p;
    EXPECT_FALSE(p.client.connected());
    p.handshake();
    ASSERT_TRUE(p.client.connected()) << (p.client.failure() ? to_string(*p.client.failure()) : "");
    ASSERT_TRUE(p.server.connected()) << (p.server.failure() ? to_string(*p.server.failure()) : "");
    EXPECT_FALSE(p.client.failure());
    EXPECT_FALSE(p.server.failure());

    auto c = p.client.take_connected();
    auto s = p.server.take_connected();
    ASSERT_TRUE(c && s);
    EXPECT_FALSE(p.client.take_connected()); // one-shot
    EXPECT_FALSE(p.server.take_connected());

    EXPECT_EQ(c->profile, SrtpProfile::aead_aes_128_gcm); // preferred (RFC 7714 §14.2)
    EXPECT_EQ(s->profile, SrtpProfile::aead_aes_128_gcm);
    EXPECT_EQ(c->keys.local_key_salt.size(), 28u);
    EXPECT_EQ(c->keys.remote_key_salt.size(), 28u);
    EXPECT_EQ(c->keys.local_key_salt, s->keys.remote_key_salt);
    EXPECT_EQ(c->keys.remote_key_salt, s->keys.local_key_salt);
    EXPECT_NE(c->keys.local_key_salt, c->keys.remote_key_salt);
    EXPECT_EQ(c->remote_fingerprint, p.server_cert.sha256_fingerprint());
    EXPECT_EQ(s->remote_fingerprint, p.client_cert.sha256_fingerprint());

    expect_srtp_flows(*c, *s);
    expect_srtp_flows(*s, *c);

    EXPECT_FALSE(p.client.next_timeout().has_value());
    EXPECT_FALSE(p.client.peer_closed());
    EXPECT_FALSE(p.server.peer_closed());
    EXPECT_EQ(p.client.retransmissions(), 0u);
    EXPECT_GT(p.datagrams_seen, 3u);
    EXPECT_LE(p.largest, 1200u);
}

TEST(DtlsEndpoint, FreshKeysForEveryHandshake) {
    DtlsPair a, b;
    a.handshake();
    b.handshake();
    auto ka = a.client.take_connected();
    auto kb = b.client.take_connected();
    ASSERT_TRUE(ka && kb);
    EXPECT_NE(ka->keys.local_key_salt, kb->keys.local_key_salt);
}

TEST(DtlsEndpoint, FingerprintComparisonIgnoresCase) {
    auto client_cert = make_certificate("c");
    auto server_cert = make_certificate("s");
    DtlsEndpoint client(DtlsRole::client, client_cert,
                        {kWrongFingerprint, lower(server_cert.sha256_fingerprint())});
    DtlsEndpoint server(DtlsRole::server, server_cert, {lower(client_cert.sha256_fingerprint())});
    auto now = loop::TimePoint{} + 5s;
    client.start(now);
    for (int i = 0; i < 10; ++i) {
        for (auto& d : client.take_datagrams())
            server.on_datagram(d, now);
        for (auto& d : server.take_datagrams())
            client.on_datagram(d, now);
    }
    EXPECT_TRUE(client.connected());
    EXPECT_TRUE(server.connected());
}

TEST(DtlsEndpoint, ServerRejectsAnUnexpectedClientCertificate) {
    DtlsPair p({}, {}, {}, {kWrongFingerprint});
    p.handshake();
    ASSERT_TRUE(p.server.failure().has_value());
    EXPECT_EQ(*p.server.failure(), DtlsFailure::fingerprint_mismatch);
    EXPECT_FALSE(p.server.connected());
    EXPECT_FALSE(p.server.take_connected()); // no keys
    // The server aborted before its Finished: the client never connects either.
    EXPECT_FALSE(p.client.connected());
    EXPECT_FALSE(p.client.take_connected());
    EXPECT_EQ(p.client.failure(), DtlsFailure::handshake_failed); // it got the alert
    EXPECT_FALSE(p.server.next_timeout().has_value());
}

TEST(DtlsEndpoint, ClientRejectsAnUnexpectedServerCertificate) {
    DtlsPair p({}, {}, {kWrongFingerprint}, {});
    p.handshake();
    ASSERT_TRUE(p.client.failure().has_value());
    EXPECT_EQ(*p.client.failure(), DtlsFailure::fingerprint_mismatch);
    EXPECT_FALSE(p.client.connected());
    EXPECT_FALSE(p.client.take_connected());
    EXPECT_FALSE(p.server.connected());
    EXPECT_FALSE(p.server.take_connected());
    EXPECT_FALSE(p.client.next_timeout().has_value());
}

TEST(DtlsEndpoint, NoExpectedFingerprintMeansNoConnection) {
    auto client_cert = make_certificate("c");
    auto server_cert = make_certificate("s");
    DtlsEndpoint client(DtlsRole::client, client_cert, {});
    DtlsEndpoint server(DtlsRole::server, server_cert, {client_cert.sha256_fingerprint()});
    auto now = loop::TimePoint{} + 5s;
    client.start(now);
    for (int i = 0; i < 10; ++i) {
        for (auto& d : client.take_datagrams())
            server.on_datagram(d, now);
        for (auto& d : server.take_datagrams())
            client.on_datagram(d, now);
    }
    EXPECT_EQ(client.failure(), DtlsFailure::fingerprint_mismatch);
    EXPECT_FALSE(client.take_connected());
}

TEST(DtlsEndpoint, ClientOfferingOnlyAesCmGetsAesCm) {
    DtlsOptions client_options;
    client_options.srtp_profiles = "SRTP_AES128_CM_SHA1_80";
    DtlsPair p(client_options);
    p.handshake();
    auto c = p.client.take_connected();
    auto s = p.server.take_connected();
    ASSERT_TRUE(c && s);
    EXPECT_EQ(c->profile, SrtpProfile::aes128_cm_sha1_80);
    EXPECT_EQ(s->profile, SrtpProfile::aes128_cm_sha1_80);
    EXPECT_EQ(c->keys.local_key_salt.size(), 30u);
    EXPECT_EQ(c->keys.local_key_salt, s->keys.remote_key_salt);
    EXPECT_EQ(c->keys.remote_key_salt, s->keys.local_key_salt);
    expect_srtp_flows(*c, *s);
    expect_srtp_flows(*s, *c);
}

TEST(DtlsEndpoint, ServerPreferenceDecides) {
    // The client prefers AES-CM, the server (ours) prefers GCM: the server's order wins.
    DtlsOptions client_options;
    client_options.srtp_profiles = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM";
    DtlsPair p(client_options);
    p.handshake();
    auto c = p.client.take_connected();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->profile, SrtpProfile::aead_aes_128_gcm);
}

TEST(DtlsEndpoint, NoCommonSrtpProfileFails) {
    DtlsOptions client_options, server_options;
    client_options.srtp_profiles = "SRTP_AEAD_AES_128_GCM";
    server_options.srtp_profiles = "SRTP_AES128_CM_SHA1_80";
    DtlsPair p(client_options, server_options);
    p.handshake();
    EXPECT_FALSE(p.client.take_connected());
    EXPECT_FALSE(p.server.take_connected());
    EXPECT_EQ(p.client.failure(), DtlsFailure::handshake_failed);
    EXPECT_EQ(p.server.failure(), DtlsFailure::handshake_failed);
}

TEST(DtlsEndpoint, BadProfileListFailsAtConstruction) {
    auto cert = make_certificate("x");
    DtlsOptions options;
    options.srtp_profiles = "SRTP_NOT_A_PROFILE";
    DtlsEndpoint e(DtlsRole::client, cert, {cert.sha256_fingerprint()}, options);
    EXPECT_EQ(e.failure(), DtlsFailure::handshake_failed);
    e.start(loop::TimePoint{});
    EXPECT_TRUE(e.take_datagrams().empty());
    EXPECT_FALSE(e.next_timeout());
    e.on_datagram(std::vector<uint8_t>{22, 0xfe, 0xfd}, loop::TimePoint{});
    e.on_timeout(loop::TimePoint{} + 1h);
    e.close();
    EXPECT_FALSE(e.connected());
}

TEST(DtlsEndpoint, DroppedFirstFlightIsRetransmitted) {
    DtlsOptions fast;
    fast.initial_retransmit = 50ms;
    DtlsPair p(fast, fast);
    p.client.start(p.now);
    Datagrams hello = p.take(p.client, 1200);
    ASSERT_FALSE(hello.empty()); // dropped on the floor

    ASSERT_TRUE(p.client.next_timeout().has_value());
    EXPECT_LE(*p.client.next_timeout() - p.now, 50ms);
    // Before the deadline nothing happens, whatever the real clock says.
    std::this_thread::sleep_for(60ms);
    p.client.on_timeout(p.now);
    EXPECT_TRUE(p.client.take_datagrams().empty());
    EXPECT_EQ(p.client.retransmissions(), 0u);

    wait_for_deadline(p.client, p.now);
    p.client.on_timeout(p.now);
    EXPECT_EQ(p.client.retransmissions(), 1u);
    Datagrams again = p.take(p.client, 1200);
    ASSERT_FALSE(again.empty());
    // RFC 6347 §4.2.4.1: the timer doubled.
    ASSERT_TRUE(p.client.next_timeout().has_value());
    EXPECT_GT(*p.client.next_timeout() - p.now, 60ms); // 100 ms minus any stall

    for (const auto& d : again)
        p.server.on_datagram(d, p.now);
    p.shuttle();
    EXPECT_TRUE(p.client.connected());
    EXPECT_TRUE(p.server.connected());
    EXPECT_TRUE(p.client.take_connected() && p.server.take_connected());
}

TEST(DtlsEndpoint, DroppedServerFlightIsRetransmitted) {
    DtlsOptions fast;
    fast.initial_retransmit = 20ms;
    DtlsPair p(fast, fast);
    p.client.start(p.now);
    for (const auto& d : p.take(p.client, 1200))
        p.server.on_datagram(d, p.now);
    Datagrams lost = p.take(p.server, 1200); // ServerHello .. ServerHelloDone, lost
    ASSERT_FALSE(lost.empty());
    ASSERT_TRUE(p.server.next_timeout().has_value());

    wait_for_deadline(p.server, p.now);
    p.server.on_timeout(p.now);
    EXPECT_EQ(p.server.retransmissions(), 1u);
    Datagrams resent = p.take(p.server, 1200);
    ASSERT_FALSE(resent.empty());
    for (const auto& d : resent)
        p.client.on_datagram(d, p.now);
    p.shuttle();
    EXPECT_TRUE(p.client.connected());
    EXPECT_TRUE(p.server.connected());
}

TEST(DtlsEndpoint, LostFinalFlightIsRecoveredByTheClient) {
    // RFC 6347 §4.2.4: the server's last flight (ChangeCipherSpec, Finished) is lost; the
    // client's timer retransmits its own flight, and the already-connected server answers it.
    DtlsOptions fast;
    fast.initial_retransmit = 20ms;
    DtlsPair p(fast, fast);
    p.client.start(p.now);
    for (const auto& d : p.take(p.client, 1200))
        p.server.on_datagram(d, p.now);
    for (const auto& d : p.take(p.server, 1200))
        p.client.on_datagram(d, p.now);
    for (const auto& d : p.take(p.client, 1200))
        p.server.on_datagram(d, p.now);
    ASSERT_TRUE(p.server.connected());
    EXPECT_FALSE(p.take(p.server, 1200).empty()); // lost
    EXPECT_FALSE(p.client.connected());

    wait_for_deadline(p.client, p.now);
    p.client.on_timeout(p.now);
    EXPECT_EQ(p.client.retransmissions(), 1u);
    p.shuttle();
    EXPECT_TRUE(p.client.connected());
    auto c = p.client.take_connected();
    auto s = p.server.take_connected();
    ASSERT_TRUE(c && s);
    EXPECT_EQ(c->keys.local_key_salt, s->keys.remote_key_salt);
}

TEST(DtlsEndpoint, PackedDatagramsAreAccepted) {
    // Peers may put a whole flight, or a stale record followed by a new flight, into one
    // datagram (RFC 6347 §4.1.1); every record in it is processed.
    DtlsOptions fast;
    fast.initial_retransmit = 20ms;
    DtlsPair p(fast, fast);
    auto packed = [](const Datagrams& ds) {
        std::vector<uint8_t> all;
        for (const auto& d : ds)
            all.insert(all.end(), d.begin(), d.end());
        return all;
    };
    p.client.start(p.now);
    p.server.on_datagram(packed(p.take(p.client, 1200)), p.now);
    (void)p.take(p.server, 1200); // server flight lost: both timers run out
    std::this_thread::sleep_for(30ms);
    p.now = std::max(*p.server.next_timeout(), *p.client.next_timeout());
    p.server.on_timeout(p.now);
    // The client's real-clock timer has expired too, so while reading the server's flight
    // OpenSSL also retransmits the ClientHello: the next client datagram is
    // [old ClientHello][Certificate]...[Finished].
    p.client.on_datagram(packed(p.take(p.server, 1200)), p.now);
    Datagrams flight = p.take(p.client, 1200);
    ASSERT_GE(flight.size(), 2u);
    ASSERT_EQ(flight[0][0], 22); // handshake record
    ASSERT_EQ(flight[0][13], 1); // ClientHello (RFC 6347 §4.2.2 handshake header)
    p.server.on_datagram(packed(flight), p.now);
    p.client.on_datagram(packed(p.take(p.server, 1200)), p.now);
    EXPECT_TRUE(p.server.connected());
    EXPECT_TRUE(p.client.connected());
}

TEST(DtlsEndpoint, ForgedProtectedRecordsDoNotEndTheAssociation) {
    // Anyone who can spoof the 5-tuple can send records with the current epoch; too short for
    // the AEAD (OpenSSL would answer with a fatal alert) or simply unauthenticated, they must
    // be discarded (RFC 6347 §4.1.2.7).
    DtlsPair p;
    p.handshake();
    ASSERT_TRUE(p.client.connected() && p.server.connected());
    for (uint8_t type : {20, 21, 22, 23}) {
        for (size_t body = 0; body < 64; ++body) {
            std::vector<uint8_t> r(13 + body, 0x5a);
            r[0] = type;
            r[1] = 0xfe;
            r[2] = 0xfd;
            r[3] = 0;
            r[4] = 1; // current epoch
            std::fill(r.begin() + 5, r.begin() + 11, uint8_t{0});
            r[10] = uint8_t(body + 7); // a fresh sequence number
            r[11] = 0;
            r[12] = uint8_t(body);
            p.client.on_datagram(r, p.now);
            p.server.on_datagram(r, p.now);
        }
    }
    EXPECT_TRUE(p.client.take_datagrams().empty()); // no alert went out
    EXPECT_TRUE(p.server.take_datagrams().empty());
    EXPECT_FALSE(p.client.peer_closed());
    EXPECT_FALSE(p.server.peer_closed());
    // And the association still works: a real close_notify still gets through.
    p.server.close();
    for (const auto& d : p.take(p.server, 1200))
        p.client.on_datagram(d, p.now);
    EXPECT_TRUE(p.client.peer_closed());
}

TEST(DtlsEndpoint, GivesUpAfterBoundedRetransmissions) {
    DtlsOptions fast;
    fast.initial_retransmit = 5ms;
    fast.max_retransmits = 3;
    DtlsPair p(fast, fast);
    p.client.start(p.now);
    EXPECT_FALSE(p.take(p.client, 1200).empty());
    int rounds = 0;
    while (!p.client.failure() && rounds++ < 10) {
        wait_for_deadline(p.client, p.now);
        p.client.on_timeout(p.now);
        (void)p.take(p.client, 1200); // every retransmission is lost
    }
    ASSERT_TRUE(p.client.failure().has_value());
    EXPECT_EQ(*p.client.failure(), DtlsFailure::timeout);
    EXPECT_EQ(p.client.retransmissions(), 3u);
    EXPECT_FALSE(p.client.next_timeout().has_value());
    EXPECT_FALSE(p.client.take_connected());
}

TEST(DtlsEndpoint, CloseNotifyReachesThePeer) {
    DtlsPair p;
    p.handshake();
    ASSERT_TRUE(p.client.connected() && p.server.connected());
    p.server.close();
    Datagrams bye = p.take(p.server, 1200);
    ASSERT_EQ(bye.size(), 1u);
    EXPECT_EQ(bye[0][0], 21); // alert record
    EXPECT_FALSE(p.client.peer_closed());
    p.client.on_datagram(bye[0], p.now);
    EXPECT_TRUE(p.client.peer_closed());
    EXPECT_FALSE(p.server.peer_closed());
    // The client answers with its own close_notify (RFC 5246 §7.2.1); the closed server ignores it.
    Datagrams reply = p.take(p.client, 1200);
    EXPECT_EQ(reply.size(), 1u);
    for (const auto& d : reply)
        p.server.on_datagram(d, p.now);
    // Closing twice sends nothing more.
    p.server.close();
    EXPECT_TRUE(p.server.take_datagrams().empty());
}

TEST(DtlsEndpoint, ClientCloseReachesTheServer) {
    DtlsPair p;
    p.handshake();
    p.client.close();
    for (const auto& d : p.take(p.client, 1200))
        p.server.on_datagram(d, p.now);
    EXPECT_TRUE(p.server.peer_closed());
    EXPECT_FALSE(p.client.next_timeout().has_value());
}

TEST(DtlsEndpoint, CloseBeforeConnectingSendsNothing) {
    DtlsPair p;
    p.client.start(p.now);
    (void)p.client.take_datagrams();
    p.client.close();
    EXPECT_TRUE(p.client.take_datagrams().empty());
    EXPECT_FALSE(p.client.next_timeout().has_value());
}

std::vector<uint8_t> pseudo_random(uint32_t& x, size_t n) {
    std::vector<uint8_t> out(n);
    for (auto& b : out) {
        x = x * 1664525u + 1013904223u;
        b = uint8_t(x >> 24);
    }
    return out;
}

TEST(DtlsEndpoint, GarbageBeforeTheHandshakeIsHarmless) {
    DtlsPair p;
    uint32_t x = 7;
    for (int i = 0; i < 300; ++i) {
        auto g = pseudo_random(x, size_t(1 + i % 300));
        if (i % 3 == 0 && g.size() >= 13) { // plausible DTLS 1.2 record header, garbage body
            g[0] = uint8_t(20 + i % 4);
            g[1] = 0xfe;
            g[2] = 0xfd;
            g[3] = g[4] = 0;
            g[11] = uint8_t((g.size() - 13) >> 8);
            g[12] = uint8_t(g.size() - 13);
        }
        p.server.on_datagram(g, p.now);
        p.client.on_datagram(g, p.now); // before start(): ignored
        EXPECT_FALSE(p.server.connected());
        EXPECT_FALSE(p.client.connected());
        for (const auto& d : p.server.take_datagrams())
            EXPECT_LE(d.size(), 1200u);
    }
    EXPECT_TRUE(p.client.take_datagrams().empty());
    EXPECT_FALSE(p.client.failure());
}

TEST(DtlsEndpoint, GarbageDuringAndAfterTheHandshakeIsDropped) {
    DtlsPair p;
    uint32_t x = 99;
    p.client.start(p.now);
    // Garbage interleaved with the real flights: the handshake still completes.
    for (int round = 0; round < 20; ++round) {
        p.now += 1ms;
        for (const auto& d : p.take(p.client, 1200)) {
            p.server.on_datagram(pseudo_random(x, 60), p.now);
            p.server.on_datagram(d, p.now);
        }
        for (const auto& d : p.take(p.server, 1200)) {
            p.client.on_datagram(pseudo_random(x, 60), p.now);
            p.client.on_datagram(d, p.now);
        }
    }
    ASSERT_TRUE(p.client.connected());
    ASSERT_TRUE(p.server.connected());
    // After the handshake: random bytes and forged epoch-0/epoch-1 alert records.
    for (int i = 0; i < 200; ++i) {
        auto g = pseudo_random(x, size_t(13 + i % 100));
        g[0] = (i % 2) ? 21 : 23; // alert or application data
        g[1] = 0xfe;
        g[2] = 0xfd;
        g[3] = 0;
        g[4] = uint8_t(i % 3); // epochs 0, 1, 2
        g[11] = uint8_t((g.size() - 13) >> 8);
        g[12] = uint8_t(g.size() - 13);
        p.client.on_datagram(g, p.now);
        p.server.on_datagram(g, p.now);
    }
    EXPECT_TRUE(p.client.connected());
    EXPECT_TRUE(p.server.connected());
    EXPECT_FALSE(p.client.peer_closed());
    EXPECT_FALSE(p.server.peer_closed());
    EXPECT_FALSE(p.client.failure());
    EXPECT_TRUE(p.client.take_connected().has_value());
}

TEST(DtlsEndpoint, SmallMtuFragmentsButConnects) {
    DtlsOptions small;
    small.mtu = 300;
    DtlsPair p(small, small);
    p.handshake();
    EXPECT_TRUE(p.client.connected());
    EXPECT_TRUE(p.server.connected());
    EXPECT_LE(p.largest, 300u);
}

TEST(DtlsEndpoint, ServerWaitsSilentlyForTheClientHello) {
    DtlsPair p;
    p.server.start(p.now);
    EXPECT_TRUE(p.server.take_datagrams().empty());
    EXPECT_FALSE(p.server.next_timeout().has_value());
    p.server.on_timeout(p.now + 1h);
    EXPECT_FALSE(p.server.failure());
    EXPECT_EQ(p.server.role(), DtlsRole::server);
}

TEST(DtlsEndpoint, MovedEndpointKeepsWorking) {
    DtlsPair p;
    p.client.start(p.now);
    DtlsEndpoint moved = std::move(p.client);
    for (int i = 0; i < 10; ++i) {
        for (const auto& d : moved.take_datagrams())
            p.server.on_datagram(d, p.now);
        for (const auto& d : p.server.take_datagrams())
            moved.on_datagram(d, p.now);
    }
    EXPECT_TRUE(moved.connected());
    EXPECT_TRUE(p.server.connected());
}

} // namespace
} // namespace wabridge::rtc

#include "net/tls/test_pki.hpp"
#include "wabridge/net/tls/tls_client.hpp"

#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <string>

namespace wabridge::tls {
namespace {

using namespace wabridge::tls::testing;

// An OpenSSL server over memory BIOs, driven by the test.
struct Server {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL* ssl = nullptr;
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    std::string received;

    Server(X509* cert, EVP_PKEY* key) {
        SSL_CTX_use_certificate(ctx, cert);
        SSL_CTX_use_PrivateKey(ctx, key);
        ssl = SSL_new(ctx);
        BIO_set_mem_eof_return(in, -1);
        SSL_set_bio(ssl, in, out);
        SSL_set_accept_state(ssl);
    }
    ~Server() {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    void feed(const std::vector<uint8_t>& bytes) {
        if (!bytes.empty()) BIO_write(in, bytes.data(), static_cast<int>(bytes.size()));
        SSL_do_handshake(ssl);
        char buf[4096];
        size_t n = 0;
        while (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1)
            received.append(buf, n);
    }
    std::vector<uint8_t> output() {
        std::vector<uint8_t> v(static_cast<size_t>(BIO_ctrl_pending(out)));
        if (!v.empty()) BIO_read(out, v.data(), static_cast<int>(v.size()));
        return v;
    }
    void send(const std::string& text) {
        size_t n = 0;
        SSL_write_ex(ssl, text.data(), text.size(), &n);
    }
};

void exchange(TlsClient& client, Server& server, int rounds = 6) {
    for (int i = 0; i < rounds; ++i) {
        server.feed(client.take_output());
        client.on_bytes(server.output());
    }
}

struct TlsClientWithPki : ::testing::Test {
    Key ca_key = ec_key(), server_key = ec_key();
    Cert ca = make_cert(ca_key.get(), "wabridge test CA", nullptr, nullptr, nullptr, 1);
    Cert server = make_cert(server_key.get(), "fake openai", ca.get(), ca_key.get(),
                            "DNS:localhost,IP:127.0.0.1", 2);
    std::string ca_file;

    void SetUp() override {
        char name[] = "/tmp/wabridge-ca-XXXXXX";
        int fd = mkstemp(name);
        ASSERT_GE(fd, 0);
        ::close(fd);
        ca_file = name;
        std::ofstream(ca_file) << pem(ca.get());
    }
    void TearDown() override { std::remove(ca_file.c_str()); }

    TlsClient client(const std::string& host, const std::string& ca) {
        return std::move(TlsClient::create({host, ca, true}).value());
    }
};

TEST_F(TlsClientWithPki, HandshakeThenApplicationDataBothWays) {
    for (const char* host : {"localhost", "127.0.0.1"}) {
        SCOPED_TRACE(host);
        Server srv(server.get(), server_key.get());
        TlsClient c = client(host, ca_file);
        const std::string hello = "GET /v1/realtime HTTP/1.1\r\n\r\n";
        c.write(std::span(reinterpret_cast<const uint8_t*>(hello.data()), hello.size()));
        EXPECT_EQ(c.pending_plaintext(), hello.size()); // held until the handshake is done
        c.start();
        exchange(c, srv);
        ASSERT_TRUE(c.connected()) << c.failure().value_or("");
        EXPECT_EQ(srv.received, hello);
        EXPECT_EQ(c.pending_plaintext(), 0u);
        srv.send("HTTP/1.1 101 Switching Protocols\r\n\r\n");
        c.on_bytes(srv.output());
        auto got = c.take_plaintext();
        EXPECT_EQ(std::string(got.begin(), got.end()), "HTTP/1.1 101 Switching Protocols\r\n\r\n");
        EXPECT_TRUE(c.take_plaintext().empty());
        // close_notify from the server.
        SSL_shutdown(srv.ssl);
        c.on_bytes(srv.output());
        EXPECT_TRUE(c.peer_closed());
    }
}

TEST_F(TlsClientWithPki, WrongHostNameFailsVerification) {
    Server srv(server.get(), server_key.get());
    TlsClient c = client("api.openai.com", ca_file);
    c.start();
    exchange(c, srv);
    EXPECT_FALSE(c.connected());
    ASSERT_TRUE(c.failure());
    EXPECT_NE(c.failure()->find("certificate verification failed"), std::string::npos)
        << *c.failure();
    EXPECT_NE(c.failure()->find("hostname mismatch"), std::string::npos) << *c.failure();
}

TEST_F(TlsClientWithPki, UnknownCaFailsAgainstTheSystemStore) {
    Server srv(server.get(), server_key.get());
    TlsClient c = client("localhost", ""); // system CAs do not include our test CA
    c.start();
    exchange(c, srv);
    EXPECT_FALSE(c.connected());
    ASSERT_TRUE(c.failure());
    EXPECT_NE(c.failure()->find("certificate verification failed"), std::string::npos)
        << *c.failure();
}

TEST_F(TlsClientWithPki, WrongIpLiteralFails) {
    Server srv(server.get(), server_key.get());
    TlsClient c = client("127.0.0.2", ca_file);
    c.start();
    exchange(c, srv);
    EXPECT_FALSE(c.connected());
    ASSERT_TRUE(c.failure());
}

TEST(TlsClient, UnreadableCaFileIsAnError) {
    auto c = TlsClient::create({"localhost", "/nonexistent/ca.pem", true});
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().find("/nonexistent/ca.pem"), std::string::npos) << c.error();
}

TEST_F(TlsClientWithPki, GarbageFromThePeerFailsCleanly) {
    TlsClient c = client("localhost", ca_file);
    c.start();
    EXPECT_FALSE(c.take_output().empty()); // the ClientHello
    const std::vector<uint8_t> junk(100, 0x42);
    c.on_bytes(junk);
    EXPECT_FALSE(c.connected());
    EXPECT_TRUE(c.failure());
    c.on_bytes(junk); // ignored after the failure
}

} // namespace
} // namespace wabridge::tls

#include "wabridge/net/tls/tls_client.hpp"

#include "wabridge/crypto/openssl.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace wabridge::tls {

namespace {

struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};

bool is_ip_literal(const std::string& host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

} // namespace

struct TlsClient::State {
    std::unique_ptr<SSL_CTX, CtxFree> ctx;
    std::unique_ptr<SSL, SslFree> ssl; // owns both BIOs
    BIO* in = nullptr;                 // network → OpenSSL
    BIO* out = nullptr;                // OpenSSL → network
    std::vector<uint8_t> pending;      // plaintext waiting for the handshake
    std::vector<uint8_t> plaintext;
    std::optional<std::string> failure;
    bool started = false, connected = false, peer_closed = false, closing = false;
};

Result<TlsClient, std::string> TlsClient::create(const TlsClientOptions& options) {
    auto s = std::make_unique<State>();
    s->ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!s->ctx) return err("SSL_CTX_new: " + openssl::last_error());
    SSL_CTX_set_min_proto_version(s->ctx.get(), TLS1_2_VERSION);
    if (options.verify_peer) {
        SSL_CTX_set_verify(s->ctx.get(), SSL_VERIFY_PEER, nullptr);
        const int loaded =
            options.ca_file.empty()
                ? SSL_CTX_set_default_verify_paths(s->ctx.get())
                : SSL_CTX_load_verify_locations(s->ctx.get(), options.ca_file.c_str(), nullptr);
        if (loaded != 1) {
            return err("cannot load CA certificates" +
                       (options.ca_file.empty() ? std::string() : " from " + options.ca_file) +
                       ": " + openssl::last_error());
        }
    }
    s->ssl.reset(SSL_new(s->ctx.get()));
    if (!s->ssl) return err("SSL_new: " + openssl::last_error());
    s->in = BIO_new(BIO_s_mem());
    s->out = BIO_new(BIO_s_mem());
    if (!s->in || !s->out) {
        BIO_free(s->in);
        BIO_free(s->out);
        return err("BIO_new: " + openssl::last_error());
    }
    BIO_set_mem_eof_return(s->in, -1); // an empty input BIO means "wait", not EOF
    SSL_set_bio(s->ssl.get(), s->in, s->out);
    SSL_set_connect_state(s->ssl.get());
    if (options.verify_peer && !options.server_name.empty()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(s->ssl.get());
        // RFC 6125 §6.4: no partial wildcards such as f*.example.com.
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        const int ok = is_ip_literal(options.server_name)
                           ? X509_VERIFY_PARAM_set1_ip_asc(param, options.server_name.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, options.server_name.c_str(), 0);
        if (ok != 1) return err("bad server name: " + openssl::last_error());
    }
    // RFC 6066 §3: SNI carries a host name, never an IP literal.
    if (!options.server_name.empty() && !is_ip_literal(options.server_name))
        SSL_set_tlsext_host_name(s->ssl.get(), options.server_name.c_str());
    return TlsClient(std::move(s));
}

TlsClient::TlsClient(std::unique_ptr<State> state)
    : s_(std::move(state)) {}
TlsClient::TlsClient(TlsClient&&) noexcept = default;
TlsClient& TlsClient::operator=(TlsClient&&) noexcept = default;
TlsClient::~TlsClient() = default;

void TlsClient::start() {
    if (s_->started) return;
    s_->started = true;
    pump();
}

void TlsClient::on_bytes(std::span<const uint8_t> ciphertext) {
    if (s_->failure || ciphertext.empty()) return;
    BIO_write(s_->in, ciphertext.data(), static_cast<int>(ciphertext.size()));
    pump();
}

void TlsClient::write(std::span<const uint8_t> plaintext) {
    if (s_->failure || s_->closing) return;
    s_->pending.insert(s_->pending.end(), plaintext.begin(), plaintext.end());
    pump();
}

void TlsClient::close() {
    if (s_->closing || s_->failure) return;
    s_->closing = true;
    if (s_->connected) SSL_shutdown(s_->ssl.get());
    s_->pending.clear();
}

// Drives the handshake, encrypts pending plaintext and decrypts whatever arrived.
void TlsClient::pump() {
    if (!s_->started || s_->failure) return;
    SSL* ssl = s_->ssl.get();
    if (!s_->connected) {
        const int r = SSL_do_handshake(ssl);
        if (r == 1) {
            s_->connected = true;
        } else {
            const int e = SSL_get_error(ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                const long verify = SSL_get_verify_result(ssl);
                s_->failure = verify != X509_V_OK
                                  ? std::string("certificate verification failed: ") +
                                        X509_verify_cert_error_string(verify)
                                  : "TLS handshake failed: " + openssl::last_error();
                return;
            }
        }
    }
    if (!s_->connected) return;
    if (!s_->pending.empty() && !s_->closing) {
        size_t written = 0;
        const int r = SSL_write_ex(ssl, s_->pending.data(), s_->pending.size(), &written);
        if (r == 1) {
            s_->pending.erase(s_->pending.begin(),
                              s_->pending.begin() + static_cast<long>(written));
        } else {
            const int e = SSL_get_error(ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                s_->failure = "TLS write failed: " + openssl::last_error();
                return;
            }
        }
    }
    uint8_t buf[16384];
    while (true) {
        size_t n = 0;
        const int r = SSL_read_ex(ssl, buf, sizeof buf, &n);
        if (r == 1) {
            s_->plaintext.insert(s_->plaintext.end(), buf, buf + n);
            continue;
        }
        const int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_ZERO_RETURN) {
            s_->peer_closed = true;
        } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            s_->failure = "TLS read failed: " + openssl::last_error();
        }
        break;
    }
}

std::vector<uint8_t> TlsClient::take_output() {
    std::vector<uint8_t> out(static_cast<size_t>(BIO_ctrl_pending(s_->out)));
    if (!out.empty()) {
        const int n = BIO_read(s_->out, out.data(), static_cast<int>(out.size()));
        out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    return out;
}

std::vector<uint8_t> TlsClient::take_plaintext() {
    return std::exchange(s_->plaintext, {});
}

bool TlsClient::connected() const {
    return s_->connected && !s_->failure;
}
bool TlsClient::peer_closed() const {
    return s_->peer_closed;
}
const std::optional<std::string>& TlsClient::failure() const {
    return s_->failure;
}
size_t TlsClient::pending_plaintext() const {
    return s_->pending.size();
}

} // namespace wabridge::tls

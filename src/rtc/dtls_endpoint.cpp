#include "wabridge/rtc/dtls_endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace wabridge::rtc {

namespace {

struct SslCtxFree {
    void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
    void operator()(SSL* p) const { SSL_free(p); }
};

// RFC 6347 §4.1: type(1) version(2) epoch(2) sequence_number(6) length(2).
constexpr size_t kRecordHeaderSize = 13;
// RFC 6347 §4.2.4.1: the timer doubles up to at least 60 seconds.
constexpr unsigned kMaxTimerUs = 60'000'000;
// RFC 5764 §4.2.
constexpr char kExporterLabel[] = "EXTRACTOR-dtls_srtp";

// ECDHE with AEAD only (RFC 5289 AES-GCM, RFC 7905 ChaCha20-Poly1305), ECDSA first (ours is a
// P-256 certificate, so a server run of ours always picks those). The ECDHE-RSA suites are
// offered only so that, as a client, we can still talk to a peer with an RSA certificate.
// No CBC suites: OpenSSL 3.0 answers a CBC record with a bad MAC (as anyone can forge) with a
// fatal alert instead of discarding it as RFC 6347 §4.1.2.7 asks, which would let one spoofed
// datagram end the call.
constexpr char kCipherList[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                               "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
                               "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

// RFC 6347 §4.1 / RFC 5246 §6.2.3: a protected record carries at most 2^14 + 2048 bytes.
constexpr size_t kMaxRecordBody = 16384 + 2048;

std::string normalise_fingerprint(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

void wipe(std::vector<uint8_t>& bytes) {
    volatile uint8_t* p = bytes.data();
    for (size_t i = 0; i < bytes.size(); ++i)
        p[i] = 0;
}

} // namespace

std::string_view to_string(DtlsFailure failure) {
    switch (failure) {
    case DtlsFailure::fingerprint_mismatch:
        return "fingerprint_mismatch";
    case DtlsFailure::handshake_failed:
        return "handshake_failed";
    case DtlsFailure::timeout:
        return "timeout";
    }
    return "handshake_failed";
}

struct DtlsEndpoint::Impl {
    DtlsRole role;
    DtlsOptions options;
    std::vector<std::string> expected; // normalised upper-case fingerprints

    std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
    std::unique_ptr<SSL, SslFree> ssl;
    BIO* rbio = nullptr; // owned by ssl
    BIO* wbio = nullptr; // owned by ssl

    bool started = false;
    bool handshake_done = false;
    bool closed = false;
    bool peer_closed = false;
    bool fingerprint_rejected = false; // set by the verify callback
    std::optional<DtlsFailure> failure;
    std::optional<DtlsConnected> connected_event;
    std::optional<loop::TimePoint> deadline;
    unsigned flight_retransmits = 0;
    unsigned total_retransmits = 0;
    std::vector<uint8_t> outgoing; // whole DTLS records, in order

    Impl(DtlsRole r, std::vector<std::string> fingerprints, DtlsOptions o)
        : role(r)
        , options(std::move(o)) {
        for (auto& f : fingerprints)
            expected.push_back(normalise_fingerprint(f));
    }

    bool fingerprint_matches(X509* cert) const {
        if (!cert) return false;
        auto fp = sha256_fingerprint(cert);
        if (!fp) return false;
        return std::find(expected.begin(), expected.end(), *fp) != expected.end();
    }

    bool setup(const Certificate& cert);
    void fail(DtlsFailure f) {
        if (!failure) failure = f;
        deadline.reset();
    }
    void collect_output();
    void update_deadline(loop::TimePoint now);
    void drive_handshake();
    void finish_handshake();
    void read_records();
    size_t min_protected_record() const;
    bool plausible(std::span<const uint8_t> record) const;
    void feed(std::span<const uint8_t> record);

    static int verify_callback(int preverify_ok, X509_STORE_CTX* store);
    static unsigned int timer_callback(SSL* ssl, unsigned int timer_us);
};

// Chain validation is replaced by the fingerprint check (RFC 8122 §5, RFC 5763 §5): the
// end-entity certificate (depth 0) must be one the SDP named; anything about the chain itself
// (self-signed, unknown issuer, validity) is accepted.
int DtlsEndpoint::Impl::verify_callback(int, X509_STORE_CTX* store) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* self = ssl ? static_cast<Impl*>(SSL_get_app_data(ssl)) : nullptr;
    if (!self) return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    if (!self->fingerprint_matches(X509_STORE_CTX_get_current_cert(store))) {
        self->fingerprint_rejected = true;
        return 0; // OpenSSL aborts with a bad_certificate alert
    }
    return 1;
}

// RFC 6347 §4.2.4.1: start at options.initial_retransmit, double up to 60 s.
unsigned int DtlsEndpoint::Impl::timer_callback(SSL* ssl, unsigned int timer_us) {
    auto* self = static_cast<Impl*>(SSL_get_app_data(ssl));
    if (timer_us == 0) {
        auto us = self ? std::chrono::duration_cast<std::chrono::microseconds>(
                             self->options.initial_retransmit)
                             .count()
                       : 1'000'000;
        return static_cast<unsigned int>(std::clamp<long long>(us, 1, kMaxTimerUs));
    }
    return timer_us >= kMaxTimerUs / 2 ? kMaxTimerUs : timer_us * 2;
}

bool DtlsEndpoint::Impl::setup(const Certificate& cert) {
    ctx.reset(SSL_CTX_new(DTLS_method()));
    if (!ctx) return false;
    // DTLS 1.2 only (RFC 6347); 1.0 is obsolete (RFC 8996).
    if (SSL_CTX_set_min_proto_version(ctx.get(), DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx.get(), DTLS1_2_VERSION) != 1) {
        return false;
    }
    if (SSL_CTX_use_certificate(ctx.get(), cert.x509()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx.get(), cert.key()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
        return false;
    }
    if (SSL_CTX_set_cipher_list(ctx.get(), kCipherList) != 1) return false;
    // RFC 5764 §4.1.1 use_srtp extension. Note: returns 0 on success.
    if (SSL_CTX_set_tlsext_use_srtp(ctx.get(), options.srtp_profiles.c_str()) != 0) return false;
    // Mutual authentication (RFC 5763 §5): the server asks for the client's certificate too.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       &Impl::verify_callback);
    // One full handshake per call: no resumption (which would skip the certificate and so the
    // fingerprint check), no renegotiation, no MTU probing on a memory BIO.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                       SSL_OP_NO_QUERY_MTU | SSL_OP_CIPHER_SERVER_PREFERENCE);

    ssl.reset(SSL_new(ctx.get()));
    if (!ssl) return false;
    SSL_set_app_data(ssl.get(), this);
    rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(BIO_s_mem());
    if (!rbio || !wbio) {
        BIO_free(rbio);
        BIO_free(wbio);
        rbio = wbio = nullptr;
        return false;
    }
    // An empty memory BIO reads as "retry later", not end of file.
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(ssl.get(), rbio, wbio);
    const long mtu = static_cast<long>(options.mtu);
    if (DTLS_set_link_mtu(ssl.get(), mtu) != 1 || SSL_set_mtu(ssl.get(), mtu) != mtu) return false;
    DTLS_set_timer_cb(ssl.get(), &Impl::timer_callback);
    if (role == DtlsRole::client) {
        SSL_set_connect_state(ssl.get());
    } else {
        SSL_set_accept_state(ssl.get());
    }
    return true;
}

void DtlsEndpoint::Impl::collect_output() {
    if (!wbio) return;
    char* data = nullptr;
    long len = BIO_get_mem_data(wbio, &data);
    if (len > 0 && data) {
        outgoing.insert(outgoing.end(), reinterpret_cast<uint8_t*>(data),
                        reinterpret_cast<uint8_t*>(data) + len);
    }
    (void)BIO_reset(wbio);
}

void DtlsEndpoint::Impl::update_deadline(loop::TimePoint now) {
    deadline.reset();
    if (failure || closed || peer_closed || !ssl) return;
    timeval tv{};
    if (DTLSv1_get_timeout(ssl.get(), &tv) > 0) {
        deadline = now + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
    }
}

void DtlsEndpoint::Impl::drive_handshake() {
    const OSSL_HANDSHAKE_STATE before = SSL_get_state(ssl.get());
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl.get());
    if (SSL_get_state(ssl.get()) != before) flight_retransmits = 0; // a new flight: progress
    if (r == 1) {
        finish_handshake();
        return;
    }
    const int e = SSL_get_error(ssl.get(), r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    fail(fingerprint_rejected ? DtlsFailure::fingerprint_mismatch : DtlsFailure::handshake_failed);
}

void DtlsEndpoint::Impl::finish_handshake() {
    handshake_done = true;
    // Re-check the certificate the handshake actually used (the verify callback ran on it; this
    // also covers any path where it would not have).
    X509* peer = SSL_get0_peer_certificate(ssl.get());
    if (!peer) return fail(DtlsFailure::handshake_failed);
    auto fp = sha256_fingerprint(peer);
    if (!fp || std::find(expected.begin(), expected.end(), *fp) == expected.end()) {
        return fail(DtlsFailure::fingerprint_mismatch);
    }
    // RFC 5764 §4.1.1: a server that accepted none of our profiles omits use_srtp.
    const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl.get());
    if (!selected) return fail(DtlsFailure::handshake_failed);
    auto profile = srtp_profile_from_id(static_cast<uint16_t>(selected->id));
    if (!profile) return fail(DtlsFailure::handshake_failed);

    // RFC 5764 §4.2: 2 * (key + salt) bytes from the TLS exporter (RFC 5705), no context.
    std::vector<uint8_t> exported(2 * (srtp_key_length(*profile) + srtp_salt_length(*profile)));
    if (SSL_export_keying_material(ssl.get(), exported.data(), exported.size(), kExporterLabel,
                                   sizeof kExporterLabel - 1, nullptr, 0, 0) != 1) {
        return fail(DtlsFailure::handshake_failed);
    }
    DtlsConnected event;
    event.profile = *profile;
    event.keys = split_keying_material(*profile, exported, role == DtlsRole::client);
    event.remote_fingerprint = std::move(*fp);
    wipe(exported);
    connected_event = std::move(event);
}

// After the handshake: DTLS application data is not used by WebRTC audio and is discarded.
// OpenSSL also answers a retransmitted final flight from the peer here (RFC 6347 §4.2.4).
// close_notify, a fatal alert, or any fatal error ends the association (peer_closed).
void DtlsEndpoint::Impl::read_records() {
    uint8_t buf[2048];
    for (;;) {
        ERR_clear_error();
        const int r = SSL_read(ssl.get(), buf, sizeof buf);
        if (r > 0) continue;
        const int e = SSL_get_error(ssl.get(), r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        peer_closed = true;
        if (e == SSL_ERROR_ZERO_RETURN && !closed) {
            // RFC 5246 §7.2.1: answer close_notify with our own.
            ERR_clear_error();
            (void)SSL_shutdown(ssl.get());
        }
        deadline.reset();
        return;
    }
}

// The smallest body a record under the negotiated AEAD can have: the 8-byte explicit nonce and
// 16-byte tag of AES-GCM (RFC 5288 §3), the 16-byte tag of ChaCha20-Poly1305 (RFC 7905 §2).
// Before a suite is known, AES-GCM's 24 (every protected handshake record is longer anyway).
size_t DtlsEndpoint::Impl::min_protected_record() const {
    const SSL_CIPHER* cipher = SSL_get_pending_cipher(ssl.get());
    if (!cipher) cipher = SSL_get_current_cipher(ssl.get());
    if (cipher && SSL_CIPHER_get_cipher_nid(cipher) == NID_chacha20_poly1305) return 16;
    return 24;
}

// Records OpenSSL would treat as fatal although anybody can forge them: a protected record
// (epoch > 0) too short for its AEAD overhead makes OpenSSL 3.0 send a fatal alert, where RFC
// 6347 §4.1.2.7 says invalid records are discarded. Dropping them here keeps one spoofed datagram
// from ending the association; genuine records are never this short.
bool DtlsEndpoint::Impl::plausible(std::span<const uint8_t> record) const {
    const size_t body = record.size() - kRecordHeaderSize;
    const unsigned epoch = (unsigned(record[3]) << 8) | record[4];
    if (body > kMaxRecordBody) return false;
    if (epoch != 0 && body < min_protected_record()) return false;
    return true;
}

// One record at a time: OpenSSL drops the rest of a datagram after some records it ignores
// (e.g. a retransmitted ClientHello packed before a new flight), so each record goes in alone.
void DtlsEndpoint::Impl::feed(std::span<const uint8_t> record) {
    if (BIO_write(rbio, record.data(), static_cast<int>(record.size())) !=
        static_cast<int>(record.size())) {
        (void)BIO_reset(rbio);
        return;
    }
    if (!handshake_done) drive_handshake();
    if (handshake_done && !failure) read_records();
    (void)BIO_reset(rbio); // nothing left over may prefix the next record
}

DtlsEndpoint::DtlsEndpoint(DtlsRole role, const Certificate& cert,
                           std::vector<std::string> expected_remote_sha256, DtlsOptions options)
    : impl_(std::make_unique<Impl>(role, std::move(expected_remote_sha256), std::move(options))) {
    if (!impl_->setup(cert)) {
        impl_->ssl.reset(); // a half-set-up SSL is never used
        impl_->rbio = impl_->wbio = nullptr;
        impl_->fail(DtlsFailure::handshake_failed);
    }
    ERR_clear_error();
}

DtlsEndpoint::DtlsEndpoint(DtlsEndpoint&&) noexcept = default;
DtlsEndpoint& DtlsEndpoint::operator=(DtlsEndpoint&&) noexcept = default;
DtlsEndpoint::~DtlsEndpoint() = default;

DtlsRole DtlsEndpoint::role() const {
    return impl_->role;
}

void DtlsEndpoint::start(loop::TimePoint now) {
    Impl& d = *impl_;
    if (d.started || d.failure || d.closed) return;
    d.started = true;
    if (d.role == DtlsRole::client) d.drive_handshake(); // RFC 6347 §4.2.1 flight 1
    d.collect_output();
    d.update_deadline(now);
    ERR_clear_error();
}

void DtlsEndpoint::on_datagram(std::span<const uint8_t> datagram, loop::TimePoint now) {
    Impl& d = *impl_;
    if (d.failure || d.closed || d.peer_closed || !d.ssl) return;
    // A client speaks first; anything before start() cannot be an answer.
    if (d.role == DtlsRole::client && !d.started) return;
    d.started = true;
    // RFC 6347 §4.1.1: a datagram holds one or more whole records.
    std::span<const uint8_t> rest = datagram;
    while (rest.size() >= kRecordHeaderSize && !d.failure && !d.peer_closed) {
        const size_t size = kRecordHeaderSize + ((size_t(rest[11]) << 8) | rest[12]);
        if (size > rest.size()) break; // truncated: discard the remainder (§4.1.2.7)
        const auto record = rest.first(size);
        rest = rest.subspan(size);
        if (d.plausible(record)) d.feed(record);
    }
    d.collect_output();
    d.update_deadline(now);
    ERR_clear_error();
}

std::vector<std::vector<uint8_t>> DtlsEndpoint::take_datagrams() {
    Impl& d = *impl_;
    std::vector<std::vector<uint8_t>> datagrams;
    // One record per datagram, as OpenSSL itself sends over UDP; it already cut each record to
    // fit the MTU (SSL_set_mtu). RFC 6347 §4.1.1 would allow packing, but OpenSSL peers may
    // drop what follows an ignored record in the same datagram.
    std::span<const uint8_t> rest(d.outgoing);
    while (!rest.empty()) {
        size_t size = rest.size();
        if (rest.size() >= kRecordHeaderSize) {
            size = std::min(rest.size(), kRecordHeaderSize + ((size_t(rest[11]) << 8) | rest[12]));
        }
        datagrams.emplace_back(rest.begin(), rest.begin() + size);
        rest = rest.subspan(size);
    }
    d.outgoing.clear();
    return datagrams;
}

std::optional<loop::TimePoint> DtlsEndpoint::next_timeout() const {
    return impl_->deadline;
}

void DtlsEndpoint::on_timeout(loop::TimePoint now) {
    Impl& d = *impl_;
    if (d.failure || d.closed || !d.deadline || now < *d.deadline) return;
    if (d.flight_retransmits >= d.options.max_retransmits) {
        d.fail(DtlsFailure::timeout);
        return;
    }
    ERR_clear_error();
    const int r = DTLSv1_handle_timeout(d.ssl.get());
    if (r > 0) {
        ++d.flight_retransmits;
        ++d.total_retransmits;
    } else if (r < 0) {
        d.fail(DtlsFailure::timeout); // OpenSSL's own retransmission limit
    }
    // r == 0: OpenSSL's clock says the timer has not expired yet; recompute the deadline.
    d.collect_output();
    d.update_deadline(now);
    ERR_clear_error();
}

void DtlsEndpoint::close() {
    Impl& d = *impl_;
    if (d.closed || !d.ssl) return;
    d.closed = true;
    d.deadline.reset();
    if (d.handshake_done && !d.failure && !d.peer_closed) {
        ERR_clear_error();
        (void)SSL_shutdown(d.ssl.get()); // writes close_notify
        d.collect_output();
        ERR_clear_error();
    }
}

bool DtlsEndpoint::connected() const {
    return impl_->handshake_done && !impl_->failure;
}

std::optional<DtlsConnected> DtlsEndpoint::take_connected() {
    if (impl_->failure) return std::nullopt;
    return std::exchange(impl_->connected_event, std::nullopt);
}

std::optional<DtlsFailure> DtlsEndpoint::failure() const {
    return impl_->failure;
}

bool DtlsEndpoint::peer_closed() const {
    return impl_->peer_closed;
}

unsigned DtlsEndpoint::retransmissions() const {
    return impl_->total_retransmits;
}

} // namespace wabridge::rtc

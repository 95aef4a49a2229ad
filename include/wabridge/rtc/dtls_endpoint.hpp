// DTLS-SRTP key agreement for one call (RFC 5764 over DTLS 1.2, RFC 6347), sans-IO: datagrams
// and `now` in; datagrams to send, one-shot events and the next deadline out. OpenSSL runs over
// memory BIOs; the endpoint owns no socket and never reads a clock.
//
// Identity is the process certificate; the peer is authenticated by the certificate fingerprint
// from its SDP (RFC 8122 §5, RFC 5763 §5), not by a PKI: any self-signed chain is accepted, then
// the end-entity certificate's SHA-256 fingerprint must equal one of `expected_remote_sha256`.
//
// Retransmission (RFC 6347 §4.2.4): OpenSSL keeps its own DTLS timer on the real clock. The
// endpoint records `deadline = now + DTLSv1_get_timeout()` each time it acts and, in on_timeout,
// calls DTLSv1_handle_timeout only once the caller's `now` has reached that deadline; if
// OpenSSL's clock says the timer has not quite expired, nothing is sent and a new, short deadline
// is computed. The initial timer is DtlsOptions::initial_retransmit (installed with
// DTLS_set_timer_cb; doubles on each retransmission up to 60 s), which tests shorten so they only
// wait a few real milliseconds. After max_retransmits retransmissions of the same flight without
// progress, the next expiry fails the endpoint with DtlsFailure::timeout.
#pragma once

#include "wabridge/crypto/certificate.hpp"
#include "wabridge/loop/timer_queue.hpp"
#include "wabridge/rtc/srtp_session.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wabridge::rtc {

enum class DtlsRole { client, server };

// Keys are released only after the handshake finished and the fingerprint matched.
struct DtlsConnected {
    SrtpProfile profile;
    SrtpKeyMaterial keys;           // split for our role (RFC 5764 §4.2)
    std::string remote_fingerprint; // "AB:CD:..." of the peer's certificate
};

enum class DtlsFailure { fingerprint_mismatch, handshake_failed, timeout };
std::string_view to_string(DtlsFailure failure);

struct DtlsOptions {
    // use_srtp profiles offered (client) or accepted in this preference order (server),
    // RFC 5764 §4.1.2 / RFC 7714 §14.2 names joined by ':'.
    std::string srtp_profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
    // Largest datagram handed to take_datagrams(), IP and UDP headers excluded.
    size_t mtu = 1200;
    // First retransmission timer; RFC 6347 §4.2.4.1 recommends 1 s.
    std::chrono::milliseconds initial_retransmit{1000};
    // Retransmissions of one flight before giving up (1+2+4+8+16 s, then failure at ~63 s).
    unsigned max_retransmits = 5;
};

class DtlsEndpoint {
public:
    // The certificate's key and X.509 are shared (reference-counted) with OpenSSL; `cert` need
    // not outlive the endpoint. If OpenSSL cannot be set up (out of memory, a bad profile list
    // in `options`), the endpoint starts in failure() == handshake_failed. A moved-from endpoint
    // may only be destroyed or assigned to.
    DtlsEndpoint(DtlsRole role, const Certificate& cert,
                 std::vector<std::string> expected_remote_sha256, DtlsOptions options = {});
    DtlsEndpoint(DtlsEndpoint&&) noexcept;
    DtlsEndpoint& operator=(DtlsEndpoint&&) noexcept;
    ~DtlsEndpoint();

    DtlsRole role() const;

    // Client: sends the ClientHello (RFC 6347 §4.2.1). Server: nothing to send; it answers the
    // first ClientHello given to on_datagram. Calling it twice has no further effect.
    void start(loop::TimePoint now);
    // One received datagram (already classified as DTLS by the demux), handed to OpenSSL one
    // record at a time. Malformed or truncated records, and protected records too short for
    // the negotiated AEAD, are dropped silently as RFC 6347 §4.1.2.7 asks. Ignored by a client
    // before start(), and after close(), peer_closed() or a failure.
    void on_datagram(std::span<const uint8_t> datagram, loop::TimePoint now);
    // Everything queued for sending: one DTLS record per datagram (as OpenSSL sends over UDP),
    // each at most options.mtu bytes (OpenSSL fragments handshake messages to fit).
    std::vector<std::vector<uint8_t>> take_datagrams();
    // When on_timeout should be called next; nullopt when no timer runs (connected, failed,
    // closed, or a server still waiting for a ClientHello).
    std::optional<loop::TimePoint> next_timeout() const;
    void on_timeout(loop::TimePoint now);
    // Sends close_notify (RFC 5246 §7.2.1) if connected; afterwards input is ignored and no
    // timer runs. Before the handshake completed it sends nothing.
    void close();

    // The handshake completed and the fingerprint matched (stays true after close() and
    // peer_closed(); the keys remain valid until the caller drops them).
    bool connected() const;
    // The keys, once, after the handshake completed and the fingerprint matched.
    std::optional<DtlsConnected> take_connected();
    std::optional<DtlsFailure> failure() const;
    // After the handshake, the association ended from the other side: close_notify (answered
    // with our own), a fatal alert, or a fatal error in OpenSSL.
    bool peer_closed() const;
    // Retransmissions so far (all flights), for metrics.
    unsigned retransmissions() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace wabridge::rtc

// The libsrtp2 adapter: SRTP/SRTCP protection for one direction of a call, keyed from DTLS-SRTP
// (RFC 5764). Everything else in the tree uses libsrtp only through this header.
//
// A call uses two sessions: an outbound one keyed with our write key (protect_*), an inbound one
// keyed with the peer's write key (unprotect_*). Per-packet failures come back as SrtpError for
// the caller to count; nothing here logs.
#pragma once

#include "wabridge/util/result.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct srtp_ctx_t_; // libsrtp's session (srtp_t), kept out of this header

namespace wabridge::rtc {

// The DTLS-SRTP protection profiles we negotiate (RFC 5764 §4.1.2, RFC 7714 §14.2).
enum class SrtpProfile {
    aes128_cm_sha1_80, // SRTP_AES128_CM_SHA1_80 = {0x00, 0x01}: AES-CM, HMAC-SHA1 80-bit tag
    aead_aes_128_gcm,  // SRTP_AEAD_AES_128_GCM  = {0x00, 0x07}: AES-GCM, 128-bit tag
};

// Master key length in bytes: 16 for both.
size_t srtp_key_length(SrtpProfile profile);
// Master salt length in bytes: 14 (RFC 3711 §8.2) or 12 (RFC 7714 §12).
size_t srtp_salt_length(SrtpProfile profile);
// Bytes srtp_protect adds to an RTP packet: the auth tag, 10 or 16 (no MKI).
size_t srtp_rtp_overhead(SrtpProfile profile);
// Bytes added to an RTCP packet: the 4-byte E flag + SRTCP index and the tag, 14 or 20.
size_t srtcp_overhead(SrtpProfile profile);
// The DTLS use_srtp profile name ("SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM").
std::string_view srtp_profile_name(SrtpProfile profile);
// The two-byte profile id (0x0001, 0x0007).
uint16_t srtp_profile_id(SrtpProfile profile);
// The profile for a use_srtp id, if it is one we support.
std::optional<SrtpProfile> srtp_profile_from_id(uint16_t id);

// Master key || master salt for each direction.
struct SrtpKeyMaterial {
    std::vector<uint8_t> local_key_salt;  // protects what we send
    std::vector<uint8_t> remote_key_salt; // unprotects what we receive
};

// RFC 5764 §4.2: the exporter output is
//   client_write_SRTP_master_key | server_write_SRTP_master_key |
//   client_write_SRTP_master_salt | server_write_SRTP_master_salt
// and the client sends with the client_write values. `exported` must be exactly
// 2 * (key + salt) bytes; any other size yields two empty vectors (which create() refuses).
SrtpKeyMaterial split_keying_material(SrtpProfile profile, std::span<const uint8_t> exported,
                                      bool we_are_client);

enum class SrtpError {
    auth_fail,   // tag mismatch (forged, corrupted or keyed differently)
    replay_fail, // RFC 3711 §3.3.2: index already seen or older than the replay window
    bad_packet,  // not a well-formed RTP/RTCP packet, or too short for the SRTP trailer
    no_room,     // protect: the buffer cannot hold the trailer
    other,       // anything else libsrtp reports
};
std::string_view to_string(SrtpError error);

class SrtpSession {
public:
    // key_salt = master key || master salt (srtp_key_length + srtp_salt_length bytes).
    // `outbound` sessions protect any SSRC we send (ssrc_any_outbound); inbound sessions
    // unprotect any SSRC (ssrc_any_inbound), each with its own replay window of 1024 packets.
    // Returns a one-line reason on failure (wrong key size, libsrtp refused).
    static Result<SrtpSession, std::string>
    create(SrtpProfile profile, std::span<const uint8_t> key_salt, bool outbound);

    SrtpSession(SrtpSession&&) noexcept;
    SrtpSession& operator=(SrtpSession&&) noexcept;
    ~SrtpSession();

    SrtpProfile profile() const { return profile_; }
    bool outbound() const { return outbound_; }

    // In place: `buffer[0, length)` holds the packet; the result is the new length. Protect
    // needs buffer.size() >= length + srtp_rtp_overhead / srtcp_overhead. After a failure the
    // buffer's contents are unspecified (AEAD decrypts in place before the tag check fails).
    Result<size_t, SrtpError> protect_rtp(std::span<uint8_t> buffer, size_t length);
    Result<size_t, SrtpError> unprotect_rtp(std::span<uint8_t> buffer, size_t length);
    Result<size_t, SrtpError> protect_rtcp(std::span<uint8_t> buffer, size_t length);
    Result<size_t, SrtpError> unprotect_rtcp(std::span<uint8_t> buffer, size_t length);

private:
    struct Free {
        void operator()(srtp_ctx_t_* session) const;
    };
    SrtpSession(SrtpProfile profile, bool outbound, std::unique_ptr<srtp_ctx_t_, Free> session)
        : profile_(profile)
        , outbound_(outbound)
        , session_(std::move(session)) {}

    SrtpProfile profile_;
    bool outbound_;
    std::unique_ptr<srtp_ctx_t_, Free> session_;
};

} // namespace wabridge::rtc

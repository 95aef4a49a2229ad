#include "wabridge/rtc/srtp_session.hpp"

#include <climits>
#include <srtp2/srtp.h>
#include <string>

namespace wabridge::rtc {

namespace {

constexpr size_t kRtpHeaderSize = 12; // RFC 3550 §5.1 fixed header
constexpr size_t kRtcpHeaderSize = 8; // RFC 3550 §6.4: common header + sender SSRC
constexpr size_t kSrtcpIndexSize = 4; // RFC 3711 §3.4: E flag + 31-bit SRTCP index
constexpr unsigned long kReplayWindow = 1024;

// srtp_init() once per process, thread-safe (C++11 magic statics).
bool srtp_ready() {
    static const srtp_err_status_t status = srtp_init();
    return status == srtp_err_status_ok;
}

// RFC 3550 §5.1/§5.3.1: version 2, the CSRC list and any header extension inside the packet.
bool well_formed_rtp(std::span<const uint8_t> p) {
    if (p.size() < kRtpHeaderSize || (p[0] >> 6) != 2) return false;
    size_t header = kRtpHeaderSize + 4u * (p[0] & 0x0F);
    if (p[0] & 0x10) {
        if (p.size() < header + 4) return false;
        header += 4 + 4u * ((size_t(p[header + 2]) << 8) | p[header + 3]);
    }
    return header <= p.size();
}

// RFC 3550 §6.4: version 2 and at least the header and the sender's SSRC.
bool well_formed_rtcp(std::span<const uint8_t> p) {
    return p.size() >= kRtcpHeaderSize && (p[0] >> 6) == 2;
}

// Overwrites key bytes in a way the optimiser cannot drop.
void wipe(std::vector<uint8_t>& bytes) {
    volatile uint8_t* p = bytes.data();
    for (size_t i = 0; i < bytes.size(); ++i)
        p[i] = 0;
}

SrtpError map_error(srtp_err_status_t status) {
    switch (status) {
    case srtp_err_status_auth_fail:
        return SrtpError::auth_fail;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return SrtpError::replay_fail;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
    case srtp_err_status_bad_mki:
    case srtp_err_status_no_ctx:
        return SrtpError::bad_packet;
    default:
        return SrtpError::other;
    }
}

// Common checks; returns the libsrtp length or an error.
Result<int, SrtpError> checked_length(std::span<uint8_t> buffer, size_t length, size_t room) {
    if (length > buffer.size()) return err(SrtpError::bad_packet);
    if (buffer.size() - length < room) return err(SrtpError::no_room);
    if (length + room > size_t(INT_MAX)) return err(SrtpError::bad_packet);
    return static_cast<int>(length);
}

} // namespace

size_t srtp_key_length(SrtpProfile) {
    return 16; // both profiles use AES-128 (RFC 5764 §4.1.2, RFC 7714 §12)
}

size_t srtp_salt_length(SrtpProfile profile) {
    return profile == SrtpProfile::aead_aes_128_gcm ? 12 : 14;
}

size_t srtp_rtp_overhead(SrtpProfile profile) {
    return profile == SrtpProfile::aead_aes_128_gcm ? 16 : 10;
}

size_t srtcp_overhead(SrtpProfile profile) {
    return kSrtcpIndexSize + srtp_rtp_overhead(profile);
}

std::string_view srtp_profile_name(SrtpProfile profile) {
    return profile == SrtpProfile::aead_aes_128_gcm ? "SRTP_AEAD_AES_128_GCM"
                                                    : "SRTP_AES128_CM_SHA1_80";
}

uint16_t srtp_profile_id(SrtpProfile profile) {
    return profile == SrtpProfile::aead_aes_128_gcm ? 0x0007 : 0x0001;
}

std::optional<SrtpProfile> srtp_profile_from_id(uint16_t id) {
    if (id == 0x0001) return SrtpProfile::aes128_cm_sha1_80;
    if (id == 0x0007) return SrtpProfile::aead_aes_128_gcm;
    return std::nullopt;
}

SrtpKeyMaterial split_keying_material(SrtpProfile profile, std::span<const uint8_t> exported,
                                      bool we_are_client) {
    const size_t key = srtp_key_length(profile), salt = srtp_salt_length(profile);
    if (exported.size() != 2 * (key + salt)) return {};
    // RFC 5764 §4.2 layout.
    auto client_key = exported.subspan(0, key);
    auto server_key = exported.subspan(key, key);
    auto client_salt = exported.subspan(2 * key, salt);
    auto server_salt = exported.subspan(2 * key + salt, salt);
    auto join = [](std::span<const uint8_t> k, std::span<const uint8_t> s) {
        std::vector<uint8_t> out(k.begin(), k.end());
        out.insert(out.end(), s.begin(), s.end());
        return out;
    };
    SrtpKeyMaterial m;
    m.local_key_salt =
        we_are_client ? join(client_key, client_salt) : join(server_key, server_salt);
    m.remote_key_salt =
        we_are_client ? join(server_key, server_salt) : join(client_key, client_salt);
    return m;
}

std::string_view to_string(SrtpError error) {
    switch (error) {
    case SrtpError::auth_fail:
        return "auth_fail";
    case SrtpError::replay_fail:
        return "replay_fail";
    case SrtpError::bad_packet:
        return "bad_packet";
    case SrtpError::no_room:
        return "no_room";
    case SrtpError::other:
        return "other";
    }
    return "other";
}

void SrtpSession::Free::operator()(srtp_ctx_t_* session) const {
    if (session) srtp_dealloc(session);
}

SrtpSession::SrtpSession(SrtpSession&&) noexcept = default;
SrtpSession& SrtpSession::operator=(SrtpSession&&) noexcept = default;
SrtpSession::~SrtpSession() = default;

Result<SrtpSession, std::string>
SrtpSession::create(SrtpProfile profile, std::span<const uint8_t> key_salt, bool outbound) {
    const size_t want = srtp_key_length(profile) + srtp_salt_length(profile);
    if (key_salt.size() != want) {
        return err("SRTP key material for " + std::string(srtp_profile_name(profile)) +
                   " must be " + std::to_string(want) + " bytes, got " +
                   std::to_string(key_salt.size()));
    }
    if (!srtp_ready()) return err(std::string("srtp_init failed"));

    srtp_policy_t policy{};
    if (profile == SrtpProfile::aead_aes_128_gcm) {
        // RFC 7714 §14.2: AEAD_AES_128_GCM for SRTP and SRTCP, 16-byte tag.
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
        // RFC 5764 §4.1.2: AES_CM_128 with HMAC-SHA1 80-bit tags for SRTP and SRTCP.
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    }
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    // libsrtp derives the session keys (RFC 3711 §4.3) inside srtp_create and keeps no pointer
    // to the master key; the copy is wiped when done.
    std::vector<uint8_t> key(key_salt.begin(), key_salt.end());
    policy.key = key.data();
    policy.window_size = kReplayWindow; // RFC 3711 §3.3.2 (minimum 64)
    policy.allow_repeat_tx = 0;
    policy.next = nullptr;

    srtp_t raw = nullptr;
    srtp_err_status_t status = srtp_create(&raw, &policy);
    wipe(key);
    std::unique_ptr<srtp_ctx_t_, Free> owned(raw);
    if (status != srtp_err_status_ok) {
        return err("srtp_create failed (libsrtp status " + std::to_string(int(status)) + ")");
    }
    return SrtpSession(profile, outbound, std::move(owned));
}

Result<size_t, SrtpError> SrtpSession::protect_rtp(std::span<uint8_t> buffer, size_t length) {
    auto len = checked_length(buffer, length, srtp_rtp_overhead(profile_));
    if (!len) return err(len.error());
    if (!well_formed_rtp(buffer.first(length))) return err(SrtpError::bad_packet);
    int n = *len;
    srtp_err_status_t status = srtp_protect(session_.get(), buffer.data(), &n);
    if (status != srtp_err_status_ok) return err(map_error(status));
    return static_cast<size_t>(n);
}

Result<size_t, SrtpError> SrtpSession::unprotect_rtp(std::span<uint8_t> buffer, size_t length) {
    auto len = checked_length(buffer, length, 0);
    if (!len) return err(len.error());
    if (length < kRtpHeaderSize + srtp_rtp_overhead(profile_) ||
        !well_formed_rtp(buffer.first(length - srtp_rtp_overhead(profile_)))) {
        return err(SrtpError::bad_packet);
    }
    int n = *len;
    srtp_err_status_t status = srtp_unprotect(session_.get(), buffer.data(), &n);
    if (status != srtp_err_status_ok) return err(map_error(status));
    return static_cast<size_t>(n);
}

Result<size_t, SrtpError> SrtpSession::protect_rtcp(std::span<uint8_t> buffer, size_t length) {
    auto len = checked_length(buffer, length, srtcp_overhead(profile_));
    if (!len) return err(len.error());
    if (!well_formed_rtcp(buffer.first(length))) return err(SrtpError::bad_packet);
    int n = *len;
    srtp_err_status_t status = srtp_protect_rtcp(session_.get(), buffer.data(), &n);
    if (status != srtp_err_status_ok) return err(map_error(status));
    return static_cast<size_t>(n);
}

Result<size_t, SrtpError> SrtpSession::unprotect_rtcp(std::span<uint8_t> buffer, size_t length) {
    auto len = checked_length(buffer, length, 0);
    if (!len) return err(len.error());
    if (length < kRtcpHeaderSize + srtcp_overhead(profile_) ||
        !well_formed_rtcp(buffer.first(length))) {
        return err(SrtpError::bad_packet);
    }
    int n = *len;
    srtp_err_status_t status = srtp_unprotect_rtcp(session_.get(), buffer.data(), &n);
    if (status != srtp_err_status_ok) return err(map_error(status));
    return static_cast<size_t>(n);
}

} // namespace wabridge::rtc

#include "sdp/sdp_fixtures.hpp"
#include "support/test_data.hpp"
#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/remote_audio.hpp"

#include <gtest/gtest.h>

namespace wabridge::sdp {
namespace {

using test::read_data;
using test_fixtures::replace;

Result<RemoteAudio, Error> read(const std::string& text) {
    auto sd = parse(text);
    if (!sd) return err(sd.error());
    return read_remote_audio(sd.value());
}

Error read_error(const std::string& text) {
    auto r = read(text);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return {};
    return r.error();
}

const std::string& wa_offer() {
    static const std::string s = read_data("sdp/whatsapp/wa-offer-01.sdp");
    return s;
}

TEST(RemoteAudio, ReadsEverythingTheWhatsAppOfferSays) {
    auto r = read(wa_offer());
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->mid, "audio");
    EXPECT_TRUE(r->bundled);
    EXPECT_EQ(r->ice_ufrag, "AeinEGDfvqBctbtM");
    EXPECT_EQ(r->ice_pwd, "F6/jjqL0/8/Dzluc0IoZEQ==");
    EXPECT_TRUE(r->ice_lite);
    EXPECT_FALSE(r->ice_trickle);
    ASSERT_EQ(r->sha256_fingerprints.size(), 1u);
    EXPECT_EQ(r->sha256_fingerprints[0],
              "A2:EC:E2:C4:E4:FE:75:63:39:0D:77:45:DF:70:64:BC:F9:96:73:DE:F4:92:E5:78:D0:5B:1F:"
              "8F:E7:46:D3:C6");
    EXPECT_EQ(r->setup, Setup::actpass);
    EXPECT_EQ(r->direction, Direction::sendrecv);
    EXPECT_TRUE(r->rtcp_mux);
    EXPECT_EQ(r->opus.payload_type, 111);
    EXPECT_EQ(r->opus.clock_rate, 48000u);
    EXPECT_EQ(r->opus.channels, 2u);
    EXPECT_EQ(r->opus_max_average_bitrate(), 20000u);
    EXPECT_EQ(*r->opus.fmtp_param("useinbandfec"), "1");
    ASSERT_TRUE(r->telephone_event);
    EXPECT_EQ(r->telephone_event->payload_type, 126);
    EXPECT_EQ(r->ptime, 20u);
    ASSERT_EQ(r->candidates.size(), 2u);
    EXPECT_EQ(r->candidates[0].address, "57.144.215.49");
    EXPECT_EQ(r->candidates[0].port, 3484);
    EXPECT_EQ(r->candidates[1].address, "2a03:2880:f36b:131:face:b00c:0:699c");
    EXPECT_EQ(r->candidates[1].priority, 2122262783u);
    EXPECT_EQ(r->ssrcs, (std::vector<uint32_t>{1047224411u}));
    EXPECT_EQ(r->connection_address, "57.144.215.49");
}

TEST(RemoteAudio, ReadsEveryPeerOffer) {
    for (const char* f : {"sdp/peers/aiortc-offer.sdp", "sdp/peers/chromium-offer.sdp",
                          "sdp/peers/pion-offer.sdp", "sdp/whatsapp/wa-doc-offer-uic.sdp",
                          "sdp/whatsapp/wa-doc-offer-bic.sdp", "sdp/whatsapp/wa-offer-02.sdp"}) {
        auto r = read(read_data(f));
        ASSERT_TRUE(r.ok()) << f << ": " << r.error().describe();
        EXPECT_EQ(r->sha256_fingerprints.size(), 1u) << f;
        EXPECT_EQ(r->setup, Setup::actpass) << f;
    }
    auto pion = read(read_data("sdp/peers/pion-offer.sdp"));
    EXPECT_EQ(pion->mid, "0");
    EXPECT_FALSE(pion->ice_lite);
    auto chromium = read(read_data("sdp/peers/chromium-offer.sdp"));
    EXPECT_TRUE(chromium->ice_trickle);
    EXPECT_EQ(chromium->candidates[1].transport, "tcp");
    auto aiortc = read(read_data("sdp/peers/aiortc-offer.sdp"));
    EXPECT_EQ(aiortc->opus.payload_type, 96);
    EXPECT_FALSE(aiortc->telephone_event);
}

TEST(RemoteAudio, PicksTheFirstAudioSectionWithOpus) {
    auto r = read(read_data("sdp/whatsapp/wa-doc-offer-bic.sdp"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->opus.payload_type, 111);
    ASSERT_TRUE(r->telephone_event);
    EXPECT_EQ(r->telephone_event->payload_type, 126); // not 110, which is 48 kHz
    EXPECT_EQ(r->codecs.size(), 7u);
    EXPECT_EQ(r->codecs[3].name, "PCMU"); // static PT 0 has an rtpmap here
}

TEST(RemoteAudio, MediaLevelBeatsSessionLevel) {
    std::string s =
        replace(wa_offer(), "a=ice-lite\r\n", "a=ice-lite\r\na=ice-ufrag:SessionUfrag\r\n");
    auto r = read(s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->ice_ufrag, "AeinEGDfvqBctbtM");
}

TEST(RemoteAudio, AcceptsUpperCaseProtoCodecAndFingerprintHash) {
    std::string s = replace(wa_offer(), "UDP/TLS/RTP/SAVPF", "udp/tls/rtp/savpf");
    s = replace(s, "opus/48000/2", "OPUS/48000/2");
    s = replace(s, "a=fingerprint:sha-256", "a=fingerprint:SHA-256");
    auto r = read(s);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->opus.name, "OPUS");
}

TEST(RemoteAudio, RtcpMuxOnlyCounts) {
    auto r = read(replace(wa_offer(), "a=rtcp-mux\r\n", "a=rtcp-mux-only\r\n"));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->rtcp_mux);
    EXPECT_TRUE(r->rtcp_mux_only);
}

// ---- rejections, each typed and located ----

TEST(RemoteAudio, RejectsNoAudio) {
    std::string s = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
    Error e = read_error(s);
    EXPECT_EQ(e.code, ErrorCode::no_audio);
    Error disabled = read_error(replace(wa_offer(), "m=audio 3484", "m=audio 0"));
    EXPECT_EQ(disabled.code, ErrorCode::no_audio);
}

TEST(RemoteAudio, RejectsNoOpus) {
    std::string s = replace(wa_offer(), "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 G722/8000");
    Error e = read_error(s);
    EXPECT_EQ(e.code, ErrorCode::no_opus);
    EXPECT_EQ(e.line, 8u);
    Error wrong_clock = read_error(replace(wa_offer(), "opus/48000/2", "opus/16000/1"));
    EXPECT_EQ(wrong_clock.code, ErrorCode::no_opus);
    EXPECT_NE(wrong_clock.reason.find("48000"), std::string::npos);
}

TEST(RemoteAudio, RejectsNoFingerprint) {
    std::string s = replace(wa_offer(), "a=fingerprint:", "a=x-removed:");
    Error e = read_error(s);
    EXPECT_EQ(e.code, ErrorCode::no_fingerprint);
}

TEST(RemoteAudio, RejectsNonSha256Only) {
    std::string s =
        replace(wa_offer(), "a=fingerprint:sha-256 A2:EC:E2:C4", "a=fingerprint:sha-1 A2:EC:E2:C4");
    Error e = read_error(s);
    EXPECT_EQ(e.code, ErrorCode::unsupported_fingerprint);
    EXPECT_EQ(e.line, 15u);
    EXPECT_NE(e.reason.find("sha-1"), std::string::npos);
}

TEST(RemoteAudio, TakesSha256AmongOthers) {
    std::string s =
        replace(wa_offer(), "a=setup:actpass", "a=fingerprint:sha-1 00:11\r\na=setup:actpass");
    auto r = read(s);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->sha256_fingerprints.size(), 1u);
}

TEST(RemoteAudio, RejectsMalformedSha256Digest) {
    std::string s = replace(wa_offer(), "D3:C6\r\n", "D3\r\n");
    Error e = read_error(s);
    EXPECT_EQ(e.code, ErrorCode::bad_attribute);
    EXPECT_EQ(e.line, 15u);
}

TEST(RemoteAudio, RejectsMissingIceCredentials) {
    Error no_ufrag = read_error(replace(wa_offer(), "a=ice-ufrag:", "a=x-ufrag:"));
    EXPECT_EQ(no_ufrag.code, ErrorCode::no_ice_credentials);
    EXPECT_NE(no_ufrag.reason.find("ice-ufrag"), std::string::npos);
    Error no_pwd = read_error(replace(wa_offer(), "a=ice-pwd:", "a=x-pwd:"));
    EXPECT_EQ(no_pwd.code, ErrorCode::no_ice_credentials);
    EXPECT_NE(no_pwd.reason.find("ice-pwd"), std::string::npos);
}

TEST(RemoteAudio, IcePasswordWithEqualsSignsIsTolerated) {
    // WhatsApp's pwd ends in "==", outside RFC 8839 ice-char; refusing it refuses every call.
    auto r = read(wa_offer());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->ice_pwd.substr(r->ice_pwd.size() - 2), "==");
}

TEST(RemoteAudio, RejectsBadIceCredentials) {
    Error short_pwd = read_error(replace(wa_offer(), "F6/jjqL0/8/Dzluc0IoZEQ==", "short"));
    EXPECT_EQ(short_pwd.code, ErrorCode::bad_ice_credentials);
    EXPECT_EQ(short_pwd.line, 14u);
    Error bad_char = read_error(replace(wa_offer(), "AeinEGDfvqBctbtM", "Aein\"EGDf"));
    EXPECT_EQ(bad_char.code, ErrorCode::bad_ice_credentials);
}

TEST(RemoteAudio, RejectsSdesOnly) {
    std::string s = replace(wa_offer(), "UDP/TLS/RTP/SAVPF", "RTP/SAVP");
    s = replace(s, "a=fingerprint:", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\na=x-fp:");
    Error e = read_error(s);
    EXPECT_EQ(e.code, ErrorCode::sdes_only);
    EXPECT_EQ(e.line, 8u);
    // The DTLS profile with only a=crypto and no fingerprint is SDES-only too.
    std::string dtls_proto = replace(
        wa_offer(), "a=fingerprint:", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\na=x-fp:");
    EXPECT_EQ(read_error(dtls_proto).code, ErrorCode::sdes_only);
}

TEST(RemoteAudio, RejectsPlainRtp) {
    Error e = read_error(replace(wa_offer(), "UDP/TLS/RTP/SAVPF", "RTP/AVP"));
    EXPECT_EQ(e.code, ErrorCode::unsupported_transport);
}

TEST(RemoteAudio, RejectsMissingRtcpMux) {
    Error e = read_error(replace(wa_offer(), "a=rtcp-mux\r\n", ""));
    EXPECT_EQ(e.code, ErrorCode::no_rtcp_mux);
}

TEST(RemoteAudio, RejectsMalformedLines) {
    EXPECT_EQ(read_error(replace(wa_offer(), "a=rtpmap:126 telephone-event/8000",
                                 "a=rtpmap:126 telephone-event"))
                  .code,
              ErrorCode::bad_attribute);
    Error cand = read_error(
        replace(wa_offer(), "57.144.215.49 3484 typ host", "57.144.215.49 3484 type host"));
    EXPECT_EQ(cand.code, ErrorCode::bad_candidate);
    EXPECT_EQ(cand.line, 11u);
    EXPECT_EQ(read_error(replace(wa_offer(), "a=setup:actpass", "a=setup:sideways")).code,
              ErrorCode::bad_setup);
    EXPECT_EQ(read_error(replace(wa_offer(), "a=ptime:20", "a=ptime:twenty")).code,
              ErrorCode::bad_attribute);
    EXPECT_EQ(read_error(replace(wa_offer(), "a=ssrc:1047224411", "a=ssrc:99999999999")).code,
              ErrorCode::bad_attribute);
}

TEST(RemoteAudio, MissingSetupMeansActive) {
    auto r = read(replace(wa_offer(), "a=setup:actpass\r\n", ""));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->setup_present);
    EXPECT_EQ(r->setup, Setup::active); // RFC 4145 §4
}

TEST(RemoteAudio, ShaFingerprintShape) {
    EXPECT_TRUE(is_sha256_fingerprint(test_fixtures::kOurFingerprint));
    EXPECT_FALSE(is_sha256_fingerprint(test_fixtures::kOurFingerprint.substr(3)));
    std::string bad = test_fixtures::kOurFingerprint;
    bad[2] = '-';
    EXPECT_FALSE(is_sha256_fingerprint(bad));
    bad = test_fixtures::kOurFingerprint;
    bad[0] = 'G';
    EXPECT_FALSE(is_sha256_fingerprint(bad));
}

} // namespace
} // namespace wabridge::sdp

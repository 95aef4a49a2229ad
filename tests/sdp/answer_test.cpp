// One test per rule of the WhatsApp answer checklist (whatsapp-calling.md §5), each asserting
// on the exact lines of the answer to the live offer wa-offer-01.
#include "sdp/sdp_fixtures.hpp"
#include "support/test_data.hpp"
#include "wabridge/sdp/answer.hpp"
#include "wabridge/sdp/parser.hpp"

#include <gtest/gtest.h>

namespace wabridge::sdp {
namespace {

using test::lines_with;
using test::read_data;
using test::sdp_lines;
using test_fixtures::local_transport;
using test_fixtures::replace;

Answer answer_to(const std::string& offer, const AudioPolicy& policy = {}) {
    auto a = answer_offer(offer, local_transport(), policy);
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().describe());
    return a.ok() ? a.value() : Answer{};
}

const std::string& wa_offer() {
    static const std::string s = read_data("sdp/whatsapp/wa-offer-01.sdp");
    return s;
}

// The audio section's lines (from m=audio on).
std::vector<std::string> audio_lines(const std::string& sdp) {
    auto all = sdp_lines(sdp);
    auto it = std::find_if(all.begin(), all.end(),
                           [](const std::string& l) { return l.rfind("m=audio", 0) == 0; });
    return {it, all.end()};
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(WhatsAppAnswer, Rule2_CrlfLineEndingsOnly) {
    std::string sdp = answer_to(wa_offer()).sdp;
    ASSERT_FALSE(sdp.empty());
    ASSERT_EQ(sdp.substr(sdp.size() - 2), "\r\n");
    for (size_t i = 0; i < sdp.size(); ++i) {
        if (sdp[i] == '\n') {
            ASSERT_EQ(sdp[i - 1], '\r') << "bare LF at " << i;
        }
        if (sdp[i] == '\r') {
            ASSERT_EQ(sdp[i + 1], '\n') << "bare CR at " << i;
        }
    }
}

TEST(WhatsAppAnswer, Rule4_OneAudioSectionOneSsrc) {
    std::string sdp = answer_to(wa_offer()).sdp;
    EXPECT_EQ(lines_with(sdp, "m=").size(), 1u);
    EXPECT_EQ(lines_with(sdp, "m=audio 10000 UDP/TLS/RTP/SAVPF 111 126").size(), 1u);
    EXPECT_EQ(lines_with(sdp, "a=ssrc:"),
              (std::vector<std::string>{"a=ssrc:12345678 cname:wabridgeCname123"}));
}

TEST(WhatsAppAnswer, Rule5_OpusOnTheOfferedPayloadTypeWithPtime20) {
    auto a = answer_to(wa_offer());
    auto lines = audio_lines(a.sdp);
    EXPECT_TRUE(has_line(lines, "a=rtpmap:111 opus/48000/2"));
    EXPECT_TRUE(has_line(lines, "a=ptime:20"));
    EXPECT_EQ(a.negotiated.opus_payload_type, 111);
    // Another peer's Opus PT (aiortc uses 96) is echoed, not replaced by 111.
    auto aiortc = answer_to(read_data("sdp/peers/aiortc-offer.sdp"));
    EXPECT_EQ(lines_with(aiortc.sdp, "m=audio"),
              (std::vector<std::string>{"m=audio 10000 UDP/TLS/RTP/SAVPF 96"}));
    EXPECT_EQ(lines_with(aiortc.sdp, "a=rtpmap:"),
              (std::vector<std::string>{"a=rtpmap:96 opus/48000/2"}));
}

TEST(WhatsAppAnswer, Rule5_FmtpForOurEncoder) {
    auto a = answer_to(wa_offer());
    EXPECT_EQ(lines_with(a.sdp, "a=fmtp:"),
              (std::vector<std::string>{
                  "a=fmtp:111 minptime=20;useinbandfec=1;maxaveragebitrate=20000"}));
    EXPECT_EQ(a.negotiated.send_bitrate_bps, 20000u);
}

TEST(WhatsAppAnswer, Rule5_BitrateNeverAboveTheOffersCap) {
    auto low = answer_to(replace(wa_offer(), "maxaveragebitrate=20000", "maxaveragebitrate=12000"));
    EXPECT_EQ(lines_with(low.sdp, "a=fmtp:111"),
              (std::vector<std::string>{
                  "a=fmtp:111 minptime=20;useinbandfec=1;maxaveragebitrate=12000"}));
    EXPECT_EQ(low.negotiated.send_bitrate_bps, 12000u);
    // Above our policy: the policy wins.
    auto high =
        answer_to(replace(wa_offer(), "maxaveragebitrate=20000", "maxaveragebitrate=64000"));
    EXPECT_EQ(high.negotiated.send_bitrate_bps, 20000u);
    // Below Opus' floor (RFC 7587 §6.1: 6000): clamped up.
    auto tiny = answer_to(replace(wa_offer(), "maxaveragebitrate=20000", "maxaveragebitrate=100"));
    EXPECT_EQ(tiny.negotiated.send_bitrate_bps, 6000u);
    // No cap offered: our policy.
    AudioPolicy p;
    p.max_bitrate_bps = 16000;
    auto none = answer_to(read_data("sdp/peers/pion-offer.sdp"), p);
    EXPECT_EQ(none.negotiated.send_bitrate_bps, 16000u);
}

TEST(WhatsAppAnswer, Rule6_TelephoneEventWhenOfferedWithItsPayloadType) {
    auto a = answer_to(wa_offer());
    EXPECT_EQ(lines_with(a.sdp, "a=rtpmap:126"),
              (std::vector<std::string>{"a=rtpmap:126 telephone-event/8000"}));
    EXPECT_EQ(a.negotiated.dtmf_payload_type, 126);
    auto moved = answer_to(replace(replace(wa_offer(), "111 126", "111 101"),
                                   "a=rtpmap:126 telephone-event/8000",
                                   "a=rtpmap:101 telephone-event/8000"));
    EXPECT_EQ(lines_with(moved.sdp, "m=audio"),
              (std::vector<std::string>{"m=audio 10000 UDP/TLS/RTP/SAVPF 111 101"}));
    EXPECT_EQ(lines_with(moved.sdp, "a=rtpmap:101"),
              (std::vector<std::string>{"a=rtpmap:101 telephone-event/8000"}));
}

TEST(WhatsAppAnswer, Rule6_NoTelephoneEventWhenNotOffered) {
    auto a = answer_to(read_data("sdp/peers/pion-offer.sdp"));
    EXPECT_TRUE(lines_with(a.sdp, "a=rtpmap:126").empty());
    EXPECT_FALSE(a.negotiated.dtmf_payload_type);
    // A 48 kHz telephone-event alone is not DTMF WhatsApp supports.
    auto only48 = answer_to(replace(wa_offer(), "telephone-event/8000", "telephone-event/48000"));
    EXPECT_TRUE(lines_with(only48.sdp, "a=rtpmap:126").empty());
    EXPECT_EQ(lines_with(only48.sdp, "m=audio"),
              (std::vector<std::string>{"m=audio 10000 UDP/TLS/RTP/SAVPF 111"}));
}

TEST(WhatsAppAnswer, Rule7_ExactlyOneSha256FingerprintOfOurCertificate) {
    std::string sdp = answer_to(wa_offer()).sdp;
    EXPECT_EQ(
        lines_with(sdp, "a=fingerprint:"),
        (std::vector<std::string>{"a=fingerprint:sha-256 " + test_fixtures::kOurFingerprint}));
    EXPECT_TRUE(
        has_line(audio_lines(sdp), "a=fingerprint:sha-256 " + test_fixtures::kOurFingerprint));
    // Even when the offer carries several.
    std::string multi = replace(wa_offer(), "a=setup:actpass",
                                "a=fingerprint:sha-384 AB:CD\r\na=fingerprint:sha-512 EF:01\r\n"
                                "a=setup:actpass");
    EXPECT_EQ(lines_with(answer_to(multi).sdp, "a=fingerprint:").size(), 1u);
}

TEST(WhatsAppAnswer, Rule8_SetupActiveForActpass) {
    auto a = answer_to(wa_offer());
    EXPECT_EQ(lines_with(a.sdp, "a=setup:"), (std::vector<std::string>{"a=setup:active"}));
    EXPECT_EQ(a.negotiated.dtls_role, DtlsRole::client);
}

TEST(WhatsAppAnswer, Rule8_OtherSetupValuesFollowRfc4145) {
    auto passive = answer_to(replace(wa_offer(), "a=setup:actpass", "a=setup:passive"));
    EXPECT_EQ(lines_with(passive.sdp, "a=setup:"), (std::vector<std::string>{"a=setup:active"}));
    auto active = answer_to(replace(wa_offer(), "a=setup:actpass", "a=setup:active"));
    EXPECT_EQ(lines_with(active.sdp, "a=setup:"), (std::vector<std::string>{"a=setup:passive"}));
    EXPECT_EQ(active.negotiated.dtls_role, DtlsRole::server);
    auto hold =
        answer_offer(replace(wa_offer(), "a=setup:actpass", "a=setup:holdconn"), local_transport());
    ASSERT_FALSE(hold.ok());
    EXPECT_EQ(hold.error().code, ErrorCode::bad_setup);
}

TEST(WhatsAppAnswer, Rule9_OurOwnIceCredentials) {
    std::string sdp = answer_to(wa_offer()).sdp;
    EXPECT_EQ(lines_with(sdp, "a=ice-ufrag:"),
              (std::vector<std::string>{"a=ice-ufrag:OurUfrag0123abcd"}));
    EXPECT_EQ(lines_with(sdp, "a=ice-pwd:"),
              (std::vector<std::string>{"a=ice-pwd:OurPassword0123456789abcdefghijk"}));
    EXPECT_EQ(sdp.find("AeinEGDfvqBctbtM"), std::string::npos);
    EXPECT_EQ(sdp.find("F6/jjqL0/8/Dzluc0IoZEQ=="), std::string::npos);
    EXPECT_EQ(sdp.find("A2:EC:E2:C4"), std::string::npos); // nor Meta's fingerprint
}

TEST(WhatsAppAnswer, Rule10_NoIceLiteAndControllingRole) {
    auto a = answer_to(wa_offer());
    EXPECT_TRUE(lines_with(a.sdp, "a=ice-lite").empty());
    EXPECT_TRUE(a.negotiated.ice_controlling); // RFC 8445 §6.1.1: the peer is lite
    auto full = answer_to(read_data("sdp/peers/chromium-offer.sdp"));
    EXPECT_FALSE(full.negotiated.ice_controlling); // two full agents: the offerer controls
}

TEST(WhatsAppAnswer, Rule11_OurCandidatesWithDefaultAddress) {
    std::string sdp = answer_to(wa_offer()).sdp;
    EXPECT_EQ(lines_with(sdp, "a=candidate:").size(), 2u);
    auto cands = lines_with(sdp, "a=candidate:");
    EXPECT_NE(cands[0].find(" 1 udp 2130706431 203.0.113.7 10000 typ host"), std::string::npos);
    EXPECT_NE(cands[1].find(" 1 udp 2130706175 2001:db8::7 10000 typ host"), std::string::npos);
    EXPECT_EQ(lines_with(sdp, "c="), (std::vector<std::string>{"c=IN IP4 203.0.113.7"}));
}

TEST(WhatsAppAnswer, Rule11_WithoutCandidatesUsesPlaceholders) {
    LocalTransport t = local_transport();
    t.candidates.clear();
    auto a = answer_offer(wa_offer(), t);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(lines_with(a->sdp, "m=audio"),
              (std::vector<std::string>{"m=audio 9 UDP/TLS/RTP/SAVPF 111 126"}));
    EXPECT_EQ(lines_with(a->sdp, "c="), (std::vector<std::string>{"c=IN IP4 0.0.0.0"}));
}

TEST(WhatsAppAnswer, Rule11_Ipv6DefaultCandidate) {
    LocalTransport t = local_transport();
    t.candidates = host_candidates({"2001:db8::9"}, 10004);
    auto a = answer_offer(wa_offer(), t);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(lines_with(a->sdp, "c="), (std::vector<std::string>{"c=IN IP6 2001:db8::9"}));
}

TEST(WhatsAppAnswer, Rule12_NoTrickleNoEndOfCandidates) {
    // Chromium offers trickle; we never trickle back.
    std::string sdp = answer_to(read_data("sdp/peers/chromium-offer.sdp")).sdp;
    EXPECT_TRUE(lines_with(sdp, "a=ice-options").empty());
    EXPECT_TRUE(lines_with(sdp, "a=end-of-candidates").empty());
    for (const auto& c : lines_with(sdp, "a=candidate:")) {
        EXPECT_NE(c.find(" udp "), std::string::npos) << c;
    }
}

TEST(WhatsAppAnswer, Rule13_OffersMidAndBundle) {
    std::string sdp = answer_to(wa_offer()).sdp;
    EXPECT_EQ(lines_with(sdp, "a=group:"), (std::vector<std::string>{"a=group:BUNDLE audio"}));
    EXPECT_EQ(lines_with(sdp, "a=mid:"), (std::vector<std::string>{"a=mid:audio"}));
    std::string pion = answer_to(read_data("sdp/peers/pion-offer.sdp")).sdp;
    EXPECT_EQ(lines_with(pion, "a=group:"), (std::vector<std::string>{"a=group:BUNDLE 0"}));
    EXPECT_EQ(lines_with(pion, "a=mid:"), (std::vector<std::string>{"a=mid:0"}));
}

TEST(WhatsAppAnswer, Rule13_NoBundleWhenNotOffered) {
    std::string sdp = answer_to(replace(wa_offer(), "a=group:BUNDLE audio\r\n", "")).sdp;
    EXPECT_TRUE(lines_with(sdp, "a=group:").empty());
    EXPECT_EQ(lines_with(sdp, "a=mid:"), (std::vector<std::string>{"a=mid:audio"}));
}

TEST(WhatsAppAnswer, Rule14_RtcpMux) {
    std::string sdp = answer_to(wa_offer()).sdp;
    EXPECT_TRUE(has_line(audio_lines(sdp), "a=rtcp-mux"));
    EXPECT_TRUE(lines_with(sdp, "a=rtcp-mux-only").empty());
}

TEST(WhatsAppAnswer, Rule15_SendrecvAndMirroredDirections) {
    auto a = answer_to(wa_offer());
    EXPECT_TRUE(has_line(audio_lines(a.sdp), "a=sendrecv"));
    EXPECT_EQ(a.negotiated.local_direction, Direction::sendrecv);
    auto recvonly = answer_to(replace(wa_offer(), "a=sendrecv", "a=recvonly"));
    EXPECT_TRUE(has_line(audio_lines(recvonly.sdp), "a=sendonly"));
    auto sendonly = answer_to(replace(wa_offer(), "a=sendrecv", "a=sendonly"));
    EXPECT_TRUE(has_line(audio_lines(sendonly.sdp), "a=recvonly"));
}

TEST(WhatsAppAnswer, Rule17_NoExtmapsEchoed) {
    std::string sdp = answer_to(read_data("sdp/whatsapp/wa-doc-offer-uic.sdp")).sdp;
    EXPECT_TRUE(lines_with(sdp, "a=extmap").empty());
    EXPECT_TRUE(lines_with(sdp, "a=rtcp-fb").empty());
}

TEST(WhatsAppAnswer, SessionFrame) {
    auto lines = sdp_lines(answer_to(wa_offer()).sdp);
    ASSERT_GE(lines.size(), 4u);
    EXPECT_EQ(lines[0], "v=0");
    EXPECT_EQ(lines[1], "o=- 4242424242 2 IN IP4 127.0.0.1");
    EXPECT_EQ(lines[2], "s=-");
    EXPECT_EQ(lines[3], "t=0 0");
}

TEST(WhatsAppAnswer, ExactAnswerToTheLiveOffer) {
    // The whole answer, byte for byte: any change to what we send WhatsApp must be deliberate.
    const std::string expected = "v=0\r\n"
                                 "o=- 4242424242 2 IN IP4 127.0.0.1\r\n"
                                 "s=-\r\n"
                                 "t=0 0\r\n"
                                 "a=group:BUNDLE audio\r\n"
                                 "a=msid-semantic:WMS *\r\n"
                                 "m=audio 10000 UDP/TLS/RTP/SAVPF 111 126\r\n"
                                 "c=IN IP4 203.0.113.7\r\n"
                                 "a=rtcp:9 IN IP4 0.0.0.0\r\n" +
                                 lines_with(answer_to(wa_offer()).sdp, "a=candidate:")[0] + "\r\n" +
                                 lines_with(answer_to(wa_offer()).sdp, "a=candidate:")[1] + "\r\n" +
                                 "a=ice-ufrag:OurUfrag0123abcd\r\n"
                                 "a=ice-pwd:OurPassword0123456789abcdefghijk\r\n"
                                 "a=fingerprint:sha-256 " +
                                 test_fixtures::kOurFingerprint +
                                 "\r\n"
                                 "a=setup:active\r\n"
                                 "a=mid:audio\r\n"
                                 "a=sendrecv\r\n"
                                 "a=msid:wabridge wabridge-audio\r\n"
                                 "a=rtcp-mux\r\n"
                                 "a=rtpmap:111 opus/48000/2\r\n"
                                 "a=fmtp:111 minptime=20;useinbandfec=1;maxaveragebitrate=20000\r\n"
                                 "a=rtpmap:126 telephone-event/8000\r\n"
                                 "a=ptime:20\r\n"
                                 "a=ssrc:12345678 cname:wabridgeCname123\r\n";
    EXPECT_EQ(answer_to(wa_offer()).sdp, expected);
}

TEST(WhatsAppAnswer, OtherSectionsAreRejectedWithPortZero) {
    std::string offer = wa_offer() + "m=video 3484 UDP/TLS/RTP/SAVPF 96\r\na=mid:video\r\n"
                                     "a=rtpmap:96 VP8/90000\r\n";
    offer = replace(offer, "a=group:BUNDLE audio", "a=group:BUNDLE audio video");
    std::string sdp = answer_to(offer).sdp;
    EXPECT_EQ(lines_with(sdp, "m="),
              (std::vector<std::string>{"m=audio 10000 UDP/TLS/RTP/SAVPF 111 126",
                                        "m=video 0 UDP/TLS/RTP/SAVPF 96"}));
    EXPECT_EQ(lines_with(sdp, "a=group:"), (std::vector<std::string>{"a=group:BUNDLE audio"}));
    EXPECT_EQ(lines_with(sdp, "a=mid:"), (std::vector<std::string>{"a=mid:audio", "a=mid:video"}));
}

TEST(WhatsAppAnswer, NegotiatedKeepsTheRemoteForTransport) {
    auto a = answer_to(wa_offer());
    EXPECT_EQ(a.negotiated.remote.ice_ufrag, "AeinEGDfvqBctbtM");
    EXPECT_EQ(a.negotiated.remote.candidates.size(), 2u);
    EXPECT_EQ(a.negotiated.remote.sha256_fingerprints.size(), 1u);
}

TEST(WhatsAppAnswer, RejectionsCarryTheParsersReason) {
    auto a = answer_offer("v=0\r\nbogus\r\n", local_transport());
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().describe(), "line 2: expected <type>=<value>, got 'bogus'");
}

} // namespace
} // namespace wabridge::sdp

#include "sdp/sdp_fixtures.hpp"
#include "support/test_data.hpp"
#include "wabridge/sdp/offer.hpp"
#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/remote_audio.hpp"

#include <gtest/gtest.h>

namespace wabridge::sdp {
namespace {

using test::lines_with;

TEST(BusinessOffer, ActpassOpusAndTelephoneEventWithOurCandidates) {
    std::string sdp = create_offer(test_fixtures::local_transport());
    EXPECT_EQ(lines_with(sdp, "m="),
              (std::vector<std::string>{"m=audio 10000 UDP/TLS/RTP/SAVPF 111 126"}));
    EXPECT_EQ(lines_with(sdp, "a=setup:"), (std::vector<std::string>{"a=setup:actpass"}));
    EXPECT_EQ(lines_with(sdp, "a=rtpmap:"),
              (std::vector<std::string>{"a=rtpmap:111 opus/48000/2",
                                        "a=rtpmap:126 telephone-event/8000"}));
    EXPECT_EQ(lines_with(sdp, "a=fmtp:"),
              (std::vector<std::string>{
                  "a=fmtp:111 minptime=20;useinbandfec=1;maxaveragebitrate=20000"}));
    EXPECT_EQ(lines_with(sdp, "a=group:"), (std::vector<std::string>{"a=group:BUNDLE audio"}));
    EXPECT_EQ(lines_with(sdp, "a=mid:"), (std::vector<std::string>{"a=mid:audio"}));
    EXPECT_EQ(lines_with(sdp, "a=candidate:").size(), 2u);
    EXPECT_EQ(lines_with(sdp, "a=fingerprint:").size(), 1u);
    EXPECT_TRUE(lines_with(sdp, "a=ice-lite").empty());
    EXPECT_TRUE(lines_with(sdp, "a=ice-options").empty());
    EXPECT_EQ(lines_with(sdp, "a=ptime:"), (std::vector<std::string>{"a=ptime:20"}));
}

TEST(BusinessOffer, ReadsBackAsAValidRemoteDescription) {
    auto sd = parse(create_offer(test_fixtures::local_transport()));
    ASSERT_TRUE(sd.ok()) << sd.error().describe();
    auto r = read_remote_audio(sd.value());
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->setup, Setup::actpass);
    EXPECT_EQ(r->ice_ufrag, "OurUfrag0123abcd");
    EXPECT_EQ(r->sha256_fingerprints[0], test_fixtures::kOurFingerprint);
    EXPECT_EQ(r->opus_max_average_bitrate(), 20000u);
    EXPECT_EQ(r->candidates.size(), 2u);
}

TEST(BusinessOffer, PolicyBitrateIsClampedToOpusRange) {
    AudioPolicy p;
    p.max_bitrate_bps = 1000;
    EXPECT_EQ(
        lines_with(create_offer(test_fixtures::local_transport(), p), "a=fmtp:"),
        (std::vector<std::string>{"a=fmtp:111 minptime=20;useinbandfec=1;maxaveragebitrate=6000"}));
}

} // namespace
} // namespace wabridge::sdp

namespace wabridge::sdp {
namespace {

TEST(BusinessAnswer, MetasAnswerMakesUsTheDtlsServerAndIceControlling) {
    // Meta's documented answer to a business-initiated offer: ice-lite, setup:active.
    auto n = read_answer(test::read_data("sdp/whatsapp/wa-doc-answer-bic-from-meta.sdp"));
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_EQ(n->dtls_role, DtlsRole::server);
    EXPECT_TRUE(n->ice_controlling);
    EXPECT_TRUE(n->remote.ice_lite);
    EXPECT_EQ(n->opus_payload_type, kOfferOpusPayloadType);
    EXPECT_EQ(n->dtmf_payload_type, std::optional<uint8_t>(126));
    EXPECT_EQ(n->remote.sha256_fingerprints.size(), 1u);
}

TEST(BusinessAnswer, PassiveMakesUsTheClientAndActpassIsRefused) {
    std::string text = test::read_data("sdp/whatsapp/wa-doc-answer-bic-from-meta.sdp");
    const size_t at = text.find("a=setup:active");
    ASSERT_NE(at, std::string::npos);
    std::string passive = text;
    passive.replace(at, 14, "a=setup:passive");
    auto n = read_answer(passive);
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_EQ(n->dtls_role, DtlsRole::client);
    std::string actpass = text;
    actpass.replace(at, 14, "a=setup:actpass");
    auto bad = read_answer(actpass);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::bad_setup);
    EXPECT_FALSE(read_answer("v=0\r\n"));
}

} // namespace
} // namespace wabridge::sdp

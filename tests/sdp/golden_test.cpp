// Golden tests over every SDP sample in tests/data/sdp (copied from shared/data/sdp): each
// offer parses and is answered, and each answer is checked line by line against the WhatsApp
// checklist; each sample answer parses.
#include "sdp/sdp_fixtures.hpp"
#include "support/test_data.hpp"
#include "wabridge/sdp/answer.hpp"
#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/whatsapp_checklist.hpp"

#include <gtest/gtest.h>

namespace wabridge::sdp {
namespace {

using test::lines_with;
using test::read_data;

class GoldenOffer : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenOffer, ParsesAndIsAnsweredToTheChecklist) {
    const std::string offer = read_data(GetParam());
    ASSERT_FALSE(offer.empty()) << "missing sample " << GetParam();
    auto parsed = parse(offer);
    ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
    auto remote = read_remote_audio(parsed.value());
    ASSERT_TRUE(remote.ok()) << remote.error().describe();

    auto answer = create_answer(parsed.value(), test_fixtures::local_transport());
    ASSERT_TRUE(answer.ok()) << answer.error().describe();
    const std::string& sdp = answer->sdp;
    const std::string pt = std::to_string(remote->opus.payload_type);

    // Line-by-line checklist assertions (whatsapp-calling.md §5).
    EXPECT_EQ(
        lines_with(sdp, "a=fingerprint:"),
        (std::vector<std::string>{"a=fingerprint:sha-256 " + test_fixtures::kOurFingerprint}));
    EXPECT_EQ(lines_with(sdp, "a=setup:"), (std::vector<std::string>{"a=setup:active"}));
    EXPECT_EQ(lines_with(sdp, "a=ice-ufrag:"),
              (std::vector<std::string>{"a=ice-ufrag:OurUfrag0123abcd"}));
    EXPECT_EQ(lines_with(sdp, "a=ice-pwd:"),
              (std::vector<std::string>{"a=ice-pwd:OurPassword0123456789abcdefghijk"}));
    EXPECT_EQ(lines_with(sdp, "a=mid:"), (std::vector<std::string>{"a=mid:" + remote->mid}));
    EXPECT_EQ(lines_with(sdp, "a=group:"),
              (std::vector<std::string>{"a=group:BUNDLE " + remote->mid}));
    EXPECT_EQ(lines_with(sdp, "a=rtcp-mux"), (std::vector<std::string>{"a=rtcp-mux"}));
    EXPECT_EQ(lines_with(sdp, "a=sendrecv"), (std::vector<std::string>{"a=sendrecv"}));
    EXPECT_EQ(lines_with(sdp, "a=rtpmap:" + pt),
              (std::vector<std::string>{"a=rtpmap:" + pt + " opus/48000/2"}));
    uint32_t bitrate = std::min(20000u, remote->opus_max_average_bitrate().value_or(20000u));
    EXPECT_EQ(lines_with(sdp, "a=fmtp:"),
              (std::vector<std::string>{
                  "a=fmtp:" + pt +
                  " minptime=20;useinbandfec=1;maxaveragebitrate=" + std::to_string(bitrate)}));
    if (remote->telephone_event) {
        std::string dtmf = std::to_string(remote->telephone_event->payload_type);
        EXPECT_EQ(lines_with(sdp, "a=rtpmap:" + dtmf),
                  (std::vector<std::string>{"a=rtpmap:" + dtmf + " telephone-event/8000"}));
    }
    EXPECT_EQ(lines_with(sdp, "a=ptime:"), (std::vector<std::string>{"a=ptime:20"}));
    EXPECT_EQ(lines_with(sdp, "a=candidate:").size(), 2u);
    EXPECT_TRUE(lines_with(sdp, "a=ice-lite").empty());
    EXPECT_TRUE(lines_with(sdp, "a=ice-options").empty());
    EXPECT_TRUE(lines_with(sdp, "a=extmap").empty());
    EXPECT_EQ(lines_with(sdp, "a=ssrc:").size(), 1u);

    // And the rule engine agrees.
    auto findings = check_whatsapp_answer(offer, sdp);
    for (const auto& f : findings)
        ADD_FAILURE() << f.rule << ": " << f.message;
}

INSTANTIATE_TEST_SUITE_P(
    Samples, GoldenOffer,
    ::testing::Values("sdp/whatsapp/wa-offer-01.sdp", "sdp/whatsapp/wa-offer-02.sdp",
                      "sdp/whatsapp/wa-doc-offer-uic.sdp", "sdp/whatsapp/wa-doc-offer-bic.sdp",
                      "sdp/peers/aiortc-offer.sdp", "sdp/peers/chromium-offer.sdp",
                      "sdp/peers/pion-offer.sdp"));

TEST(GoldenPartialOffer, ParsesButCannotBeAnswered) {
    // The SIP-delivered sample is cut after its rtpmap: it parses, and the answer is refused for
    // the first thing missing.
    const std::string offer = read_data("sdp/whatsapp/wa-offer-04-partial.sdp");
    ASSERT_TRUE(parse(offer).ok());
    auto answer = answer_offer(offer, test_fixtures::local_transport());
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().code, ErrorCode::no_fingerprint);
    EXPECT_EQ(answer.error().line, 8u);
}

class GoldenAnswer : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenAnswer, SampleAnswersParseAsRemoteDescriptions) {
    auto parsed = parse(read_data(GetParam()));
    ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
    auto remote = read_remote_audio(parsed.value());
    ASSERT_TRUE(remote.ok()) << remote.error().describe();
    EXPECT_EQ(remote->sha256_fingerprints.size(), 1u);
    EXPECT_EQ(remote->setup, Setup::active);
}

INSTANTIATE_TEST_SUITE_P(Samples, GoldenAnswer,
                         ::testing::Values("sdp/whatsapp/wa-answer-accepted-01.sdp",
                                           "sdp/whatsapp/wa-answer-accepted-02.sdp",
                                           "sdp/whatsapp/wa-doc-answer-uic.sdp",
                                           "sdp/whatsapp/wa-doc-answer-bic-from-meta.sdp"));

} // namespace
} // namespace wabridge::sdp

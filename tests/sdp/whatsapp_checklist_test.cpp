#include "sdp/sdp_fixtures.hpp"
#include "support/test_data.hpp"
#include "wabridge/sdp/answer.hpp"
#include "wabridge/sdp/whatsapp_checklist.hpp"

#include <gtest/gtest.h>

namespace wabridge::sdp {
namespace {

using test::read_data;
using test_fixtures::replace;

const std::string& offer() {
    static const std::string s = read_data("sdp/whatsapp/wa-offer-01.sdp");
    return s;
}

std::string our_answer() {
    return answer_offer(offer(), test_fixtures::local_transport())->sdp;
}

// The rule ids found, each with its level.
std::vector<std::string> rules(const std::vector<Finding>& findings) {
    std::vector<std::string> out;
    for (const auto& f : findings) {
        out.push_back((f.level == RuleLevel::required ? "FAIL " : "WARN ") + f.rule);
    }
    return out;
}

std::vector<std::string> check(const std::string& answer) {
    return rules(check_whatsapp_answer(offer(), answer));
}

TEST(WhatsAppChecklist, OurAnswerPassesEveryRule) {
    EXPECT_EQ(check(our_answer()), std::vector<std::string>{});
}

TEST(WhatsAppChecklist, AcceptedLiveAnswersHaveNoRequiredFailure) {
    // wa-answer-accepted-02 was accepted by Graph with a=ice-lite: a warning, not a failure.
    EXPECT_EQ(check(read_data("sdp/whatsapp/wa-answer-accepted-02.sdp")),
              (std::vector<std::string>{"WARN no_ice_lite"}));
    EXPECT_EQ(check(read_data("sdp/whatsapp/wa-answer-accepted-01.sdp")),
              (std::vector<std::string>{}));
}

TEST(WhatsAppChecklist, MultipleFingerprintsFail) {
    std::string a =
        replace(our_answer(), "a=setup:active", "a=fingerprint:sha-384 AB:CD\r\na=setup:active");
    EXPECT_EQ(check(a), (std::vector<std::string>{"FAIL single_fingerprint"}));
}

TEST(WhatsAppChecklist, MissingFingerprintFails) {
    std::string a = replace(our_answer(), "a=fingerprint:", "a=x-fingerprint:");
    EXPECT_EQ(check(a), (std::vector<std::string>{"FAIL single_fingerprint"}));
}

TEST(WhatsAppChecklist, EchoedCredentialsFail) {
    std::string a =
        replace(our_answer(), "a=ice-ufrag:OurUfrag0123abcd", "a=ice-ufrag:AeinEGDfvqBctbtM");
    EXPECT_EQ(check(a), (std::vector<std::string>{"FAIL own_ice_credentials"}));
}

TEST(WhatsAppChecklist, BareLfFails) {
    std::string a = our_answer();
    std::string lf;
    for (char c : a) {
        if (c != '\r') lf += c;
    }
    EXPECT_EQ(check(lf), (std::vector<std::string>{"FAIL crlf"}));
}

TEST(WhatsAppChecklist, EachRuleIsDetected) {
    struct Case {
        std::string from, to, expected;
    };
    const Case cases[] = {
        {"a=setup:active", "a=setup:passive", "WARN setup_active"},
        {"a=mid:audio", "a=mid:0", "FAIL mid_bundle"},
        {"a=group:BUNDLE audio\r\n", "", "FAIL mid_bundle"},
        {"a=rtcp-mux\r\n", "", "FAIL rtcp_mux"},
        {"a=sendrecv", "a=recvonly", "FAIL sendrecv"},
        {"a=ptime:20", "a=ptime:40", "FAIL ptime_20"},
        {"a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/1", "FAIL opus_offered_pt"},
        {"a=rtpmap:126 telephone-event/8000", "a=rtpmap:126 telephone-event/48000",
         "FAIL dtmf_8000"},
        {"maxaveragebitrate=20000", "maxaveragebitrate=64000", "WARN opus_bitrate"},
        {"a=msid-semantic:WMS *", "a=msid-semantic:WMS *\r\na=ice-lite", "WARN no_ice_lite"},
        {"a=rtcp-mux", "a=rtcp-mux\r\na=ice-options:trickle", "WARN no_trickle"},
        {"a=rtcp-mux", "a=rtcp-mux\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
         "WARN no_extmap"},
        {"a=ssrc:12345678 cname:wabridgeCname123",
         "a=ssrc:12345678 cname:wabridgeCname123\r\na=ssrc:999 cname:x", "FAIL one_audio_ssrc"},
    };
    for (const auto& c : cases) {
        std::string a = replace(our_answer(), c.from, c.to);
        EXPECT_EQ(check(a), std::vector<std::string>{c.expected}) << c.from << " -> " << c.to;
    }
}

TEST(WhatsAppChecklist, CandidateRules) {
    LocalTransport t = test_fixtures::local_transport();
    t.candidates.clear();
    std::string none = answer_offer(offer(), t)->sdp;
    EXPECT_EQ(check(none), (std::vector<std::string>{"WARN candidates_udp"}));
    std::string tcp = replace(our_answer(), " udp 2130706175", " tcp 2130706175");
    EXPECT_EQ(check(tcp), (std::vector<std::string>{"WARN candidates_udp"}));
}

TEST(WhatsAppChecklist, UnparsableInputIsReported) {
    EXPECT_EQ(check("v=0\r\njunk\r\n"), (std::vector<std::string>{"FAIL parsable"}));
    EXPECT_EQ(rules(check_whatsapp_answer("nonsense", our_answer())),
              (std::vector<std::string>{"FAIL parsable"}));
}

TEST(WhatsAppChecklist, EveryFindingUsesAKnownRuleId) {
    const auto& ids = whatsapp_rule_ids();
    auto findings =
        check_whatsapp_answer(offer(), read_data("sdp/whatsapp/wa-doc-answer-bic-from-meta.sdp"));
    ASSERT_FALSE(findings.empty());
    for (const auto& f : findings) {
        EXPECT_NE(std::find(ids.begin(), ids.end(), f.rule), ids.end()) << f.rule;
        EXPECT_EQ(f.message.find('\n'), std::string::npos);
    }
}

} // namespace
} // namespace wabridge::sdp

namespace wabridge::sdp {
namespace {

// Found by fuzz/sdp_parser: an inactive or recvonly offer is answered with the RFC 3264 §6.1
// mirror, and the checklist must accept that mirror rather than demand sendrecv.
TEST(WhatsAppChecklist, DirectionRuleFollowsTheOffer) {
    for (auto [offered, answered] :
         {std::pair{"a=inactive", "a=inactive"}, std::pair{"a=recvonly", "a=sendonly"},
          std::pair{"a=sendonly", "a=recvonly"}}) {
        std::string o = replace(offer(), "a=sendrecv", offered);
        auto answer = answer_offer(o, test_fixtures::local_transport());
        ASSERT_TRUE(answer.ok());
        EXPECT_NE(answer->sdp.find(std::string(answered) + "\r\n"), std::string::npos);
        EXPECT_TRUE(check_whatsapp_answer(o, answer->sdp).empty()) << offered;
        std::string forced = replace(answer->sdp, answered, "a=sendrecv");
        EXPECT_EQ(rules(check_whatsapp_answer(o, forced)),
                  (std::vector<std::string>{"FAIL sendrecv"}));
    }
}

} // namespace
} // namespace wabridge::sdp

// Webhook endpoint verification (whatsapp-calling.md §2.1): Meta's GET handshake, query
// decoding (application/x-www-form-urlencoded), token comparison and the challenge cap.
#include "wabridge/whatsapp/subscription.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace wabridge::whatsapp {
namespace {

constexpr std::string_view kToken = "meatyhamhock";

TEST(Subscription, MetasHandshakeEchoesTheChallenge) {
    EXPECT_EQ(
        verify_subscription(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock", kToken),
        "1158201444");
    // Any order, a leading '?', unrelated parameters and empty pairs.
    EXPECT_EQ(verify_subscription("?hub.verify_token=meatyhamhock&&x=1&hub.challenge=abc&"
                                  "hub.mode=subscribe&",
                                  kToken),
              "abc");
}

TEST(Subscription, RefusesAWrongToken) {
    const auto q = [](std::string token) {
        return "hub.mode=subscribe&hub.challenge=42&hub.verify_token=" + token;
    };
    EXPECT_EQ(verify_subscription(q("meatyhamhocK"), kToken), std::nullopt);
    EXPECT_EQ(verify_subscription(q("meatyhamhoc"), kToken), std::nullopt);   // prefix
    EXPECT_EQ(verify_subscription(q("meatyhamhockX"), kToken), std::nullopt); // extension
    EXPECT_EQ(verify_subscription(q(""), kToken), std::nullopt);
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.challenge=42", kToken), std::nullopt);
    EXPECT_EQ(verify_subscription(q("meatyhamhock"), kToken), "42");
}

TEST(Subscription, EmptyConfiguredTokenNeverMatches) {
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.challenge=42&hub.verify_token=", ""),
              std::nullopt);
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.challenge=42&hub.verify_token", ""),
              std::nullopt);
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.challenge=42", ""), std::nullopt);
}

TEST(Subscription, ModeMustBeSubscribe) {
    for (std::string mode : {"unsubscribe", "Subscribe", "subscribe ", "", "subscribe%00"}) {
        EXPECT_EQ(verify_subscription("hub.mode=" + mode +
                                          "&hub.challenge=42&hub.verify_token=meatyhamhock",
                                      kToken),
                  std::nullopt)
            << mode;
    }
    EXPECT_EQ(verify_subscription("hub.challenge=42&hub.verify_token=meatyhamhock", kToken),
              std::nullopt);
}

TEST(Subscription, ChallengeMustBePresentAndNonEmpty) {
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.verify_token=meatyhamhock", kToken),
              std::nullopt);
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.challenge=&hub.verify_token=meatyhamhock",
                                  kToken),
              std::nullopt);
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.challenge&hub.verify_token=meatyhamhock",
                                  kToken),
              std::nullopt);
}

TEST(Subscription, PercentDecodingAndPlus) {
    // Names, values and the token are decoded before comparison; the challenge is returned
    // decoded ("raw" value, not the escaped text).
    EXPECT_EQ(verify_subscription("hub%2Emode=subscribe&hub.challenge=a%2Bb+c%26d%3D"
                                  "&hub.verify_token=my%20secret+token%21",
                                  "my secret token!"),
              "a+b c&d=");
    EXPECT_EQ(verify_subscription("hub.mode=%73ubscribe&hub.challenge=%e2%82%AC"
                                  "&hub.verify_token=meatyhamhock",
                                  kToken),
              "\xe2\x82\xac");
    // A '=' inside a value is data.
    EXPECT_EQ(
        verify_subscription("hub.mode=subscribe&hub.challenge=x=y==&hub.verify_token=t=1", "t=1"),
        "x=y==");
    // An escaped NUL is a byte like any other.
    const auto nul = verify_subscription(
        "hub.mode=subscribe&hub.challenge=a%00b&hub.verify_token=meatyhamhock", kToken);
    ASSERT_TRUE(nul.has_value());
    EXPECT_EQ(*nul, std::string("a\0b", 3));
}

TEST(Subscription, MalformedEscapesInvalidateTheirPair) {
    const std::string tail = "&hub.mode=subscribe&hub.challenge=42";
    for (std::string bad : {"%", "%4", "%zz", "%4g", "abc%", "%%41"}) {
        // In the token: the token is then missing.
        EXPECT_EQ(verify_subscription("hub.verify_token=meatyhamhock" + bad + tail, kToken),
                  std::nullopt)
            << bad;
        // In the challenge: the challenge is then missing.
        EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.verify_token=meatyhamhock"
                                      "&hub.challenge=42" +
                                          bad,
                                      kToken),
                  std::nullopt)
            << bad;
        // In an unrelated parameter: ignored.
        EXPECT_EQ(verify_subscription("x=" + bad + "&hub.verify_token=meatyhamhock" + tail, kToken),
                  "42")
            << bad;
    }
    // A malformed pair does not "use up" the name: a good one may follow.
    EXPECT_EQ(verify_subscription("hub.challenge=%zz&hub.challenge=7&hub.mode=subscribe"
                                  "&hub.verify_token=meatyhamhock",
                                  kToken),
              "7");
}

TEST(Subscription, RepeatedParametersRefuse) {
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.challenge=42&hub.verify_token=wrong"
                                  "&hub.verify_token=meatyhamhock",
                                  kToken),
              std::nullopt);
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub.challenge=1&hub.challenge=2"
                                  "&hub.verify_token=meatyhamhock",
                                  kToken),
              std::nullopt);
    EXPECT_EQ(verify_subscription("hub.mode=subscribe&hub%2emode=subscribe&hub.challenge=1"
                                  "&hub.verify_token=meatyhamhock",
                                  kToken),
              std::nullopt);
}

TEST(Subscription, ChallengeIsCappedAt1024Bytes) {
    const std::string head = "hub.mode=subscribe&hub.verify_token=meatyhamhock&hub.challenge=";
    const std::string max(kMaxChallengeBytes, '7');
    EXPECT_EQ(verify_subscription(head + max, kToken), max);
    EXPECT_EQ(verify_subscription(head + max + "7", kToken), std::nullopt);
    // The cap is on decoded bytes: 1024 escapes are 3072 characters of query.
    std::string escaped;
    for (size_t i = 0; i < kMaxChallengeBytes; ++i)
        escaped += "%41";
    EXPECT_EQ(verify_subscription(head + escaped, kToken), std::string(kMaxChallengeBytes, 'A'));
    EXPECT_EQ(verify_subscription(head + escaped + "+", kToken), std::nullopt);
    // A huge query does not hurt.
    EXPECT_EQ(verify_subscription(head + std::string(1 << 20, '1'), kToken), std::nullopt);
}

TEST(Subscription, GarbageQueries) {
    for (const std::string& q :
         std::vector<std::string>{"", "?", "&", "&&&", "=", "==&=", "hub.mode", "%", "?%zz",
                                  std::string("\0\0\0", 3), "hub.mode=subscribe;hub.challenge=1"}) {
        EXPECT_EQ(verify_subscription(q, kToken), std::nullopt) << q;
    }
}

} // namespace
} // namespace wabridge::whatsapp

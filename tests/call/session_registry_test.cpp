#include "sdp/sdp_fixtures.hpp"
#include "support/test_data.hpp"
#include "wabridge/call/session_registry.hpp"

#include <gtest/gtest.h>

namespace wabridge::call {
namespace {

using namespace std::chrono_literals;

loop::Now at(int seconds) {
    return {loop::TimePoint() + std::chrono::hours(1) + std::chrono::seconds(seconds),
            std::chrono::system_clock::time_point() + std::chrono::hours(500000) +
                std::chrono::seconds(seconds)};
}

struct Fixture {
    MetricsRegistry metrics;
    int answers_made = 0;
    SessionRegistry registry;
    explicit Fixture(RegistryLimits limits = {})
        : registry(
              limits,
              [this](std::string_view offer) {
                  ++answers_made;
                  return sdp::answer_offer(offer, sdp::test_fixtures::local_transport());
              },
              metrics) {}
};

const std::string& offer() {
    static const std::string s = test::read_data("sdp/whatsapp/wa-offer-01.sdp");
    return s;
}

TEST(SessionRegistry, CreatesAndAnswersFromTheSdpEngine) {
    Fixture f;
    auto r =
        f.registry.create("wacid.1", offer(), {"+1555", "gpt-realtime", "be kind", "marin", {}, {}}, at(0));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->replayed);
    const CallSession* s = r->session;
    EXPECT_EQ(s->call_id, "wacid.1");
    EXPECT_EQ(s->answer, sdp::answer_offer(offer(), sdp::test_fixtures::local_transport())->sdp);
    EXPECT_EQ(s->options.voice, "marin");
    EXPECT_EQ(s->state, SessionState::answered);
    EXPECT_EQ(s->created_wall, at(0).wall);
    EXPECT_EQ(f.registry.active(), 1u);
    EXPECT_NE(f.metrics.render().find("wabridge_sessions_created_total 1\n"), std::string::npos);
    EXPECT_NE(f.metrics.render().find("wabridge_sessions_active 1\n"), std::string::npos);
}

TEST(SessionRegistry, RetryWithTheSameOfferReplaysTheSameAnswer) {
    Fixture f;
    auto first = f.registry.create("c", offer(), {}, at(0));
    auto again = f.registry.create("c", offer(), {}, at(5));
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->replayed);
    EXPECT_EQ(again->session, first->session);
    EXPECT_EQ(f.answers_made, 1);
    EXPECT_EQ(f.registry.active(), 1u);
}

TEST(SessionRegistry, DifferentOfferForTheSameCallIsAConflict) {
    Fixture f;
    ASSERT_TRUE(f.registry.create("c", offer(), {}, at(0)).ok());
    auto r = f.registry.create("c", test::read_data("sdp/whatsapp/wa-offer-02.sdp"), {}, at(1));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, CreateFailureKind::conflict);
}

TEST(SessionRegistry, InvalidOfferIsRefusedAndCountedByReason) {
    Fixture f;
    auto r =
        f.registry.create("c", test::read_data("sdp/whatsapp/wa-offer-04-partial.sdp"), {}, at(0));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, CreateFailureKind::invalid_sdp);
    EXPECT_EQ(r.error().message, "line 8: no a=fingerprint for DTLS");
    EXPECT_EQ(f.registry.find("c"), nullptr);
    EXPECT_NE(f.metrics.render().find("wabridge_sdp_rejected_total{reason=\"no_fingerprint\"} 1\n"),
              std::string::npos);
}

TEST(SessionRegistry, CapacityAndDrain) {
    RegistryLimits limits;
    limits.max_sessions = 2;
    Fixture f(limits);
    ASSERT_TRUE(f.registry.create("a", offer(), {}, at(0)).ok());
    ASSERT_TRUE(f.registry.create("b", offer(), {}, at(0)).ok());
    auto full = f.registry.create("c", offer(), {}, at(0));
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().kind, CreateFailureKind::capacity);
    f.registry.begin_drain();
    EXPECT_TRUE(f.registry.end("a", "deleted", at(1)));
    auto drained = f.registry.create("d", offer(), {}, at(1));
    ASSERT_FALSE(drained.ok());
    EXPECT_EQ(drained.error().kind, CreateFailureKind::draining);
    // A retry of an existing call is still answered while draining.
    EXPECT_TRUE(f.registry.create("b", offer(), {}, at(1)).ok());
}

TEST(SessionRegistry, EndRecordsReasonAndTimesOnce) {
    Fixture f;
    ASSERT_TRUE(f.registry.create("c", offer(), {}, at(0)).ok());
    EXPECT_TRUE(f.registry.end("c", "deleted", at(7)));
    EXPECT_FALSE(f.registry.end("c", "deleted", at(8)));
    EXPECT_FALSE(f.registry.end("unknown", "deleted", at(8)));
    const CallSession* s = f.registry.find("c");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->state, SessionState::ended);
    EXPECT_EQ(s->end_reason, "deleted");
    EXPECT_EQ(s->ended_wall, at(7).wall);
    EXPECT_EQ(f.registry.active(), 0u);
    auto again = f.registry.create("c", offer(), {}, at(9));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, CreateFailureKind::ended);
    EXPECT_NE(f.metrics.render().find("wabridge_sessions_ended_total{reason=\"deleted\"} 1\n"),
              std::string::npos);
}

TEST(SessionRegistry, SweepEndsSessionsPastMaxDuration) {
    RegistryLimits limits;
    limits.max_duration = 60s;
    Fixture f(limits);
    ASSERT_TRUE(f.registry.create("old", offer(), {}, at(0)).ok());
    ASSERT_TRUE(f.registry.create("new", offer(), {}, at(30)).ok());
    EXPECT_EQ(f.registry.sweep(at(59)), at(60).mono);
    EXPECT_EQ(f.registry.active(), 2u);
    EXPECT_EQ(f.registry.sweep(at(60)), at(90).mono);
    EXPECT_EQ(f.registry.find("old")->end_reason, "max_duration");
    EXPECT_EQ(f.registry.find("new")->state, SessionState::answered);
    EXPECT_EQ(f.registry.sweep(at(90)), std::nullopt);
}

TEST(SessionRegistry, EndAllAndRetentionOfEndedSessions) {
    RegistryLimits limits;
    limits.retain_ended = 2;
    Fixture f(limits);
    for (const char* id : {"a", "b", "c"})
        ASSERT_TRUE(f.registry.create(id, offer(), {}, at(0)).ok());
    EXPECT_EQ(f.registry.end_all("drain", at(1)), 3u);
    EXPECT_EQ(f.registry.active(), 0u);
    EXPECT_EQ(f.registry.list().size(), 2u); // the oldest ended one was pruned
}

TEST(SessionRegistry, ListsActiveFirst) {
    Fixture f;
    ASSERT_TRUE(f.registry.create("a", offer(), {}, at(0)).ok());
    ASSERT_TRUE(f.registry.create("b", offer(), {}, at(1)).ok());
    f.registry.end("a", "deleted", at(2));
    auto l = f.registry.list();
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[0]->call_id, "b");
    EXPECT_EQ(l[1]->call_id, "a");
}

} // namespace
} // namespace wabridge::call

namespace wabridge::call {
namespace {

struct FakeMedia : CallMedia {
    int* closes;
    explicit FakeMedia(int* c)
        : closes(c) {}
    MediaStats stats() const override {
        MediaStats m;
        m.state = *closes ? "closed" : "dtls_connected";
        m.packets_received = 42;
        return m;
    }
    void close() override { ++*closes; }
};

TEST(SessionRegistry, MediaIsClosedOnEndAndDisposedOutsideTheCallback) {
    MetricsRegistry metrics;
    int closes = 0;
    std::vector<std::unique_ptr<CallMedia>> graveyard;
    SessionRegistry registry(
        {},
        [&](std::string_view o, const std::string&,
            const SessionOptions&) -> Result<Started, StartFailure> {
            auto a = sdp::answer_offer(o, sdp::test_fixtures::local_transport());
            return Started{std::move(a.value()), std::make_unique<FakeMedia>(&closes)};
        },
        metrics, [&](std::unique_ptr<CallMedia> m) { graveyard.push_back(std::move(m)); });
    ASSERT_TRUE(registry.create("m", offer(), {}, at(0)).ok());
    ASSERT_NE(registry.find("m")->media, nullptr);
    EXPECT_EQ(registry.find("m")->media->stats().state, "dtls_connected");
    EXPECT_TRUE(registry.end("m", "ice_failed", at(3)));
    EXPECT_EQ(closes, 1);
    EXPECT_EQ(registry.find("m")->media, nullptr);
    EXPECT_EQ(registry.find("m")->final_media.state, "closed");
    EXPECT_EQ(registry.find("m")->final_media.packets_received, 42u);
    ASSERT_EQ(graveyard.size(), 1u); // destroyed later by the owner, not inside end()
}

TEST(SessionRegistry, MediaStartFailureIsReportedAndNotCountedAsSdp) {
    MetricsRegistry metrics;
    SessionRegistry registry(
        {},
        [](std::string_view, const std::string&,
           const SessionOptions&) -> Result<Started, StartFailure> {
            return err(StartFailure{CreateFailureKind::media_unavailable, "no free UDP port", {}});
        },
        metrics);
    auto r = registry.create("x", offer(), {}, at(0));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, CreateFailureKind::media_unavailable);
    EXPECT_EQ(registry.active(), 0u);
    EXPECT_EQ(metrics.render().find("wabridge_sdp_rejected_total"), std::string::npos);
}

} // namespace
} // namespace wabridge::call

// Two libnice agents through our adapter, in one process, on 127.0.0.1, both driven by our
// epoll loop through its GLib integration (no GLib thread).
#include "wabridge/loop/event_loop.hpp"
#include "wabridge/rtc/ice_agent.hpp"

#include <glib.h>
#include <gtest/gtest.h>
#include <string>

namespace wabridge::rtc {
namespace {

using namespace std::chrono_literals;

struct Side : IceAgent::Listener {
    std::vector<IceState> states;
    std::vector<std::string> received;
    std::string selected_local, selected_remote;
    void on_ice_state(IceState s) override { states.push_back(s); }
    void on_ice_data(std::span<const uint8_t> d) override {
        received.emplace_back(reinterpret_cast<const char*>(d.data()), d.size());
    }
    void on_ice_selected_pair(const std::string& l, const std::string& r) override {
        selected_local = l;
        selected_remote = r;
    }
    bool connected() const { return !states.empty() && states.back() == IceState::connected; }
};

struct Fixture {
    std::unique_ptr<loop::EventLoop> loop = std::move(loop::EventLoop::create().value());
    template <typename P> bool run_until(P done, std::chrono::milliseconds limit = 3000ms) {
        auto end = loop::Clock::now() + limit;
        while (!done() && loop::Clock::now() < end)
            loop->run_once(20ms);
        return done();
    }
};

IceSettings settings(bool controlling, bool lite, uint16_t port, const char* ufrag) {
    IceSettings s;
    s.controlling = controlling;
    s.lite = lite;
    s.bind_addresses = {"127.0.0.1"};
    s.port_min = port;
    s.port_max = static_cast<uint16_t>(port + 20);
    s.local_ufrag = ufrag;
    s.local_pwd = std::string(ufrag) + "PasswordPassword123456";
    return s;
}

// The bridge's shape against WhatsApp's: we are full and controlling, the relay is lite.
TEST(IceAgent, FullControllingAgentConnectsToALitePeerAndNominates) {
    Fixture f;
    Side us, relay;
    auto relay_settings = settings(false, true, 21000, "RelayUfragRelay1");
    auto r = IceAgent::create(*f.loop, relay_settings, relay);
    ASSERT_TRUE(r.ok()) << r.error();
    auto& relay_agent = *r.value();
    ASSERT_EQ(relay_agent.local_candidates().size(), 1u);
    EXPECT_EQ(relay_agent.local_candidates()[0].address, "127.0.0.1");
    EXPECT_GE(relay_agent.local_candidates()[0].port, 21000);
    EXPECT_LE(relay_agent.local_candidates()[0].port, 21020);

    auto our_settings = settings(true, false, 21100, "OurUfragOurUfrag");
    our_settings.remote_ufrag = relay_settings.local_ufrag;
    our_settings.remote_pwd = relay_settings.local_pwd;
    our_settings.remote_candidates = relay_agent.local_candidates();
    auto o = IceAgent::create(*f.loop, our_settings, us);
    ASSERT_TRUE(o.ok()) << o.error();
    auto& our_agent = *o.value();
    EXPECT_EQ(our_agent.remote_candidates_used(), 1u);
    // The relay learns our credentials from our answer (candidates too, though a lite agent
    // only answers checks).
    relay_agent.set_remote(our_settings.local_ufrag, our_settings.local_pwd,
                           our_agent.local_candidates());

    auto start = loop::Clock::now();
    ASSERT_TRUE(f.run_until([&] { return us.connected() && relay.connected(); }));
    EXPECT_LT(loop::Clock::now() - start, 1000ms);
    // A lite agent selects a pair only when the controlling side nominated it (USE-CANDIDATE).
    ASSERT_TRUE(f.run_until([&] { return !relay.selected_remote.empty(); }));
    EXPECT_EQ(relay.selected_remote, us.selected_local);

    const std::string hello = "\x80hello-from-us", back = "\x16hello-from-relay";
    EXPECT_TRUE(our_agent.send({reinterpret_cast<const uint8_t*>(hello.data()), hello.size()}));
    EXPECT_TRUE(relay_agent.send({reinterpret_cast<const uint8_t*>(back.data()), back.size()}));
    ASSERT_TRUE(f.run_until([&] { return !us.received.empty() && !relay.received.empty(); }));
    EXPECT_EQ(relay.received[0], hello);
    EXPECT_EQ(us.received[0], back);
}

TEST(IceAgent, FailsWhenThePeerNeverAnswers) {
    Fixture f;
    Side us;
    auto s = settings(true, false, 21200, "LonelyUfrag12345");
    s.remote_ufrag = "NobodyHome123456";
    s.remote_pwd = "NobodyHomePassword123456";
    sdp::Candidate dead;
    dead.foundation = "1";
    dead.priority = 2130706431;
    dead.address = "127.0.0.1";
    dead.port = 9; // discard: nothing answers on loopback
    s.remote_candidates = {dead};
    auto o = IceAgent::create(*f.loop, s, us);
    ASSERT_TRUE(o.ok()) << o.error();
    EXPECT_FALSE(o.value()->send({reinterpret_cast<const uint8_t*>("x"), 1}));
    ASSERT_TRUE(f.run_until([&] { return !us.states.empty(); }, 40000ms));
    EXPECT_EQ(us.states.back(), IceState::failed);
}

TEST(IceAgent, LoopbackAgentsNeverPairWithOutsideAddresses) {
    Fixture f;
    Side us;
    auto s = settings(true, false, 21400, "LoopUfragLoopUfr");
    s.remote_ufrag = "AeinEGDfvqBctbtM";
    s.remote_pwd = "F6/jjqL0/8/Dzluc0IoZEQ==";
    sdp::Candidate meta;
    meta.foundation = "3935165743";
    meta.priority = 2122260223;
    meta.address = "57.144.215.49"; // WhatsApp's relay in wa-offer-01: must never be contacted
    meta.port = 3484;
    sdp::Candidate local = meta;
    local.address = "127.0.0.1";
    s.remote_candidates = {meta, local};
    auto o = IceAgent::create(*f.loop, s, us);
    ASSERT_TRUE(o.ok()) << o.error();
    EXPECT_EQ(o.value()->remote_candidates_used(), 1u);
}

TEST(IceAgent, RefusesEmptyBindListAndBadAddresses) {
    Fixture f;
    Side us;
    auto s = settings(true, false, 21300, "UfragUfragUfrag1");
    s.bind_addresses.clear();
    EXPECT_FALSE(IceAgent::create(*f.loop, s, us).ok());
    s.bind_addresses = {"not-an-ip"};
    auto bad = IceAgent::create(*f.loop, s, us);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().find("not-an-ip"), std::string::npos);
}

} // namespace
} // namespace wabridge::rtc

#include "wabridge/net/resolver.hpp"

#include <chrono>
#include <gtest/gtest.h>

namespace wabridge::net {
namespace {

using namespace std::chrono_literals;

void run_until(loop::EventLoop& loop, const std::function<bool()>& done) {
    for (int i = 0; i < 500 && !done(); ++i)
        loop.run_once(10ms);
}

TEST(Resolver, IpLiteralsAreAnsweredOnTheLoopWithoutBlocking) {
    auto loop = std::move(loop::EventLoop::create().value());
    Resolver r(*loop);
    std::optional<Result<std::vector<Endpoint>, std::string>> got;
    r.resolve("::1", 443, [&](auto result) { got = std::move(result); });
    EXPECT_FALSE(got) << "answers come on a later loop turn, never inside resolve()";
    run_until(*loop, [&] { return got.has_value(); });
    ASSERT_TRUE(got && *got);
    ASSERT_EQ(got->value().size(), 1u);
    EXPECT_EQ(got->value()[0].text(), "[::1]:443");
}

TEST(Resolver, HostNamesGoThroughTheWorker) {
    auto loop = std::move(loop::EventLoop::create().value());
    Resolver r(*loop);
    std::optional<Result<std::vector<Endpoint>, std::string>> got;
    r.resolve("localhost", 8080, [&](auto result) { got = std::move(result); });
    run_until(*loop, [&] { return got.has_value(); });
    ASSERT_TRUE(got && *got) << (got ? got->error() : "no answer");
    bool loopback = false;
    for (const auto& e : got->value())
        loopback |= e.text() == "127.0.0.1:8080" || e.text() == "[::1]:8080";
    EXPECT_TRUE(loopback);
}

TEST(Resolver, CancelledRequestsNeverCallBack) {
    auto loop = std::move(loop::EventLoop::create().value());
    bool called = false;
    {
        Resolver r(*loop);
        const uint64_t id = r.resolve("127.0.0.1", 1, [&](auto) { called = true; });
        r.cancel(id);
        r.resolve("localhost", 1, [&](auto) { called = true; });
    } // destroyed with an answer possibly still posted
    for (int i = 0; i < 20; ++i)
        loop->run_once(5ms);
    EXPECT_FALSE(called);
}

} // namespace
} // namespace wabridge::net

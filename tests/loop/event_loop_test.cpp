#include "wabridge/app/metrics.hpp"
#include "wabridge/loop/event_loop.hpp"

#include <functional>
#include <glib-unix.h>
#include <glib.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <thread>
#include <unistd.h>

namespace wabridge::loop {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<EventLoop> make_loop() {
    auto loop = EventLoop::create();
    EXPECT_TRUE(loop.ok());
    return std::move(loop.value());
}

// Runs iterations until `done` or a 2 s safety limit.
template <typename Pred> void run_until(EventLoop& loop, Pred done) {
    auto limit = Clock::now() + 2s;
    while (!done() && Clock::now() < limit)
        loop.run_once(50ms);
}

TEST(EventLoop, TimersFireInOrderAndOnTime) {
    auto loop = make_loop();
    std::vector<int> order;
    TimePoint start = Clock::now();
    TimePoint fired_at{};
    loop->after(30ms, [&](TimePoint now) {
        order.push_back(2);
        fired_at = now;
    });
    loop->after(10ms, [&](TimePoint) { order.push_back(1); });
    TimerId cancelled = loop->after(20ms, [&](TimePoint) { order.push_back(99); });
    EXPECT_TRUE(loop->cancel(cancelled));
    run_until(*loop, [&] { return order.size() == 2; });
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_GE(fired_at - start, 30ms);
    EXPECT_LT(fired_at - start, 500ms);
}

TEST(EventLoop, NowIsReadOncePerIteration) {
    auto loop = make_loop();
    TimePoint a{}, b{};
    loop->after(0ms, [&](TimePoint now) { a = now; });
    loop->after(0ms, [&](TimePoint now) { b = now; });
    run_until(*loop, [&] { return b != TimePoint{}; });
    EXPECT_EQ(a, b);
    EXPECT_EQ(loop->now().mono, a);
}

TEST(EventLoop, LagIsObserved) {
    auto loop = make_loop();
    Histogram lag({0.001, 0.01, 0.1});
    loop->set_lag_histogram(&lag);
    bool fired = false;
    loop->after(5ms, [&](TimePoint) { fired = true; });
    run_until(*loop, [&] { return fired; });
    EXPECT_EQ(lag.count(), 1u);
    EXPECT_GE(lag.sum(), 0.0);
    EXPECT_LT(lag.sum(), 0.1);
}

TEST(EventLoop, FdCallbacksAndUnwatchFromInside) {
    auto loop = make_loop();
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    std::string got;
    ASSERT_TRUE(loop->watch(p[0], EPOLLIN,
                            [&](uint32_t ev) {
                                ASSERT_TRUE(ev & EPOLLIN);
                                char buf[16];
                                ssize_t n = read(p[0], buf, sizeof buf);
                                got.append(buf, static_cast<size_t>(n));
                                loop->unwatch(p[0]);
                            })
                    .ok());
    ASSERT_EQ(write(p[1], "hi", 2), 2);
    run_until(*loop, [&] { return !got.empty(); });
    EXPECT_EQ(got, "hi");
    // Unwatched: more data does not call back.
    ASSERT_EQ(write(p[1], "x", 1), 1);
    loop->run_once(20ms);
    EXPECT_EQ(got, "hi");
    close(p[0]);
    close(p[1]);
}

TEST(EventLoop, PostFromAnotherThreadWakesTheLoop) {
    auto loop = make_loop();
    std::thread::id ran_on;
    std::thread t([&] { loop->post([&] { ran_on = std::this_thread::get_id(); }); });
    t.join();
    run_until(*loop, [&] { return ran_on != std::thread::id(); });
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoop, SignalsArriveThroughSignalfd) {
    auto loop = make_loop();
    int seen = 0;
    ASSERT_TRUE(loop->handle_signals([&](int signo) { seen = signo; }).ok());
    kill(getpid(), SIGTERM);
    run_until(*loop, [&] { return seen != 0; });
    EXPECT_EQ(seen, SIGTERM);
}

TEST(EventLoop, DrivesAGlibContextWithoutAThread) {
    auto loop = make_loop();
    GMainContext* ctx = g_main_context_new();
    loop->attach_glib(ctx);

    // A GLib timeout source on that context fires from our loop, on our thread.
    struct State {
        int timeouts = 0;
        int fd_events = 0;
        std::thread::id thread;
    } state;
    GSource* timeout = g_timeout_source_new(10);
    g_source_set_callback(
        timeout,
        [](gpointer data) -> gboolean {
            auto* s = static_cast<State*>(data);
            ++s->timeouts;
            s->thread = std::this_thread::get_id();
            return G_SOURCE_REMOVE;
        },
        &state, nullptr);
    g_source_attach(timeout, ctx);
    g_source_unref(timeout);

    // A GLib fd source (what libnice uses for its sockets) dispatches when the fd is ready.
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    GSource* fd_source = g_unix_fd_source_new(p[0], G_IO_IN);
    GUnixFDSourceFunc on_fd = [](gint fd, GIOCondition, gpointer data) -> gboolean {
        char c;
        [[maybe_unused]] ssize_t n = read(fd, &c, 1);
        ++static_cast<State*>(data)->fd_events;
        return G_SOURCE_CONTINUE;
    };
    // GLib's own idiom (G_SOURCE_FUNC) for a source whose callback has another signature.
    g_source_set_callback(fd_source,
                          reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(on_fd)),
                          &state, nullptr);
    g_source_attach(fd_source, ctx);

    run_until(*loop, [&] { return state.timeouts == 1; });
    EXPECT_EQ(state.timeouts, 1);
    EXPECT_EQ(state.thread, std::this_thread::get_id());
    EXPECT_EQ(state.fd_events, 0);
    ASSERT_EQ(write(p[1], "a", 1), 1);
    run_until(*loop, [&] { return state.fd_events == 1; });
    EXPECT_EQ(state.fd_events, 1);

    g_source_destroy(fd_source);
    g_source_unref(fd_source);
    loop.reset();
    g_main_context_unref(ctx);
    close(p[0]);
    close(p[1]);
}

// GLib's prepare/check walk every source of every call, so the loop skips them in iterations
// where GLib has nothing to do: here 100 timer iterations of ours, one GLib timeout.
TEST(EventLoop, RunsGlibOnlyWhenItHasWork) {
    auto loop = make_loop();
    GMainContext* ctx = g_main_context_new();
    loop->attach_glib(ctx);
    int glib_fired = 0;
    GSource* timeout = g_timeout_source_new(100);
    g_source_set_callback(
        timeout, [](gpointer n) -> gboolean { return ++*static_cast<int*>(n), G_SOURCE_REMOVE; },
        &glib_fired, nullptr);
    g_source_attach(timeout, ctx);
    g_source_unref(timeout);

    int ours = 0;
    std::function<void(TimePoint)> tick = [&](TimePoint) {
        if (++ours < 100) loop->after(1ms, tick);
    };
    loop->after(1ms, tick);
    const TimePoint start = Clock::now();
    run_until(*loop, [&] { return ours == 100 && glib_fired == 1; });
    EXPECT_EQ(glib_fired, 1);
    EXPECT_EQ(ours, 100);
    EXPECT_GE(Clock::now() - start, 100ms); // GLib's timeout was not run early
    EXPECT_LE(loop->glib_cycles(), 5u) << "GLib was cycled in iterations with nothing for it";

    // A source added from outside a dispatch (as IceAgent does) runs once GLib is woken.
    int idle_ran = 0;
    GSource* idle = g_idle_source_new();
    g_source_set_callback(
        idle, [](gpointer n) -> gboolean { return ++*static_cast<int*>(n), G_SOURCE_REMOVE; },
        &idle_ran, nullptr);
    g_source_attach(idle, ctx);
    g_source_unref(idle);
    g_main_context_wakeup(ctx);
    const TimePoint woken = Clock::now();
    run_until(*loop, [&] { return idle_ran == 1; });
    EXPECT_EQ(idle_ran, 1);
    EXPECT_LT(Clock::now() - woken, 20ms);

    loop.reset();
    g_main_context_unref(ctx);
}

} // namespace
} // namespace wabridge::loop

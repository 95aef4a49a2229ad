// The one event loop: epoll over every file descriptor of the process, one timerfd for the
// timer heap, an eventfd for wake-ups from helper threads, a signalfd for SIGINT/SIGTERM, and
// libnice's GLib main context folded in (prepare/query → epoll → check/dispatch), so GLib never
// gets a thread of its own. Monotonic time is read once per iteration and handed down.
#pragma once

#include "wabridge/loop/timer_queue.hpp"
#include "wabridge/util/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <sys/epoll.h>
#include <unordered_map>
#include <vector>

typedef struct _GMainContext GMainContext;

namespace wabridge {
class Histogram;
}

namespace wabridge::loop {

class GlibPoller;

// Both clocks as read at the start of one loop iteration. Components take this, never a clock.
struct Now {
    TimePoint mono;
    std::chrono::system_clock::time_point wall;
};

class EventLoop {
public:
    using FdCallback = std::function<void(uint32_t epoll_events)>;

    static Result<std::unique_ptr<EventLoop>, std::string> create();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Watches `fd` for `events` (EPOLLIN, EPOLLOUT, ...). The callback runs on this loop; it may
    // unwatch any fd, itself included. Returns the errno text on failure.
    Result<std::monostate, std::string> watch(int fd, uint32_t events, FdCallback callback);
    void modify(int fd, uint32_t events);
    void unwatch(int fd);

    TimerId at(TimePoint deadline, TimerQueue::Callback callback);
    TimerId after(Clock::duration delay, TimerQueue::Callback callback);
    bool cancel(TimerId id) { return timers_.cancel(id); }

    // The time read at the start of the current iteration.
    const Now& now() const { return now_; }

    // Thread-safe: runs `task` on the loop thread soon (the only cross-thread entry point).
    void post(std::function<void()> task);

    // Blocks SIGINT and SIGTERM for the process, routes them to `handler` through a signalfd,
    // and ignores SIGPIPE. Call before starting any thread.
    Result<std::monostate, std::string> handle_signals(std::function<void(int signo)> handler);

    // Folds a GLib main context (libnice's) into this loop. The context is acquired by this
    // thread for the loop's lifetime.
    void attach_glib(GMainContext* context);

    // Every timer's lag (dispatch time minus deadline) goes into this histogram, in seconds.
    void set_lag_histogram(Histogram* histogram) { lag_histogram_ = histogram; }

    // Runs until stop(). Each iteration: GLib prepare/query, epoll_wait, read the clock, fd
    // callbacks, due timers, GLib check/dispatch.
    void run();
    // Runs one iteration, waiting at most `max_wait` (for tests).
    void run_once(Clock::duration max_wait);
    void stop() { stopped_ = true; }
    bool stopped() const { return stopped_; }

private:
    EventLoop(int epoll_fd, int timer_fd, int wake_fd);
    void iterate(int timeout_ms);
    void rearm_timer();
    void drain_posted();

    struct Watch {
        int fd;
        FdCallback callback;
    };
    enum Token : uint64_t {
        kTimerToken = 1,
        kWakeToken = 2,
        kSignalToken = 3,
        kFirstUserToken = 16
    };

    int epoll_fd_;
    int timer_fd_;
    int wake_fd_;
    int signal_fd_ = -1;
    std::function<void(int)> signal_handler_;
    std::unordered_map<uint64_t, Watch> watches_; // token -> watch
    std::unordered_map<int, uint64_t> tokens_;    // fd -> token
    uint64_t next_token_ = kFirstUserToken;
    TimerQueue timers_;
    TimePoint armed_ = TimePoint::max();
    Now now_;
    bool stopped_ = false;
    bool in_iteration_ = false;
    Histogram* lag_histogram_ = nullptr;
    std::unique_ptr<GlibPoller> glib_;
    std::mutex posted_mutex_;
    std::vector<std::function<void()>> posted_;
};

} // namespace wabridge::loop

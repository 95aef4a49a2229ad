// The one event loop: epoll over every file descriptor of the process, the timer heap's
// deadline as epoll_pwait2's timeout (a timerfd where the kernel lacks it), an eventfd for
// wake-ups from helper threads, a signalfd for SIGINT/SIGTERM, and libnice's GLib main context
// folded in (prepare/query → epoll → check/dispatch, only when GLib has something to do), so
// GLib never gets a thread of its own. Monotonic time is read once per iteration and handed down.
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

    // Folds a GLib main context into this loop; it stays acquired by this thread until
    // detach_glib() (or the loop's end). Any number of contexts: each NiceAgent has its own, so
    // a GLib cycle walks one call's sources, not all of them. detach_glib() takes the context's
    // fds out of epoll at once (call it while they are still open) and may run inside one of
    // its own callbacks.
    void attach_glib(GMainContext* context);
    void detach_glib(GMainContext* context);
    // GLib check/dispatch cycles run so far, over all contexts (tests).
    uint64_t glib_cycles() const { return glib_cycles_; }

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
    void prepare_glib();
    int wait(epoll_event* events, int max_events, int timeout_ms);
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
    bool use_pwait2_ = true; // epoll_pwait2 (Linux 5.11) times the wait; else the timerfd
    Histogram* lag_histogram_ = nullptr;
    // GLib contexts: pollers by context, the owner of each GLib fd in the epoll set, those to
    // prepare before the next wait, those to dispatch in this iteration, and detached ones kept
    // until the iteration ends.
    void activate(GlibPoller* poller);
    std::unordered_map<GMainContext*, std::unique_ptr<GlibPoller>> glib_;
    std::unordered_map<int, GlibPoller*> glib_fds_;
    std::vector<GlibPoller*> glib_to_prepare_, glib_active_;
    std::vector<std::unique_ptr<GlibPoller>> glib_detached_;
    uint64_t glib_cycles_ = 0;
    std::mutex posted_mutex_;
    std::vector<std::function<void()>> posted_;
};

} // namespace wabridge::loop

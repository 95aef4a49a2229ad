#include "wabridge/loop/event_loop.hpp"

#include "glib_poller.hpp"
#include "wabridge/app/metrics.hpp"

#include <cerrno>
#include <cstring>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace wabridge::loop {

namespace {

constexpr uint64_t kGlibToken = 4;
constexpr uint64_t kLowMask = 0xffffffffu;

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

Err<std::string> fail(const char* what) {
    return err(errno_text(what));
}

} // namespace

Result<std::unique_ptr<EventLoop>, std::string> EventLoop::create() {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return fail("epoll_create1");
    // steady_clock is CLOCK_MONOTONIC on Linux, so deadlines map onto the timerfd directly.
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    int wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (tfd < 0 || wfd < 0) {
        auto e = fail(tfd < 0 ? "timerfd_create" : "eventfd");
        if (tfd >= 0) close(tfd);
        if (wfd >= 0) close(wfd);
        close(ep);
        return e;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kTimerToken;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    ev.data.u64 = kWakeToken;
    epoll_ctl(ep, EPOLL_CTL_ADD, wfd, &ev);
    return std::unique_ptr<EventLoop>(new EventLoop(ep, tfd, wfd));
}

EventLoop::EventLoop(int epoll_fd, int timer_fd, int wake_fd)
    : epoll_fd_(epoll_fd)
    , timer_fd_(timer_fd)
    , wake_fd_(wake_fd) {
    now_ = {Clock::now(), std::chrono::system_clock::now()};
}

EventLoop::~EventLoop() {
    glib_.reset();
    if (signal_fd_ >= 0) close(signal_fd_);
    close(wake_fd_);
    close(timer_fd_);
    close(epoll_fd_);
}

Result<std::monostate, std::string> EventLoop::watch(int fd, uint32_t events, FdCallback callback) {
    uint64_t token = next_token_++;
    if ((next_token_ & kLowMask) < kFirstUserToken) next_token_ += kFirstUserToken;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return fail("epoll_ctl(ADD)");
    watches_[token] = Watch{fd, std::move(callback)};
    tokens_[fd] = token;
    return std::monostate{};
}

void EventLoop::modify(int fd, uint32_t events) {
    auto it = tokens_.find(fd);
    if (it == tokens_.end()) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = it->second;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::unwatch(int fd) {
    auto it = tokens_.find(fd);
    if (it == tokens_.end()) return;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    watches_.erase(it->second);
    tokens_.erase(it);
}

TimerId EventLoop::at(TimePoint deadline, TimerQueue::Callback callback) {
    TimerId id = timers_.schedule(deadline, std::move(callback));
    // Inside an iteration the timerfd is re-armed once at its end.
    if (!in_iteration_ && deadline < armed_) rearm_timer();
    return id;
}

TimerId EventLoop::after(Clock::duration delay, TimerQueue::Callback callback) {
    return at(now_.mono + delay, std::move(callback));
}

void EventLoop::post(std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(posted_mutex_);
        posted_.push_back(std::move(task));
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::drain_posted() {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof count);
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard<std::mutex> lock(posted_mutex_);
        tasks.swap(posted_);
    }
    for (auto& t : tasks)
        t();
}

Result<std::monostate, std::string> EventLoop::handle_signals(std::function<void(int)> handler) {
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail("sigprocmask");
    signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) return fail("signalfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kSignalToken;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev) != 0)
        return fail("epoll_ctl(signalfd)");
    signal_handler_ = std::move(handler);
    return std::monostate{};
}

void EventLoop::attach_glib(GMainContext* context) {
    glib_ = std::make_unique<GlibPoller>(context, epoll_fd_, kGlibToken);
}

void EventLoop::rearm_timer() {
    auto next = timers_.next_deadline();
    TimePoint want = next.value_or(TimePoint::max());
    if (want == armed_) return;
    itimerspec spec{};
    if (next) {
        auto ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(want.time_since_epoch()).count();
        if (ns <= 0) ns = 1; // 0 would disarm
        spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    }
    timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
    armed_ = want;
}

void EventLoop::run() {
    while (!stopped_)
        iterate(-1);
}

void EventLoop::run_once(Clock::duration max_wait) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(max_wait).count();
    iterate(static_cast<int>(ms));
}

void EventLoop::iterate(int timeout_ms) {
    in_iteration_ = true;
    if (glib_) {
        int glib_timeout = glib_->prepare();
        if (glib_timeout >= 0 && (timeout_ms < 0 || glib_timeout < timeout_ms))
            timeout_ms = glib_timeout;
    }
    epoll_event events[256];
    int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
    if (n < 0) n = 0; // EINTR: treat as a wake-up with nothing ready
    now_ = {Clock::now(), std::chrono::system_clock::now()};

    for (int i = 0; i < n; ++i) {
        uint64_t token = events[i].data.u64;
        uint32_t ev = events[i].events;
        if (token == kTimerToken) {
            uint64_t expirations = 0;
            [[maybe_unused]] ssize_t r = read(timer_fd_, &expirations, sizeof expirations);
            armed_ = TimePoint::max();
        } else if (token == kWakeToken) {
            drain_posted();
        } else if (token == kSignalToken) {
            signalfd_siginfo info{};
            while (read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
                if (signal_handler_) signal_handler_(static_cast<int>(info.ssi_signo));
            }
        } else if ((token & kLowMask) == kGlibToken) {
            if (glib_) glib_->ready(static_cast<int>(token >> 32), ev);
        } else {
            auto it = watches_.find(token);
            if (it == watches_.end()) continue;  // unwatched by an earlier callback
            FdCallback cb = it->second.callback; // copy: the callback may unwatch itself
            cb(ev);
        }
    }

    timers_.run_due(now_.mono, [this](Clock::duration lag) {
        if (lag_histogram_) lag_histogram_->observe(std::chrono::duration<double>(lag).count());
    });
    if (glib_) glib_->dispatch();
    rearm_timer();
    in_iteration_ = false;
}

} // namespace wabridge::loop

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
    glib_active_.clear();
    glib_to_prepare_.clear();
    glib_detached_.clear();
    glib_.clear();
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
    return timers_.schedule(deadline, std::move(callback)); // each wait() reads the heap
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
    if (glib_.count(context)) return;
    auto poller = std::make_unique<GlibPoller>(context, epoll_fd_, kGlibToken, glib_fds_);
    glib_to_prepare_.push_back(poller.get());
    glib_[context] = std::move(poller);
}

void EventLoop::detach_glib(GMainContext* context) {
    auto it = glib_.find(context);
    if (it == glib_.end()) return;
    GlibPoller* p = it->second.get();
    p->unregister_all();
    p->dead = true;
    if (p->deadline_timer) timers_.cancel(p->deadline_timer);
    p->deadline_timer = 0;
    std::erase(glib_to_prepare_, p);
    glib_detached_.push_back(std::move(it->second)); // may be inside its own dispatch
    glib_.erase(it);
    if (!in_iteration_) glib_detached_.clear();
}

void EventLoop::activate(GlibPoller* poller) {
    if (poller->active || poller->dead) return;
    poller->active = true;
    glib_active_.push_back(poller);
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

// One wait for everything: our timers (GLib's deadlines among them) and the caller's limit become
// the timeout of epoll_pwait2 (nanoseconds, no timerfd re-arm per deadline). Kernels before 5.11
// lack it: then the timerfd carries our timers and epoll_wait the rest, in milliseconds.
int EventLoop::wait(epoll_event* events, int max_events, int timeout_ms) {
    const TimePoint before = Clock::now();
    TimePoint wake =
        timeout_ms >= 0 ? before + std::chrono::milliseconds(timeout_ms) : TimePoint::max();
    if (use_pwait2_) {
        if (auto t = timers_.next_deadline()) wake = std::min(wake, *t);
        timespec ts{};
        timespec* tsp = nullptr;
        if (wake != TimePoint::max()) {
            const auto ns = std::max<int64_t>(
                0, std::chrono::duration_cast<std::chrono::nanoseconds>(wake - before).count());
            ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
            ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
            tsp = &ts;
        }
        const int n = epoll_pwait2(epoll_fd_, events, max_events, tsp, nullptr);
        if (n >= 0 || errno != ENOSYS) return n;
        use_pwait2_ = false; // fall back for good
    }
    rearm_timer(); // the timerfd carries our timers from here on
    int ms = -1;
    if (wake != TimePoint::max()) {
        const auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(wake - before).count();
        ms = static_cast<int>(std::max<int64_t>(0, (us + 999) / 1000));
    }
    return epoll_wait(epoll_fd_, events, max_events, ms);
}

// Contexts that dispatched (or are new) are prepared; GLib's deadline becomes one of our timers.
void EventLoop::prepare_glib() {
    const TimePoint now = Clock::now();
    for (GlibPoller* p : glib_to_prepare_) {
        const auto deadline = p->prepare(now);
        if (p->deadline_timer) timers_.cancel(p->deadline_timer);
        p->deadline_timer = 0;
        if (deadline)
            p->deadline_timer = timers_.schedule(*deadline, [this, p](TimePoint) {
                p->deadline_timer = 0;
                activate(p);
            });
    }
    glib_to_prepare_.clear();
}

void EventLoop::iterate(int timeout_ms) {
    in_iteration_ = true;
    prepare_glib();
    epoll_event events[256];
    int n = wait(events, 256, timeout_ms);
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
            auto owner = glib_fds_.find(static_cast<int>(token >> 32));
            if (owner == glib_fds_.end()) continue;
            owner->second->ready(owner->first, ev);
            activate(owner->second);
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
    // Index loop: a dispatch may activate or detach other contexts.
    for (size_t i = 0; i < glib_active_.size(); ++i) {
        GlibPoller* p = glib_active_[i];
        p->active = false;
        if (p->dead) continue;
        ++glib_cycles_;
        p->dispatch();
        if (!p->dead) glib_to_prepare_.push_back(p);
    }
    glib_active_.clear();
    glib_detached_.clear();
    in_iteration_ = false;
}

} // namespace wabridge::loop

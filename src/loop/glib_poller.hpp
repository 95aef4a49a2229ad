// Drives one GMainContext from our epoll loop (GLib's documented "external main loop" recipe:
// g_main_context_prepare → query → poll → check → dispatch), with the context's fds registered
// in our epoll set. Private to src/loop; EventLoop decides when each step runs.
//
// Every NiceAgent has a context of its own, so a cycle (prepare and check walk every source of
// the context) costs that one call's few sources, not every call's. A context is prepared once
// after each dispatch, and checked and dispatched only in an iteration where one of its fds is
// ready or its deadline passed. Code that changes a context's sources from outside a dispatch
// (IceAgent starting checks) calls g_main_context_wakeup(), whose fd is one of the context's.
#pragma once

#include "wabridge/loop/timer_queue.hpp"

#include <glib.h>
#include <optional>
#include <sys/epoll.h>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wabridge::loop {

class GlibPoller {
public:
    // `owners` maps each GLib fd in the epoll set to its poller (shared by all pollers).
    GlibPoller(GMainContext* context, int epoll_fd, uint64_t token,
               std::unordered_map<int, GlibPoller*>& owners);
    ~GlibPoller();
    GlibPoller(const GlibPoller&) = delete;
    GlibPoller& operator=(const GlibPoller&) = delete;

    // Prepares the context and syncs its fds into epoll. Returns when GLib next needs a cycle
    // without any fd (nullopt: never).
    std::optional<TimePoint> prepare(TimePoint now);
    // Records epoll readiness for one of this context's fds.
    void ready(int fd, uint32_t epoll_events);
    // Checks and dispatches the ready sources (after a prepare).
    void dispatch();
    // Takes every fd out of the epoll set (while they are still open).
    void unregister_all();

    GMainContext* context() const { return context_; }

    // Bookkeeping owned by EventLoop.
    bool dead = false;          // detached; destroyed at the end of the iteration
    bool active = false;        // queued for dispatch in this iteration
    TimerId deadline_timer = 0; // our timer for GLib's own deadline

private:
    void sync_epoll();
    void release_fd(int fd);
    void find_wakeup_fd();

    GMainContext* context_;
    int epoll_fd_;
    uint64_t token_;
    std::unordered_map<int, GlibPoller*>& owners_;
    gint max_priority_ = 0;
    std::vector<GPollFD> fds_;
    std::vector<std::pair<int, uint32_t>> registered_; // (fd, epoll events) in the set, by fd
    std::vector<std::pair<int, uint32_t>> wanted_;     // scratch for sync_epoll()
    std::vector<std::pair<int, uint32_t>> ready_;      // (fd, epoll events) since the last check
    // The context's own wake-up eventfd, or -1 if it could not be told apart. GLib signals it
    // from inside every dispatch of an fd source (re-adding the source's poll record); since we
    // prepare again after each dispatch anyway, we drain it there instead of paying one more
    // wait and GLib cycle per packet for that signal.
    int wakeup_fd_ = -1;
};

} // namespace wabridge::loop

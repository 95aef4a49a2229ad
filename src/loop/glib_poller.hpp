// Drives a GMainContext from our epoll loop (GLib's documented "external main loop" recipe:
// g_main_context_prepare → query → poll → check → dispatch), with GLib's fds registered in our
// epoll set under one token. Private to src/loop.
#pragma once

#include <glib.h>
#include <sys/epoll.h>
#include <unordered_map>
#include <vector>

namespace wabridge::loop {

class GlibPoller {
public:
    GlibPoller(GMainContext* context, int epoll_fd, uint64_t token);
    ~GlibPoller();

    // Prepares the context and syncs its fds into epoll. Returns GLib's timeout in ms (-1: none).
    int prepare();
    // Records epoll readiness for a GLib fd (called for each event carrying our token).
    void ready(int fd, uint32_t epoll_events);
    // Checks and dispatches the sources that are ready.
    void dispatch();

    uint64_t token() const { return token_; }

private:
    GMainContext* context_;
    int epoll_fd_;
    uint64_t token_;
    gint max_priority_ = 0;
    std::vector<GPollFD> fds_;
    std::unordered_map<int, uint32_t> registered_; // fd -> epoll events in the set
    std::unordered_map<int, uint32_t> ready_;      // fd -> epoll events this iteration
};

} // namespace wabridge::loop

#include "glib_poller.hpp"

namespace wabridge::loop {

namespace {

uint32_t to_epoll(gushort g) {
    uint32_t e = 0;
    if (g & G_IO_IN) e |= EPOLLIN;
    if (g & G_IO_OUT) e |= EPOLLOUT;
    if (g & G_IO_PRI) e |= EPOLLPRI;
    return e;
}

gushort to_glib(uint32_t e) {
    gushort g = 0;
    if (e & EPOLLIN) g |= G_IO_IN;
    if (e & EPOLLOUT) g |= G_IO_OUT;
    if (e & EPOLLPRI) g |= G_IO_PRI;
    if (e & EPOLLERR) g |= G_IO_ERR;
    if (e & EPOLLHUP) g |= G_IO_HUP;
    return g;
}

} // namespace

GlibPoller::GlibPoller(GMainContext* context, int epoll_fd, uint64_t token)
    : context_(g_main_context_ref(context))
    , epoll_fd_(epoll_fd)
    , token_(token) {
    g_main_context_acquire(context_);
    fds_.resize(16);
}

GlibPoller::~GlibPoller() {
    for (const auto& [fd, events] : registered_)
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    g_main_context_release(context_);
    g_main_context_unref(context_);
}

int GlibPoller::prepare() {
    g_main_context_prepare(context_, &max_priority_);
    gint timeout = -1;
    gint n = 0;
    while (true) {
        n = g_main_context_query(context_, max_priority_, &timeout, fds_.data(),
                                 static_cast<gint>(fds_.size()));
        if (n <= static_cast<gint>(fds_.size())) break;
        fds_.resize(static_cast<size_t>(n));
    }
    fds_.resize(static_cast<size_t>(n));

    // Merge the wanted events per fd, then bring the epoll set in line with it.
    std::unordered_map<int, uint32_t> wanted;
    for (const GPollFD& p : fds_)
        wanted[p.fd] |= to_epoll(p.events);
    for (auto it = registered_.begin(); it != registered_.end();) {
        if (!wanted.count(it->first)) {
            epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->first, nullptr);
            it = registered_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [fd, events] : wanted) {
        epoll_event ev{};
        ev.events = events;
        // The fd rides in the upper half so ready() can tell GLib's fds apart.
        ev.data.u64 = (static_cast<uint64_t>(static_cast<uint32_t>(fd)) << 32) | token_;
        auto it = registered_.find(fd);
        if (it == registered_.end()) {
            if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0) registered_[fd] = events;
        } else if (it->second != events) {
            if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0) it->second = events;
        }
    }
    ready_.clear();
    return timeout;
}

void GlibPoller::ready(int fd, uint32_t epoll_events) {
    ready_[fd] |= epoll_events;
}

void GlibPoller::dispatch() {
    for (GPollFD& p : fds_) {
        auto it = ready_.find(p.fd);
        p.revents = it == ready_.end()
                        ? 0
                        : static_cast<gushort>(to_glib(it->second) &
                                               (p.events | G_IO_ERR | G_IO_HUP | G_IO_NVAL));
    }
    if (g_main_context_check(context_, max_priority_, fds_.data(),
                             static_cast<gint>(fds_.size()))) {
        g_main_context_dispatch(context_);
    }
}

} // namespace wabridge::loop

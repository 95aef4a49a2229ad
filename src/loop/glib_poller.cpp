#include "glib_poller.hpp"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

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

GlibPoller::GlibPoller(GMainContext* context, int epoll_fd, uint64_t token,
                       std::unordered_map<int, GlibPoller*>& owners)
    : context_(g_main_context_ref(context))
    , epoll_fd_(epoll_fd)
    , token_(token)
    , owners_(owners) {
    g_main_context_acquire(context_);
    fds_.resize(16);
    find_wakeup_fd();
}

// Every context polls its GWakeup; a context that polls nothing else (a fresh one, as each
// IceAgent attaches) tells us which fd that is. With other fds already there we cannot tell, and
// do without the shortcut.
void GlibPoller::find_wakeup_fd() {
    gint priority = 0, timeout = -1;
    g_main_context_prepare(context_, &priority);
    const gint n = g_main_context_query(context_, priority, &timeout, fds_.data(),
                                        static_cast<gint>(fds_.size()));
    const gint seen = std::min<gint>(n, static_cast<gint>(fds_.size()));
    g_main_context_check(context_, priority, fds_.data(), seen); // close the cycle GLib's way
    if (n == 1) wakeup_fd_ = fds_[0].fd;
}

GlibPoller::~GlibPoller() {
    unregister_all();
    g_main_context_release(context_);
    g_main_context_unref(context_);
}

// Only while the fd is still ours: a number closed by GLib and reused by another context's
// socket belongs to that context now.
void GlibPoller::release_fd(int fd) {
    auto it = owners_.find(fd);
    if (it == owners_.end() || it->second != this) return;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    owners_.erase(it);
}

void GlibPoller::unregister_all() {
    for (const auto& [fd, events] : registered_)
        release_fd(fd);
    registered_.clear();
}

std::optional<TimePoint> GlibPoller::prepare(TimePoint now) {
    g_main_context_prepare(context_, &max_priority_);
    gint timeout = -1;
    gint n = 0;
    fds_.resize(fds_.capacity());
    while (true) {
        n = g_main_context_query(context_, max_priority_, &timeout, fds_.data(),
                                 static_cast<gint>(fds_.size()));
        if (n <= static_cast<gint>(fds_.size())) break;
        fds_.resize(static_cast<size_t>(n));
    }
    fds_.resize(static_cast<size_t>(n));
    sync_epoll();
    if (timeout < 0) return std::nullopt;
    return now + std::chrono::milliseconds(timeout);
}

// Brings the epoll set in line with the fds GLib wants (merged per fd); nothing to do in the
// usual case of an unchanged set.
void GlibPoller::sync_epoll() {
    wanted_.clear();
    for (const GPollFD& p : fds_)
        wanted_.emplace_back(p.fd, to_epoll(p.events));
    std::sort(wanted_.begin(), wanted_.end());
    size_t out = 0;
    for (size_t i = 0; i < wanted_.size(); ++i) {
        if (out > 0 && wanted_[out - 1].first == wanted_[i].first)
            wanted_[out - 1].second |= wanted_[i].second;
        else
            wanted_[out++] = wanted_[i];
    }
    wanted_.resize(out);
    if (wanted_ == registered_) return;

    std::vector<std::pair<int, uint32_t>> now_registered;
    now_registered.reserve(wanted_.size());
    auto old = registered_.begin();
    for (const auto& [fd, events] : wanted_) {
        for (; old != registered_.end() && old->first < fd; ++old)
            release_fd(old->first);
        epoll_event ev{};
        ev.events = events;
        // The fd rides in the upper half so ready() can tell GLib's fds apart.
        ev.data.u64 = (static_cast<uint64_t>(static_cast<uint32_t>(fd)) << 32) | token_;
        bool ok;
        if (old != registered_.end() && old->first == fd) {
            ok = old->second == events || epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
            ++old;
        } else {
            ok = epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0 ||
                 (errno == EEXIST && epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0);
        }
        if (ok) {
            now_registered.emplace_back(fd, events);
            owners_[fd] = this;
        }
    }
    for (; old != registered_.end(); ++old)
        release_fd(old->first);
    registered_ = std::move(now_registered);
}

void GlibPoller::ready(int fd, uint32_t epoll_events) {
    for (auto& r : ready_) {
        if (r.first == fd) {
            r.second |= epoll_events;
            return;
        }
    }
    ready_.emplace_back(fd, epoll_events);
}

void GlibPoller::dispatch() {
    for (GPollFD& p : fds_) {
        p.revents = 0;
        for (const auto& [fd, events] : ready_) {
            if (fd == p.fd)
                p.revents = static_cast<gushort>(to_glib(events) &
                                                 (p.events | G_IO_ERR | G_IO_HUP | G_IO_NVAL));
        }
    }
    ready_.clear();
    if (g_main_context_check(context_, max_priority_, fds_.data(),
                             static_cast<gint>(fds_.size()))) {
        g_main_context_dispatch(context_);
        if (wakeup_fd_ >= 0) {
            uint64_t signals = 0;
            [[maybe_unused]] ssize_t r = read(wakeup_fd_, &signals, sizeof signals);
        }
    }
}

} // namespace wabridge::loop

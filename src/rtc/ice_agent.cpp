#include "wabridge/rtc/ice_agent.hpp"

#include <agent.h>
#include <glib-object.h>

namespace wabridge::rtc {

namespace {

constexpr unsigned kComponent = 1; // rtcp-mux: one component (RFC 5761)

bool is_loopback(const std::string& address) {
    return address.rfind("127.", 0) == 0 || address == "::1";
}

std::string address_text(const NiceAddress& a) {
    char buf[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&a, buf);
    return std::string(buf) + ":" + std::to_string(nice_address_get_port(&a));
}

} // namespace

std::string_view to_string(IceState s) {
    switch (s) {
    case IceState::checking:
        return "checking";
    case IceState::connected:
        return "connected";
    case IceState::failed:
        return "failed";
    }
    return "checking";
}

Result<std::unique_ptr<IceAgent>, std::string>
IceAgent::create(loop::EventLoop& loop, const IceSettings& s, Listener& listener) {
    if (s.bind_addresses.empty()) return err(std::string("no address to bind ICE candidates to"));
    std::unique_ptr<IceAgent> self(new IceAgent(loop, listener));
    // RFC 8445 full agent, regular nomination (§8.1.1); consent freshness (RFC 7675) keeps
    // checking the pair for the whole call.
    NiceAgent* agent = nice_agent_new_full(
        self->context_, NICE_COMPATIBILITY_RFC5245,
        static_cast<NiceAgentOption>(NICE_AGENT_OPTION_REGULAR_NOMINATION |
                                     NICE_AGENT_OPTION_CONSENT_FRESHNESS |
                                     (s.lite ? NICE_AGENT_OPTION_LITE_MODE : 0)));
    if (!agent) return err(std::string("nice_agent_new_full failed"));
    self->agent_ = agent;
    g_object_set(agent, "controlling-mode", s.controlling ? TRUE : FALSE, "ice-tcp", FALSE,
                 "ice-udp", TRUE, "upnp", FALSE, "keepalive-conncheck", TRUE, nullptr);
    for (const auto& address : s.bind_addresses) {
        NiceAddress a;
        nice_address_init(&a);
        if (!nice_address_set_from_string(&a, address.c_str())) {
            return err("ICE bind address " + address + " is not an IP address");
        }
        nice_agent_add_local_address(agent, &a);
    }
    unsigned stream = nice_agent_add_stream(agent, 1);
    if (stream == 0) return err(std::string("nice_agent_add_stream failed"));
    self->stream_ = stream;
    nice_agent_set_stream_name(agent, stream, "audio");
    nice_agent_set_port_range(agent, stream, kComponent, s.port_min, s.port_max);
    nice_agent_set_local_credentials(agent, stream, s.local_ufrag.c_str(), s.local_pwd.c_str());

    self->loopback_only_ = true;
    for (const auto& address : s.bind_addresses)
        self->loopback_only_ &= is_loopback(address);
    g_signal_connect(agent, "component-state-changed", G_CALLBACK(&IceAgent::on_state_changed),
                     self.get());
    g_signal_connect(agent, "new-selected-pair-full", G_CALLBACK(&IceAgent::on_selected_pair),
                     self.get());
    nice_agent_attach_recv(agent, stream, kComponent, self->context_, &IceAgent::on_receive,
                           self.get());

    if (!nice_agent_gather_candidates(agent, stream)) {
        return err("cannot bind a UDP port in " + std::to_string(s.port_min) + "-" +
                   std::to_string(s.port_max) + " on the ICE addresses");
    }
    // Host candidates exist as soon as gathering has started (no STUN/TURN is configured).
    GSList* locals = nice_agent_get_local_candidates(agent, stream, kComponent);
    for (GSList* i = locals; i; i = i->next) {
        auto* c = static_cast<NiceCandidate*>(i->data);
        if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP || c->type != NICE_CANDIDATE_TYPE_HOST) {
            continue;
        }
        sdp::Candidate out;
        out.foundation = c->foundation;
        out.component = c->component_id;
        out.transport = "udp";
        out.priority = c->priority;
        char buf[NICE_ADDRESS_STRING_LEN];
        nice_address_to_string(&c->addr, buf);
        out.address = buf;
        out.port = static_cast<uint16_t>(nice_address_get_port(&c->addr));
        out.type = "host";
        self->local_candidates_.push_back(std::move(out));
    }
    g_slist_free_full(locals, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
    if (self->local_candidates_.empty()) {
        return err("no UDP host candidate could be gathered in " + std::to_string(s.port_min) +
                   "-" + std::to_string(s.port_max));
    }

    if (!s.remote_ufrag.empty()) {
        self->set_remote(s.remote_ufrag, s.remote_pwd, s.remote_candidates);
    }
    return self; // the loop prepares a newly attached context before its next wait
}

size_t IceAgent::set_remote(const std::string& ufrag, const std::string& pwd,
                            const std::vector<sdp::Candidate>& candidates) {
    nice_agent_set_remote_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str());
    GSList* remotes = nullptr;
    for (const auto& rc : candidates) {
        if (!rc.is_udp() || rc.component != kComponent) continue;
        // A pair needs a route: from loopback-only addresses nothing but loopback is reachable,
        // so such candidates are never checked (and tests bound to 127.0.0.1 send nowhere else).
        if (loopback_only_ && !is_loopback(rc.address)) continue;
        std::string line = "a=candidate:" + sdp::format_candidate(rc);
        NiceCandidate* c = nice_agent_parse_remote_candidate_sdp(agent_, stream_, line.c_str());
        if (c) remotes = g_slist_append(remotes, c);
    }
    int added =
        remotes ? nice_agent_set_remote_candidates(agent_, stream_, kComponent, remotes) : 0;
    g_slist_free_full(remotes, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
    remote_used_ = added > 0 ? static_cast<size_t>(added) : 0;
    g_main_context_wakeup(context_); // connectivity checks start: their timer is a new source
    return remote_used_;
}

IceAgent::IceAgent(loop::EventLoop& loop, Listener& listener)
    : loop_(loop)
    , context_(g_main_context_new())
    , listener_(listener) {
    loop_.attach_glib(context_);
}

IceAgent::~IceAgent() {
    loop_.detach_glib(context_); // our sockets leave the epoll set while still open
    if (agent_) {
        if (stream_)
            nice_agent_attach_recv(agent_, stream_, kComponent, context_, nullptr, nullptr);
        g_signal_handlers_disconnect_by_data(agent_, this);
        if (stream_) nice_agent_remove_stream(agent_, stream_);
        g_object_unref(agent_);
    }
    g_main_context_unref(context_);
}

bool IceAgent::send(std::span<const uint8_t> datagram) {
    if (!connected_) return false;
    int n = nice_agent_send(agent_, stream_, kComponent, static_cast<guint>(datagram.size()),
                            reinterpret_cast<const gchar*>(datagram.data()));
    return n == static_cast<int>(datagram.size());
}

void IceAgent::on_state_changed(NiceAgent*, unsigned, unsigned component, unsigned state,
                                void* self_ptr) {
    auto* self = static_cast<IceAgent*>(self_ptr);
    if (component != kComponent) return;
    switch (state) {
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
        if (!self->connected_) {
            self->connected_ = true;
            self->listener_.on_ice_state(IceState::connected);
        }
        break;
    case NICE_COMPONENT_STATE_FAILED:
        if (!self->failed_) {
            self->failed_ = true;
            self->connected_ = false;
            self->listener_.on_ice_state(IceState::failed);
        }
        break;
    default:
        break;
    }
}

void IceAgent::on_receive(NiceAgent*, unsigned, unsigned, unsigned len, char* buf, void* self) {
    static_cast<IceAgent*>(self)->listener_.on_ice_data(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf), len));
}

void IceAgent::on_selected_pair(NiceAgent*, unsigned, unsigned, void* local, void* remote,
                                void* self) {
    auto* l = static_cast<NiceCandidate*>(local);
    auto* r = static_cast<NiceCandidate*>(remote);
    static_cast<IceAgent*>(self)->listener_.on_ice_selected_pair(address_text(l->addr),
                                                                 address_text(r->addr));
}

} // namespace wabridge::rtc

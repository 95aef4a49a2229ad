// The libnice adapter: one NiceAgent per call, on a GMainContext of its own that the event loop
// drives (no GLib thread; a GLib cycle then touches this call's sources only). Full ICE (RFC 8445)
// with regular nomination, controlling when the peer is lite, consent freshness on (RFC 7675), UDP
// host candidates only, ports from a range. libnice answers and sends STUN itself; everything else
// that arrives (DTLS, SRTP) is handed up.
#pragma once

#include "wabridge/loop/event_loop.hpp"
#include "wabridge/sdp/candidate.hpp"
#include "wabridge/util/result.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

typedef struct _GMainContext GMainContext;
typedef struct _NiceAgent NiceAgent;

namespace wabridge::rtc {

struct IceSettings {
    bool controlling = true;                 // RFC 8445 §6.1.1
    bool lite = false;                       // only for tests standing in for WhatsApp's relay
    std::vector<std::string> bind_addresses; // host candidate addresses (never empty)
    uint16_t port_min = 10000;
    uint16_t port_max = 10100;
    std::string local_ufrag, local_pwd;   // ours, also written into the answer
    std::string remote_ufrag, remote_pwd; // from the peer's SDP (may come later: set_remote)
    std::vector<sdp::Candidate> remote_candidates;
};

enum class IceState { checking, connected, failed };
std::string_view to_string(IceState s);

class IceAgent {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void on_ice_state(IceState state) = 0;
        // A non-STUN datagram from the selected peer (DTLS or SRTP/SRTCP).
        virtual void on_ice_data(std::span<const uint8_t> datagram) = 0;
        // The pair that ICE selected, as "local-ip:port" and "remote-ip:port".
        virtual void on_ice_selected_pair(const std::string& local, const std::string& remote) = 0;
    };

    // Creates the agent, binds host candidates in the port range, and starts connectivity
    // checks against the remote candidates. Fails when no port in the range can be bound.
    static Result<std::unique_ptr<IceAgent>, std::string>
    create(loop::EventLoop& loop, const IceSettings& settings, Listener& listener);
    ~IceAgent();
    IceAgent(const IceAgent&) = delete;
    IceAgent& operator=(const IceAgent&) = delete;

    // Our UDP host candidates (what the answer advertises, before any PUBLIC_IP mapping).
    const std::vector<sdp::Candidate>& local_candidates() const { return local_candidates_; }

    // The peer's credentials and candidates (no trickle: all at once). Returns how many
    // candidates libnice took (UDP, component 1).
    size_t set_remote(const std::string& ufrag, const std::string& pwd,
                      const std::vector<sdp::Candidate>& candidates);

    // Sends on the selected pair; false before ICE connected or when the socket refuses.
    bool send(std::span<const uint8_t> datagram);

    size_t remote_candidates_used() const { return remote_used_; }

private:
    IceAgent(loop::EventLoop& loop, Listener& listener);

    static void on_state_changed(NiceAgent*, unsigned stream, unsigned component, unsigned state,
                                 void* self);
    static void on_receive(NiceAgent*, unsigned stream, unsigned component, unsigned len, char* buf,
                           void* self);
    static void on_selected_pair(NiceAgent*, unsigned stream, unsigned component, void* local,
                                 void* remote, void* self);

    loop::EventLoop& loop_;
    GMainContext* context_; // ours, attached to loop_ for our lifetime
    NiceAgent* agent_ = nullptr;
    unsigned stream_ = 0;
    Listener& listener_;
    std::vector<sdp::Candidate> local_candidates_;
    size_t remote_used_ = 0;
    bool connected_ = false;
    bool failed_ = false;
    bool loopback_only_ = false; // every bind address is loopback: pair with loopback only
};

} // namespace wabridge::rtc

// The SDP data model (RFC 8866 §5): what the parser produces and the writer consumes.
// It keeps every attribute, known or not, in order, so nothing a peer sent is lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::sdp {

// a=<name>[:<value>] (RFC 8866 §5.13). `line` is the 1-based source line (0 when generated).
struct Attribute {
    std::string name;
    std::string value;
    bool has_value = false;
    size_t line = 0;
};

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 8866 §5.2)
struct Origin {
    std::string username = "-";
    std::string session_id;
    std::string session_version;
    std::string net_type = "IN";
    std::string addr_type = "IP4";
    std::string address;
};

// c=<nettype> <addrtype> <connection-address> (RFC 8866 §5.7)
struct Connection {
    std::string net_type = "IN";
    std::string addr_type = "IP4";
    std::string address;
};

// A bag of attributes with the look-ups every level needs.
struct AttributeList {
    std::vector<Attribute> attributes;

    const Attribute* find(std::string_view name) const;
    std::vector<const Attribute*> find_all(std::string_view name) const;
    bool has(std::string_view name) const { return find(name) != nullptr; }
    void add(std::string name, std::string value);
    void add_flag(std::string name);
};

// m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 8866 §5.14)
struct MediaDescription : AttributeList {
    std::string media;
    uint16_t port = 0;
    uint16_t port_count = 1;
    std::string proto;
    std::vector<std::string> formats;
    bool has_connection = false;
    Connection connection;
    std::vector<std::string> other_lines; // i=, b=, k= lines kept verbatim ("b=AS:30")
    size_t line = 0;
};

struct SessionDescription : AttributeList {
    Origin origin;
    std::string session_name = "-";
    bool has_connection = false;
    Connection connection;
    std::string timing = "0 0";
    std::vector<std::string> other_lines; // i=, u=, e=, p=, b=, r=, z=, k= lines kept verbatim
    std::vector<MediaDescription> media;
};

} // namespace wabridge::sdp

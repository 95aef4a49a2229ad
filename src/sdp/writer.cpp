#include "wabridge/sdp/writer.hpp"

namespace wabridge::sdp {

namespace {

void put(std::string& out, char type, std::string_view value) {
    out += type;
    out += '=';
    out += value;
    out += "\r\n";
}

void put_attributes(std::string& out, const AttributeList& list) {
    for (const auto& a : list.attributes) {
        out += "a=";
        out += a.name;
        if (a.has_value) {
            out += ':';
            out += a.value;
        }
        out += "\r\n";
    }
}

std::string connection_text(const Connection& c) {
    return c.net_type + " " + c.addr_type + " " + c.address;
}

} // namespace

std::string write(const SessionDescription& sd) {
    std::string out;
    out.reserve(1024);
    put(out, 'v', "0");
    const Origin& o = sd.origin;
    put(out, 'o',
        o.username + " " + o.session_id + " " + o.session_version + " " + o.net_type + " " +
            o.addr_type + " " + o.address);
    put(out, 's', sd.session_name);
    if (sd.has_connection) put(out, 'c', connection_text(sd.connection));
    put(out, 't', sd.timing);
    for (const auto& line : sd.other_lines) {
        out += line;
        out += "\r\n";
    }
    put_attributes(out, sd);
    for (const auto& m : sd.media) {
        std::string mline = m.media + " " + std::to_string(m.port);
        if (m.port_count > 1) mline += "/" + std::to_string(m.port_count);
        mline += " " + m.proto;
        for (const auto& f : m.formats)
            mline += " " + f;
        put(out, 'm', mline);
        if (m.has_connection) put(out, 'c', connection_text(m.connection));
        for (const auto& line : m.other_lines) {
            out += line;
            out += "\r\n";
        }
        put_attributes(out, m);
    }
    return out;
}

} // namespace wabridge::sdp

#include "wabridge/sdp/session_description.hpp"

namespace wabridge::sdp {

const Attribute* AttributeList::find(std::string_view name) const {
    for (const auto& a : attributes) {
        if (a.name == name) return &a;
    }
    return nullptr;
}

std::vector<const Attribute*> AttributeList::find_all(std::string_view name) const {
    std::vector<const Attribute*> out;
    for (const auto& a : attributes) {
        if (a.name == name) out.push_back(&a);
    }
    return out;
}

void AttributeList::add(std::string name, std::string value) {
    attributes.push_back({std::move(name), std::move(value), true, 0});
}

void AttributeList::add_flag(std::string name) {
    attributes.push_back({std::move(name), {}, false, 0});
}

} // namespace wabridge::sdp

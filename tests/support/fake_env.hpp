// A fake process environment for tests of code that takes an EnvLookup.
#pragma once

#include "wabridge/app/config.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace wabridge::test {

using Env = std::map<std::string, std::string, std::less<>>;

inline EnvLookup env_of(Env env) {
    return [env = std::move(env)](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
}

} // namespace wabridge::test

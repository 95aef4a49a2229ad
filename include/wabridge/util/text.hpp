// Small text helpers shared by the parsers. None of them trusts a length or throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::text {

// ASCII case-insensitive equality (SDP tokens such as "UDP" and "opus" are case-insensitive).
bool iequals(std::string_view a, std::string_view b);

// Lower-cases ASCII letters only.
std::string to_lower(std::string_view s);

// Splits on every occurrence of `sep`; empty fields are kept.
std::vector<std::string_view> split(std::string_view s, char sep);

// Splits on runs of single spaces exactly as SDP requires: no leading, trailing or double spaces.
// Returns std::nullopt when the spacing is not exact (RFC 8866 §9: fields separated by one SP).
std::optional<std::vector<std::string_view>> split_sp_strict(std::string_view s);

// Parses a non-empty run of decimal digits into a value not above `max`. No sign, no spaces.
std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max);

} // namespace wabridge::text

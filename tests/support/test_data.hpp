// Helpers shared by the unit tests. Tests run from the repository root.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace wabridge::test {

inline std::string data_path(const std::string& rel) {
    return "tests/data/" + rel;
}

inline std::string read_data(const std::string& rel) {
    std::ifstream f(data_path(rel), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Splits SDP text on CRLF (or LF) into lines, without the line endings.
inline std::vector<std::string> sdp_lines(const std::string& sdp) {
    std::vector<std::string> out;
    std::string line;
    std::istringstream in(sdp);
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(line);
    }
    return out;
}

// Every line that starts with `prefix`.
inline std::vector<std::string> lines_with(const std::string& sdp, const std::string& prefix) {
    std::vector<std::string> out;
    for (auto& l : sdp_lines(sdp)) {
        if (l.rfind(prefix, 0) == 0) out.push_back(l);
    }
    return out;
}

} // namespace wabridge::test

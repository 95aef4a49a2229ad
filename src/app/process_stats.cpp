#include "wabridge/app/process_stats.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace wabridge {

std::optional<ProcessStats> read_process_stats() {
    // proc(5): /proc/self/stat fields 14 and 15 are utime and stime in clock ticks; the comm
    // field (2) may contain spaces, so parse after its closing parenthesis.
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    std::ifstream statm("/proc/self/statm");
    unsigned long long size = 0, resident = 0;
    if (!(statm >> size >> resident)) return std::nullopt;
    ProcessStats s;
    s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    s.resident_bytes = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
    return s;
}

} // namespace wabridge

// This process's CPU time and resident memory, from /proc/self (Linux).
#pragma once

#include <optional>

namespace wabridge {

struct ProcessStats {
    double cpu_seconds = 0;    // user + system
    double resident_bytes = 0; // RSS
};

std::optional<ProcessStats> read_process_stats();

} // namespace wabridge

// Version of wabridge and of every C dependency it is built and linked with.
#pragma once

#include <string>

namespace wabridge {

// "wabridge 0.1.0"
std::string version_line();

// version_line() plus one indented line per dependency, for --version and the startup log.
std::string version_report();

} // namespace wabridge

#include "wabridge/app/version.hpp"

#include "wabridge/crypto/openssl.hpp"

#include <llhttp.h>
#include <nlohmann/json.hpp>
#include <opus/opus.h>
#include <srtp2/srtp.h>

#ifndef WABRIDGE_VERSION
#define WABRIDGE_VERSION "dev"
#endif
#ifndef WABRIDGE_NICE_VERSION
#define WABRIDGE_NICE_VERSION "unknown"
#endif
#ifndef WABRIDGE_SPEEXDSP_VERSION
#define WABRIDGE_SPEEXDSP_VERSION "unknown"
#endif

namespace wabridge {

std::string version_line() {
    return std::string("wabridge ") + WABRIDGE_VERSION;
}

std::string version_report() {
    std::string out = version_line() + "\n";
    out += "  " + openssl::version() + "\n";
    out += std::string("  ") + srtp_get_version_string() + "\n";
    // libnice and speexdsp expose no run-time version call; these are their pkg-config versions
    // at build time.
    out += std::string("  libnice ") + WABRIDGE_NICE_VERSION + "\n";
    out += std::string("  ") + opus_get_version_string() + "\n";
    out += std::string("  speexdsp ") + WABRIDGE_SPEEXDSP_VERSION + "\n";
    out += "  llhttp " + std::to_string(LLHTTP_VERSION_MAJOR) + "." +
           std::to_string(LLHTTP_VERSION_MINOR) + "." + std::to_string(LLHTTP_VERSION_PATCH) +
           " (Debian node-llhttp sources)\n";
    out += "  nlohmann-json " + std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
           std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
           std::to_string(NLOHMANN_JSON_VERSION_PATCH) + "\n";
    return out;
}

} // namespace wabridge

// The bridge process: one event loop carrying the HTTP control plane and the sessions, the
// max-duration sweep, and the SIGTERM drain. main() builds it from the Config and runs it.
#pragma once

#include "wabridge/app/config.hpp"
#include "wabridge/util/result.hpp"

#include <memory>
#include <string>

namespace wabridge {

class Bridge {
public:
    static Result<std::unique_ptr<Bridge>, std::string> create(const Config& config);
    ~Bridge();

    // Runs until drained after SIGINT/SIGTERM; returns the exit status (0).
    int run();

    uint16_t http_port() const;

private:
    struct Impl;
    explicit Bridge(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace wabridge

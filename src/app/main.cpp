// wabridge entry point: `wabridge [flags]` runs the bridge; `wabridge sdp ...` is the SDP CLI.
#include "wabridge/app/bridge.hpp"
#include "wabridge/app/config.hpp"
#include "wabridge/app/log.hpp"
#include "wabridge/app/version.hpp"
#include "wabridge/cli/sdp_command.hpp"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    using namespace wabridge;
    std::vector<std::string> args(argv + 1, argv + argc);

    if (!args.empty() && args[0] == "sdp") {
        return cli::run_sdp_command(std::span(args).subspan(1), process_env(),
                                    {std::cin, std::cout, std::cerr});
    }

    auto loaded = load_config(args, process_env());
    if (!loaded) {
        std::fprintf(stderr, "wabridge: %s\n", loaded.error().message.c_str());
        return 2;
    }
    if (loaded->action == ConfigAction::help) {
        std::cout << config_help("wabridge") << "\n" << cli::sdp_command_help();
        return 0;
    }
    if (loaded->action == ConfigAction::version) {
        std::cout << version_report();
        return 0;
    }

    const Config& config = loaded->config;
    Logger& log = logger();
    log.set_level(config.log_level);
    log.set_format(config.log_format);
    log.set_secrets(config_secrets(config));

    log.info("wabridge starting",
             {{"version", version_line()}, {"config", config_summary(config)}});
    auto bridge = Bridge::create(config);
    if (!bridge) {
        log.error("cannot start", {{"error", bridge.error()}});
        return 1;
    }
    return bridge.value()->run();
}

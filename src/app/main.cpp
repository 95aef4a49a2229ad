// wabridge entry point: `wabridge [flags]` runs the bridge; `wabridge sdp ...` is the SDP CLI.
#include "wabridge/app/config.hpp"
#include "wabridge/app/log.hpp"
#include "wabridge/app/version.hpp"
#include "wabridge/cli/sdp_command.hpp"
#include "wabridge/crypto/certificate.hpp"

#include <cstdio>
#include <iostream>
#include <signal.h>
#include <string>
#include <vector>

namespace {

// Blocks SIGINT and SIGTERM and waits for one. The epoll loop will take this over with a
// signalfd; until then the process only proves its configuration and identity.
int wait_for_stop_signal() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    int sig = 0;
    sigwait(&set, &sig);
    return sig;
}

} // namespace

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

    auto certificate = Certificate::generate();
    if (!certificate) {
        log.error("cannot create the DTLS certificate", {{"error", certificate.error()}});
        return 1;
    }
    log.info("wabridge starting",
             {{"version", version_line()}, {"config", config_summary(config)}});
    log.info("DTLS certificate ready",
             {{"type", "ECDSA P-256"}, {"fingerprint", certificate->sha256_fingerprint()}});
    log.warn("the HTTP control plane is not built yet: this build offers the SDP engine "
             "(wabridge sdp ...) and waits for SIGINT/SIGTERM");
    int sig = wait_for_stop_signal();
    log.info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    return 0;
}

#include "wabridge/cli/sdp_command.hpp"

#include "wabridge/crypto/certificate.hpp"
#include "wabridge/net/interfaces.hpp"
#include "wabridge/rtc/local_credentials.hpp"
#include "wabridge/sdp/answer.hpp"
#include "wabridge/sdp/offer.hpp"
#include "wabridge/sdp/whatsapp_checklist.hpp"
#include "wabridge/util/text.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

namespace wabridge::cli {

namespace {

constexpr size_t kMaxFileBytes = 1 << 20; // the parser's own cap (64 KiB) gives the real error

struct Options {
    std::string public_ip;
    bool public_ip_set = false;
    std::optional<uint16_t> port;
    std::vector<std::string> files;
};

struct UsageError {
    std::string message;
};

Result<Options, UsageError> parse_options(std::span<const std::string> args) {
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        std::optional<std::string> inline_value;
        if (arg.rfind("--", 0) == 0) {
            if (auto eq = arg.find('='); eq != std::string::npos) {
                inline_value = arg.substr(eq + 1);
                arg.resize(eq);
            }
        }
        auto value = [&]() -> std::optional<std::string> {
            if (inline_value) return inline_value;
            if (i + 1 < args.size()) return args[++i];
            return std::nullopt;
        };
        if (arg == "--public-ip") {
            auto v = value();
            if (!v) return err(UsageError{"--public-ip needs a value"});
            if (net::classify_ip(*v) != net::IpKind::unicast) {
                return err(UsageError{"invalid --public-ip=" + *v +
                                      ": expected a specific IPv4 or IPv6 address"});
            }
            o.public_ip = *v;
            o.public_ip_set = true;
        } else if (arg == "--port") {
            auto v = value();
            if (!v) return err(UsageError{"--port needs a value"});
            auto n = text::parse_uint(*v, 65535);
            if (!n || *n == 0) {
                return err(UsageError{"invalid --port=" + *v + ": expected 1..65535"});
            }
            o.port = static_cast<uint16_t>(*n);
        } else if (arg.size() > 1 && arg[0] == '-') {
            return err(UsageError{"unknown option " + arg});
        } else {
            o.files.push_back(arg);
        }
    }
    return o;
}

Result<std::string, std::string> read_input(const std::string& path, std::istream& stdin_stream) {
    std::string data;
    auto slurp = [&](std::istream& s) {
        data.assign(std::istreambuf_iterator<char>(s), {});
        return data.size() <= kMaxFileBytes;
    };
    if (path == "-") {
        if (!slurp(stdin_stream)) return err(std::string("standard input is larger than 1 MiB"));
        return data;
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) return err("cannot read " + path);
    if (!slurp(file)) return err(path + " is larger than 1 MiB");
    return data;
}

Result<sdp::LocalTransport, std::string> local_transport(const Config& config, const Options& o) {
    auto cert = Certificate::generate();
    if (!cert) return err("certificate: " + cert.error());
    std::vector<std::string> hosts = config.ice_bind_addresses;
    if (hosts.empty()) hosts = net::non_loopback_addresses();
    std::string public_ip = o.public_ip_set ? o.public_ip : config.public_ip;
    uint16_t port = o.port.value_or(config.rtp_port_min);
    auto candidates = sdp::host_candidates(sdp::advertised_addresses(hosts, public_ip), port);
    return rtc::new_local_transport(cert.value(), std::move(candidates));
}

int usage(Io io, const std::string& message) {
    io.err << "wabridge sdp: " << message << " (see 'wabridge sdp help')\n";
    return 2;
}

int run_answer(const Config& config, const Options& o, Io io) {
    if (o.files.size() != 1) return usage(io, "answer takes one OFFER_FILE or -");
    auto input = read_input(o.files[0], io.in);
    if (!input) return usage(io, input.error());
    auto offer = sdp::parse(input.value());
    if (!offer) {
        io.err << "wabridge sdp answer: invalid offer " << o.files[0] << ": "
               << offer.error().describe() << "\n";
        return 2;
    }
    auto local = local_transport(config, o);
    if (!local) {
        io.err << "wabridge sdp answer: " << local.error() << "\n";
        return 2;
    }
    auto answer = sdp::create_answer(offer.value(), local.value());
    if (!answer) {
        io.err << "wabridge sdp answer: cannot answer " << o.files[0] << ": "
               << answer.error().describe() << "\n";
        return 2;
    }
    io.out << answer->sdp;
    return 0;
}

int run_offer(const Config& config, const Options& o, Io io) {
    if (!o.files.empty()) return usage(io, "offer takes no file");
    auto local = local_transport(config, o);
    if (!local) {
        io.err << "wabridge sdp offer: " << local.error() << "\n";
        return 2;
    }
    io.out << sdp::create_offer(local.value());
    return 0;
}

int run_check(const Options& o, Io io) {
    if (o.files.size() != 2) return usage(io, "check takes OFFER_FILE and ANSWER_FILE");
    if (o.files[0] == "-" && o.files[1] == "-") {
        return usage(io, "only one of OFFER_FILE and ANSWER_FILE can be -");
    }
    auto offer = read_input(o.files[0], io.in);
    if (!offer) return usage(io, offer.error());
    auto answer = read_input(o.files[1], io.in);
    if (!answer) return usage(io, answer.error());
    auto findings = sdp::check_whatsapp_answer(offer.value(), answer.value());
    int required = 0;
    for (const auto& f : findings) {
        bool req = f.level == sdp::RuleLevel::required;
        required += req;
        io.out << (req ? "FAIL " : "WARN ") << f.rule << ": " << f.message << "\n";
    }
    if (findings.empty())
        io.out << "OK: the answer meets every WhatsApp checklist rule\n";
    else
        io.out << required << " required rule(s) broken, " << findings.size() - required
               << " recommendation(s)\n";
    for (const auto& f : findings) {
        if (f.rule == "parsable") return 2;
    }
    return required > 0 ? 1 : 0;
}

} // namespace

std::string sdp_command_help() {
    return "usage: wabridge sdp answer [--public-ip IP] [--port N] OFFER_FILE|-\n"
           "       wabridge sdp offer  [--public-ip IP] [--port N]\n"
           "       wabridge sdp check  OFFER_FILE ANSWER_FILE\n"
           "\n"
           "answer  prints the SDP answer the bridge would send for a WhatsApp offer.\n"
           "        Candidates: ICE_BIND_ADDRESSES (default: every non-loopback address),\n"
           "        with PUBLIC_IP / --public-ip advertised in place of same-family addresses;\n"
           "        port RTP_PORT_MIN / --port. Credentials and fingerprint are fresh per run.\n"
           "offer   prints a business-initiated offer (actpass, Opus/111, telephone-event/126).\n"
           "check   lists the WhatsApp checklist rules an answer breaks (138008 triage).\n"
           "\n"
           "exit status: 0 ok; 1 check found a required rule broken; 2 usage error or invalid "
           "SDP\n";
}

int run_sdp_command(std::span<const std::string> args, const EnvLookup& env, Io io) {
    if (args.empty()) return usage(io, "missing subcommand: answer, offer or check");
    const std::string& sub = args[0];
    if (sub == "help" || sub == "--help" || sub == "-h") {
        io.out << sdp_command_help();
        return 0;
    }
    if (sub != "answer" && sub != "offer" && sub != "check") {
        return usage(io, "unknown subcommand '" + sub + "'");
    }
    auto options = parse_options(args.subspan(1));
    if (!options) return usage(io, options.error().message);
    if (sub == "check") return run_check(options.value(), io);
    // answer and offer print what the bridge would send, so they read its configuration.
    auto loaded = load_config({}, env);
    if (!loaded) {
        io.err << "wabridge: " << loaded.error().message << "\n";
        return 2;
    }
    const Config& config = loaded->config;
    if (sub == "answer") return run_answer(config, options.value(), io);
    return run_offer(config, options.value(), io);
}

} // namespace wabridge::cli

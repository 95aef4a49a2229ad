// `wabridge sdp ...`: the SDP engine from the command line, and the user's triage tool for
// WhatsApp's 138008 "SDP Validation error".
//   sdp answer [--public-ip IP] [--port N] OFFER_FILE|-   print the answer the bridge would send
//   sdp offer  [--public-ip IP] [--port N]                print a business-initiated offer
//   sdp check  OFFER_FILE ANSWER_FILE                      list checklist rules an answer breaks
// Exit status: 0 success; 1 `check` found a required rule broken; 2 bad usage or invalid SDP.
#pragma once

#include "wabridge/app/config.hpp"

#include <iosfwd>
#include <span>
#include <string>

namespace wabridge::cli {

struct Io {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
};

// `args` starts after "sdp".
int run_sdp_command(std::span<const std::string> args, const EnvLookup& env, Io io);

std::string sdp_command_help();

} // namespace wabridge::cli

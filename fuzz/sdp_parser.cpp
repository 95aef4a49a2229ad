// libFuzzer target for the SDP engine. Beyond "no crash, no sanitizer report", it checks
// three properties on every input:
//  1. a parsed description written back out parses again to the same text (writer/parser agree);
//  2. any offer we can answer yields an answer that itself parses;
//  3. that answer breaks no required WhatsApp checklist rule.
#include "wabridge/sdp/answer.hpp"
#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/whatsapp_checklist.hpp"
#include "wabridge/sdp/writer.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace wabridge::sdp;

[[noreturn]] void violated(const char* what, const std::string& detail) {
    std::fprintf(stderr, "sdp_parser invariant violated: %s\n%s\n", what, detail.c_str());
    std::abort();
}

LocalTransport fuzz_transport() {
    LocalTransport t;
    t.ice_ufrag = "Fz7qLk2Rv9XwB4sN";
    t.ice_pwd = "Qm3Zt8Hc1Vy6Gd0Ks5Ja2Wn9Pe4Lb7Xr";
    t.fingerprint_sha256 = "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:"
                           "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9";
    t.candidates = host_candidates({"203.0.113.7", "2001:db8::7"}, 10000);
    t.ssrc = 0x5eed;
    t.cname = "fuzzcname";
    t.session_id = 1;
    return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto parsed = parse(input);
    if (!parsed) {
        if (parsed.error().reason.empty()) violated("error without a reason", "");
        return 0;
    }

    std::string written = write(parsed.value());
    auto reparsed = parse(written);
    if (!reparsed)
        violated("written SDP does not parse", reparsed.error().describe() + "\n" + written);
    if (write(reparsed.value()) != written) violated("write/parse is not stable", written);

    static const LocalTransport local = fuzz_transport();
    auto answer = create_answer(parsed.value(), local);
    if (!answer) return 0;
    if (!parse(answer->sdp)) violated("our answer does not parse", answer->sdp);

    // An offer that happens to carry our own credentials would be flagged as "echoed"; skip.
    if (input.find(local.ice_ufrag) != std::string_view::npos ||
        input.find(local.ice_pwd) != std::string_view::npos) {
        return 0;
    }
    for (const auto& f : check_whatsapp_answer(input, answer->sdp)) {
        if (f.level == RuleLevel::required)
            violated(f.rule.c_str(), f.message + "\n" + answer->sdp);
    }
    return 0;
}

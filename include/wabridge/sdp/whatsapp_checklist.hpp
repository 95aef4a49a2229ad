// The WhatsApp answer checklist (whatsapp-calling.md §5) as code: given the offer WhatsApp sent
// and an answer, list every rule the answer breaks. `wabridge sdp check` runs it so a user can
// triage a 138008 "SDP Validation error" on any answer, ours or not.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wabridge::sdp {

enum class RuleLevel { required, recommended };

struct Finding {
    std::string rule; // stable id, e.g. "single_fingerprint"
    RuleLevel level;
    std::string message; // one line: what is wrong and what to do
};

// Both texts are raw SDP. An unparsable offer or answer is reported as a finding.
std::vector<Finding> check_whatsapp_answer(std::string_view offer_text,
                                           std::string_view answer_text);

// Every rule id the checker knows, in checklist order (for docs and tests).
const std::vector<std::string>& whatsapp_rule_ids();

} // namespace wabridge::sdp

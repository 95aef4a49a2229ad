// libFuzzer target for the WhatsApp calls webhook core (whatsapp-calling.md §2): the bytes
// are a POST body for parse_webhook(), whose events then go through one CallEventFilter, the
// way the webhook handler will use them. The same bytes also go through the signature check
// and, as a query string, through verify_subscription().
//
// Beyond "no crash, no sanitizer report" it checks:
//  1. every routed call and status has a non-empty call id of at most kMaxCallIdBytes; a
//     call's kind is call_event_kind(event); no status holds a lower-case ASCII letter;
//     direction is one of the three values; at most kMaxErrorsPerEvent errors per event, and
//     no more than kMaxWebhookEvents events per batch;
//  2. the filter never holds more than its bound; an admitted pair (of a rememberable length) is a
//     duplicate when it comes again; after a terminate the call id is dead and a connect for it is
//     not accepted;
//  3. sign_sha256() of the body verifies, and a one-digit change does not;
//  4. a subscription challenge, when returned, is 1..1024 bytes.
#include "wabridge/whatsapp/event_filter.hpp"
#include "wabridge/whatsapp/signature.hpp"
#include "wabridge/whatsapp/subscription.hpp"
#include "wabridge/whatsapp/webhook.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace wabridge::whatsapp;
using namespace std::chrono_literals;
using Verdict = CallEventFilter::Verdict;

[[noreturn]] void violated(const char* what, std::string_view detail) {
    std::fprintf(stderr, "whatsapp_webhook invariant violated: %s\n%.*s\n", what,
                 static_cast<int>(std::min<size_t>(detail.size(), 2000)), detail.data());
    std::abort();
}

bool has_lower(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

void check_id(const std::string& id) {
    if (id.empty()) violated("empty call id", "");
    if (id.size() > kMaxCallIdBytes) violated("call id over the cap", id);
}

constexpr size_t kFilterBound = 8; // small, so eviction runs all the time

void admit_checked(CallEventFilter& filter, const std::string& id, const std::string& event,
                   std::chrono::steady_clock::time_point now) {
    const Verdict v = filter.admit(id, event, now);
    if (filter.size() > kFilterBound) violated("filter over its bound", id);
    if (event == "connect" && v == Verdict::accept && filter.is_dead(id))
        violated("connect accepted for a dead call", id);
    if (event == "terminate") {
        if (v == Verdict::dead) violated("terminate judged dead", id);
        if (!filter.is_dead(id)) violated("terminate did not mark the call dead", id);
    }
    // Right away, the same pair again is a duplicate (nothing expired in between), unless
    // the key is too long to be remembered.
    if (id.size() + event.size() <= CallEventFilter::kMaxKeyBytes &&
        filter.admit(id, event, now) != Verdict::duplicate)
        violated("repeated pair not a duplicate", id + " " + event);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    const auto parsed = parse_webhook(input);
    if (parsed.ok()) {
        const WebhookBatch& batch = parsed.value();
        if (batch.calls.size() + batch.statuses.size() > kMaxWebhookEvents)
            violated("more events than the cap", "");
        CallEventFilter filter({.ttl = 30s, .max_entries = kFilterBound});
        auto now = std::chrono::steady_clock::time_point{} + 1h;
        for (const CallEvent& c : batch.calls) {
            check_id(c.call_id);
            if (c.kind != call_event_kind(c.event)) violated("kind does not match event", c.event);
            if (has_lower(c.status)) violated("lower-case call status", c.status);
            if (!c.direction.empty() && c.direction != "USER_INITIATED" &&
                c.direction != "BUSINESS_INITIATED") {
                violated("unexpected direction", c.direction);
            }
            if (c.errors.size() > kMaxErrorsPerEvent) violated("too many errors", c.call_id);
            if (c.duration_seconds && *c.duration_seconds < 0) violated("negative duration", "");
            now += 7s;
            admit_checked(filter, c.call_id, c.event, now);
        }
        for (const StatusEvent& s : batch.statuses) {
            check_id(s.call_id);
            if (has_lower(s.status)) violated("lower-case status", s.status);
            if (s.errors.size() > kMaxErrorsPerEvent) violated("too many errors", s.call_id);
            now += 3s;
            admit_checked(filter, s.call_id, "status:" + s.status, now);
        }
        filter.expire(now + 1h);
        if (filter.size() != 0) violated("entries outlived the TTL", "");
    } else if (to_string(parsed.error().code) == "unknown") {
        violated("unknown error code", parsed.error().message);
    }

    // 3. Signatures round-trip on arbitrary bytes.
    std::string header = sign_sha256(input, "app-secret");
    if (verify_sha256(&header, input, "app-secret") != SignatureCheck::ok)
        violated("own signature does not verify", header);
    header.back() = header.back() == '0' ? '1' : '0';
    if (verify_sha256(&header, input, "app-secret") != SignatureCheck::mismatch)
        violated("altered signature accepted", header);

    // 4. The same bytes as a GET query.
    if (const auto challenge = verify_subscription(input, "token")) {
        if (challenge->empty() || challenge->size() > kMaxChallengeBytes)
            violated("challenge out of bounds", *challenge);
    }
    return 0;
}

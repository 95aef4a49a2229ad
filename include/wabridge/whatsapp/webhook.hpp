// The WhatsApp `calls` webhook POST body (whatsapp-calling.md §2.3–2.7) as typed events.
// Sans-IO and pure: bytes in, events out. The body is untrusted even after its signature
// checks out (§2.2), so every field is type-checked, every count and length is capped, and
// nothing throws.
#pragma once

#include "wabridge/util/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::whatsapp {

inline constexpr size_t kMaxWebhookBodyBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxWebhookDepth = 64;        // JSON nesting; our payloads need 11
inline constexpr size_t kMaxWebhookEvents = 10000;    // calls + statuses routed per body
inline constexpr size_t kMaxCallIdBytes = 256;        // a longer call id makes its item invalid
inline constexpr size_t kMaxErrorsPerEvent = 16;      // call-level first, then value-level
inline constexpr size_t kMaxErrorTextBytes = 8 << 20; // all CallError text in one batch

struct WebhookError {
    enum class Code { not_json, not_object, wrong_object, no_entries, too_large };
    Code code;
    std::string message;
};

std::string_view to_string(WebhookError::Code code);

// One errors[] item (§2.7): code, title, message and error_data.details. Title, message and
// details are cut (at a UTF-8 boundary) to 256, 1024 and 2048 bytes.
struct CallError {
    int code = 0; // 0 when absent or not an integer in range
    std::string title, message, details;
};

// One value.calls[] item (§2.4, §2.5, §2.7).
struct CallEvent {
    enum class Kind { connect, terminate, other };
    Kind kind = Kind::other;
    std::string event;                                 // raw event name ("connect", ...)
    std::string phone_number_id, display_phone_number; // value.metadata ("" over 256 bytes)
    std::string call_id, from, to;
    std::string direction;     // "USER_INITIATED", "BUSINESS_INITIATED" (any case in), else ""
    std::string timestamp;     // as given: a string, or a number as a decimal string
    std::string sdp_type, sdp; // session.sdp_type / session.sdp (connect); CRLFs kept
    // contacts[].profile.name of the contact whose wa_id equals `from`, else the only
    // contact's; at most 256 bytes.
    std::string contact_name;
    std::string status;                      // terminate: upper-cased ("COMPLETED", "FAILED")
    std::optional<int64_t> duration_seconds; // only when the call was picked up
    std::string start_time, end_time;
    std::string biz_opaque_callback_data;
    std::vector<CallError> errors; // the call object's errors[], then value.errors[]
};

// One value.statuses[] item (§2.6; business-initiated calls).
struct StatusEvent {
    std::string phone_number_id, call_id;
    std::string status; // upper-cased: "RINGING", "ACCEPTED", "REJECTED"
    std::string timestamp, recipient_id, biz_opaque_callback_data;
    std::vector<CallError> errors; // the status object's errors[], then value.errors[]
};

struct WebhookBatch {
    std::vector<CallEvent> calls;
    std::vector<StatusEvent> statuses;
    // changes whose field is not "calls" (§2.8: messages, account_update, ...), and "calls"
    // changes carrying neither calls[] nor statuses[] (e.g. only value.errors[])
    size_t ignored_changes = 0;
    // entries, changes, calls[] and statuses[] items of the wrong JSON type, items without a
    // non-empty string id of at most kMaxCallIdBytes, and items beyond kMaxWebhookEvents
    size_t invalid_items = 0;
};

// The event kind for a raw calls[].event name (exact, lower-case names as Meta sends them).
CallEvent::Kind call_event_kind(std::string_view event);

// Parses a webhook POST body. The envelope must be a JSON object (not_object otherwise) whose
// `object` is "whatsapp_business_account" (wrong_object), with a non-empty entry[] array
// (no_entries); a body over kMaxWebhookBodyBytes or nested deeper than kMaxWebhookDepth is
// too_large. Inside the envelope nothing fails the batch: bad items are counted and skipped,
// unknown fields ignored, and the legacy connection.webrtc.sdp field is not read (§2.4).
Result<WebhookBatch, WebhookError> parse_webhook(std::string_view body);

} // namespace wabridge::whatsapp

// The `calls` webhook body, whatsapp-calling.md §2.3 (envelope), §2.4–2.5 (connect), §2.6
// (statuses) and §2.7 (terminate). Nothing in the body is trusted: every field's JSON type is
// checked before use, a field of the wrong type counts as absent, and a bad item is skipped
// and counted rather than failing the batch (Meta batches up to 1000 updates, §2.2).
//
// Memory stays proportional to the body: the nesting depth, the number of routed events,
// the length of the strings copied into every event of a change (metadata, contact name,
// value-level errors) and the total error text are all capped.
#include "wabridge/whatsapp/webhook.hpp"

#include "wabridge/util/text.hpp"

#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace wabridge::whatsapp {

namespace {

using nlohmann::json;

constexpr std::string_view kObject = "whatsapp_business_account";
// Strings copied into every event of a change; longer values count as absent (ids) or are cut.
constexpr size_t kMaxSharedIdBytes = 256;
constexpr size_t kMaxContactNameBytes = 256;
constexpr size_t kMaxErrorTitleBytes = 256;
constexpr size_t kMaxErrorMessageBytes = 1024;
constexpr size_t kMaxErrorDetailsBytes = 2048;

WebhookError fail(WebhookError::Code code, std::string message) {
    return WebhookError{code, std::move(message)};
}

// True when `body` opens more than `max` arrays/objects at once. Strings are skipped, so a
// '[' inside one does not count; for invalid JSON the answer does not matter (parse fails).
bool nested_deeper_than(std::string_view body, size_t max) {
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max) return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence (the parser has already
// rejected invalid UTF-8, so only the cut itself could create one).
std::string cut_utf8(std::string_view s, size_t max) {
    if (s.size() <= max) return std::string(s);
    size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        --n;
    return std::string(s.substr(0, n));
}

std::string upper_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// The member `key` of `obj`, or nullptr when `obj` is not an object or has no such member.
const json* member(const json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

std::string string_at(const json& obj, const char* key) {
    const json* v = member(obj, key);
    return v && v->is_string() ? v->get_ref<const std::string&>() : std::string();
}

// A string as it is, or a number as a decimal string: Meta sends timestamps "as a string"
// (§2.4) but JSON numbers are accepted too. Integral floats (1.7e9) print as integers.
std::optional<std::string> scalar_text(const json& v) {
    switch (v.type()) {
    case json::value_t::string:
        return v.get_ref<const std::string&>();
    case json::value_t::number_integer:
        return std::to_string(v.get<int64_t>());
    case json::value_t::number_unsigned:
        return std::to_string(v.get<uint64_t>());
    case json::value_t::number_float: {
        const double d = v.get<double>();
        if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e18)
            return std::to_string(static_cast<int64_t>(d));
        return v.dump();
    }
    default:
        return std::nullopt;
    }
}

std::string text_at(const json& obj, const char* key) {
    const json* v = member(obj, key);
    if (!v) return {};
    return scalar_text(*v).value_or(std::string());
}

// A non-negative integer given as a JSON integer, an integral float, or a string of digits.
std::optional<int64_t> non_negative_integer(const json& v) {
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    switch (v.type()) {
    case json::value_t::number_integer: {
        const int64_t n = v.get<int64_t>();
        if (n >= 0) return n;
        return std::nullopt;
    }
    case json::value_t::number_unsigned: {
        const uint64_t n = v.get<uint64_t>();
        if (n <= kMax) return static_cast<int64_t>(n);
        return std::nullopt;
    }
    case json::value_t::number_float: {
        const double d = v.get<double>();
        if (std::isfinite(d) && std::trunc(d) == d && d >= 0 && d < 9.0e18)
            return static_cast<int64_t>(d);
        return std::nullopt;
    }
    case json::value_t::string:
        if (auto n = text::parse_uint(v.get_ref<const std::string&>(), kMax))
            return static_cast<int64_t>(*n);
        return std::nullopt;
    default:
        return std::nullopt;
    }
}

// Ids copied into every event of a change (metadata): too long counts as absent.
std::string shared_id_at(const json& obj, const char* key) {
    std::string s = text_at(obj, key);
    if (s.size() > kMaxSharedIdBytes) s.clear();
    return s;
}

// §2.7: errors[] items {code, title, message, error_data: {details}}; at most
// kMaxErrorsPerEvent of them, non-objects skipped.
std::vector<CallError> read_errors(const json* errors) {
    std::vector<CallError> out;
    if (!errors || !errors->is_array()) return out;
    for (const json& item : *errors) {
        if (out.size() >= kMaxErrorsPerEvent) break;
        if (!item.is_object()) continue;
        CallError e;
        if (const json* code = member(item, "code")) {
            const auto n = non_negative_integer(*code);
            if (n && *n <= std::numeric_limits<int>::max()) e.code = static_cast<int>(*n);
        }
        e.title = cut_utf8(string_at(item, "title"), kMaxErrorTitleBytes);
        e.message = cut_utf8(string_at(item, "message"), kMaxErrorMessageBytes);
        if (const json* data = member(item, "error_data"))
            e.details = cut_utf8(string_at(*data, "details"), kMaxErrorDetailsBytes);
        out.push_back(std::move(e));
    }
    return out;
}

// What the whole batch may still hold.
struct Budget {
    size_t events_left = kMaxWebhookEvents;
    size_t error_bytes_left = kMaxErrorTextBytes;
};

// Appends `from` to `to`, up to kMaxErrorsPerEvent in all and while the batch's error budget
// lasts (each error costs its text plus its own size, so empty errors are bounded too).
void append_errors(std::vector<CallError>& to, const std::vector<CallError>& from, Budget& budget) {
    for (const CallError& e : from) {
        if (to.size() >= kMaxErrorsPerEvent) return;
        const size_t cost =
            sizeof(CallError) + e.title.size() + e.message.size() + e.details.size();
        if (cost > budget.error_bytes_left) {
            budget.error_bytes_left = 0;
            return;
        }
        budget.error_bytes_left -= cost;
        to.push_back(e);
    }
}

// What one `calls` change's value shares among its events.
struct ChangeContext {
    std::string phone_number_id, display_phone_number;
    std::unordered_map<std::string, std::string> name_by_wa_id; // first contact wins
    std::optional<std::string> only_contact_name;               // when contacts[] has one item
    std::vector<CallError> value_errors;

    explicit ChangeContext(const json& value) {
        if (const json* metadata = member(value, "metadata")) {
            phone_number_id = shared_id_at(*metadata, "phone_number_id");
            display_phone_number = shared_id_at(*metadata, "display_phone_number");
        }
        // §2.3: contacts[] {profile: {name}, wa_id}; wa_id may be missing for username users.
        const json* contacts = member(value, "contacts");
        if (contacts && contacts->is_array()) {
            for (const json& c : *contacts) {
                std::string name;
                if (const json* profile = member(c, "profile"))
                    name = cut_utf8(string_at(*profile, "name"), kMaxContactNameBytes);
                if (contacts->size() == 1) only_contact_name = name;
                std::string wa_id = text_at(c, "wa_id");
                if (!wa_id.empty() && wa_id.size() <= kMaxSharedIdBytes)
                    name_by_wa_id.emplace(std::move(wa_id), std::move(name));
            }
        }
        value_errors = read_errors(member(value, "errors"));
    }

    std::string contact_name_for(const std::string& from) const {
        if (!from.empty()) {
            const auto it = name_by_wa_id.find(from);
            if (it != name_by_wa_id.end()) return it->second;
        }
        return only_contact_name.value_or(std::string());
    }
};

// A routed item needs a non-empty string id (the wacid) that is not absurdly long.
std::optional<std::string> item_id(const json& item) {
    const json* id = member(item, "id");
    if (!id || !id->is_string()) return std::nullopt;
    const std::string& s = id->get_ref<const std::string&>();
    if (s.empty() || s.size() > kMaxCallIdBytes) return std::nullopt;
    return s;
}

std::string direction_of(const json& call) {
    const std::string d = string_at(call, "direction");
    if (text::iequals(d, "USER_INITIATED")) return "USER_INITIATED";
    if (text::iequals(d, "BUSINESS_INITIATED")) return "BUSINESS_INITIATED";
    return {};
}

// §2.7: the docs print both "FAILED" and ["Failed","Completed"]; a one-string array is taken.
std::string status_of(const json& item) {
    const json* s = member(item, "status");
    if (!s) return {};
    if (s->is_array() && s->size() == 1) s = &(*s)[0];
    return s->is_string() ? upper_ascii(s->get_ref<const std::string&>()) : std::string();
}

// §2.4, §2.5, §2.7: one value.calls[] item.
std::optional<CallEvent> read_call(const json& item, const ChangeContext& ctx, Budget& budget) {
    auto id = item_id(item);
    if (!id) return std::nullopt;
    CallEvent ev;
    ev.call_id = std::move(*id);
    ev.event = string_at(item, "event");
    ev.kind = call_event_kind(ev.event);
    ev.phone_number_id = ctx.phone_number_id;
    ev.display_phone_number = ctx.display_phone_number;
    ev.from = text_at(item, "from");
    ev.to = text_at(item, "to");
    ev.direction = direction_of(item);
    ev.timestamp = text_at(item, "timestamp");
    // §2.4: `session` carries the SDP; the legacy connection.webrtc.sdp is deliberately unread.
    if (const json* session = member(item, "session")) {
        ev.sdp_type = string_at(*session, "sdp_type");
        ev.sdp = string_at(*session, "sdp");
    }
    ev.contact_name = ctx.contact_name_for(ev.from);
    ev.status = status_of(item);
    if (const json* duration = member(item, "duration"))
        ev.duration_seconds = non_negative_integer(*duration);
    ev.start_time = text_at(item, "start_time");
    ev.end_time = text_at(item, "end_time");
    ev.biz_opaque_callback_data = string_at(item, "biz_opaque_callback_data");
    append_errors(ev.errors, read_errors(member(item, "errors")), budget);
    append_errors(ev.errors, ctx.value_errors, budget);
    return ev;
}

// §2.6: one value.statuses[] item.
std::optional<StatusEvent> read_status(const json& item, const ChangeContext& ctx, Budget& budget) {
    auto id = item_id(item);
    if (!id) return std::nullopt;
    StatusEvent st;
    st.call_id = std::move(*id);
    st.phone_number_id = ctx.phone_number_id;
    st.status = status_of(item);
    st.timestamp = text_at(item, "timestamp");
    st.recipient_id = text_at(item, "recipient_id");
    st.biz_opaque_callback_data = string_at(item, "biz_opaque_callback_data");
    append_errors(st.errors, read_errors(member(item, "errors")), budget);
    append_errors(st.errors, ctx.value_errors, budget);
    return st;
}

// Runs `read` over every item of value[key]; returns whether the key was present at all.
template <typename Event, typename Read>
bool route(const json& value, const char* key, std::vector<Event>& out, WebhookBatch& batch,
           Budget& budget, Read read) {
    const json* items = member(value, key);
    if (!items) return false;
    if (!items->is_array()) {
        ++batch.invalid_items;
        return true;
    }
    for (const json& item : *items) {
        if (budget.events_left == 0) {
            ++batch.invalid_items;
            continue;
        }
        auto ev = read(item);
        if (!ev) {
            ++batch.invalid_items;
            continue;
        }
        --budget.events_left;
        out.push_back(std::move(*ev));
    }
    return true;
}

// §2.3: route by field == "calls", then by value.calls[] / value.statuses[].
void read_change(const json& change, WebhookBatch& batch, Budget& budget) {
    const json* field = member(change, "field");
    if (!field || !field->is_string() || field->get_ref<const std::string&>() != "calls") {
        ++batch.ignored_changes;
        return;
    }
    const json* value = member(change, "value");
    if (!value || !value->is_object()) {
        ++batch.invalid_items;
        return;
    }
    const ChangeContext ctx(*value);
    const bool had_calls = route(*value, "calls", batch.calls, batch, budget,
                                 [&](const json& item) { return read_call(item, ctx, budget); });
    const bool had_statuses =
        route(*value, "statuses", batch.statuses, batch, budget,
              [&](const json& item) { return read_status(item, ctx, budget); });
    if (!had_calls && !had_statuses) ++batch.ignored_changes;
}

Result<WebhookBatch, WebhookError> parse_envelope(std::string_view body) {
    const json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_discarded()) return err(fail(WebhookError::Code::not_json, "body is not JSON"));
    if (!root.is_object())
        return err(fail(WebhookError::Code::not_object, "body is not a JSON object"));
    const json* object = member(root, "object");
    if (!object || !object->is_string() || object->get_ref<const std::string&>() != kObject) {
        return err(fail(WebhookError::Code::wrong_object,
                        "\"object\" is not \"whatsapp_business_account\""));
    }
    const json* entries = member(root, "entry");
    if (!entries || !entries->is_array() || entries->empty())
        return err(fail(WebhookError::Code::no_entries, "no entry[] array, or an empty one"));

    WebhookBatch batch;
    Budget budget;
    for (const json& entry : *entries) {
        const json* changes = member(entry, "changes");
        if (!changes || !changes->is_array()) {
            ++batch.invalid_items;
            continue;
        }
        for (const json& change : *changes) {
            if (!change.is_object()) {
                ++batch.invalid_items;
                continue;
            }
            read_change(change, batch, budget);
        }
    }
    return batch;
}

} // namespace

std::string_view to_string(WebhookError::Code code) {
    switch (code) {
    case WebhookError::Code::not_json:
        return "not_json";
    case WebhookError::Code::not_object:
        return "not_object";
    case WebhookError::Code::wrong_object:
        return "wrong_object";
    case WebhookError::Code::no_entries:
        return "no_entries";
    case WebhookError::Code::too_large:
        return "too_large";
    }
    return "unknown";
}

CallEvent::Kind call_event_kind(std::string_view event) {
    if (event == "connect") return CallEvent::Kind::connect;
    if (event == "terminate") return CallEvent::Kind::terminate;
    return CallEvent::Kind::other;
}

Result<WebhookBatch, WebhookError> parse_webhook(std::string_view body) {
    if (body.size() > kMaxWebhookBodyBytes) {
        return err(fail(WebhookError::Code::too_large, "body of " + std::to_string(body.size()) +
                                                           " bytes is over " +
                                                           std::to_string(kMaxWebhookBodyBytes)));
    }
    if (nested_deeper_than(body, kMaxWebhookDepth)) {
        return err(fail(WebhookError::Code::too_large,
                        "JSON nested deeper than " + std::to_string(kMaxWebhookDepth) + " levels"));
    }
    // The walk only reads type-checked values, so nothing below should throw; an allocation
    // failure still must not cross the module boundary.
    try {
        return parse_envelope(body);
    } catch (const std::exception& e) {
        return err(
            fail(WebhookError::Code::not_json, std::string("body not processed: ") + e.what()));
    }
}

} // namespace wabridge::whatsapp

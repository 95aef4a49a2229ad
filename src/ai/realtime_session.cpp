// The OpenAI Realtime (GA) session state machine for one call (see realtime_session.hpp).
// Section numbers ("brief §n") refer to ../shared/docs/openai-realtime.md.
#include "wabridge/ai/realtime_session.hpp"

#include "wabridge/ai/base64.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <nlohmann/json.hpp>

namespace wabridge::ai {

using nlohmann::json;

namespace {

// A reply delta carries tens of KB of base64 that a JSON parser would lex byte by byte and copy.
// The audio value is cut out of the message and the rest (a few hundred bytes) parsed; the
// caller checks that the rest parses as a delta event whose "delta" is the emptied string, and
// parses the whole message otherwise. Base64 needs no JSON escape, so a backslash in the value
// means it is not plain base64: no cut then.
struct CutDelta {
    std::string rest;
    std::string_view audio;
};
std::optional<CutDelta> cut_audio_delta(std::string_view message) {
    constexpr std::string_view kType = "\"type\":\"response.output_audio.delta\"";
    constexpr std::string_view kKey = "\"delta\":\"";
    if (message.size() < 1024 || message.find(kType) == std::string_view::npos) return std::nullopt;
    const size_t key = message.find(kKey);
    if (key == std::string_view::npos) return std::nullopt;
    const size_t start = key + kKey.size();
    const size_t end = message.find('"', start);
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view audio = message.substr(start, end - start);
    if (audio.find('\\') != std::string_view::npos) return std::nullopt;
    CutDelta cut;
    cut.rest.reserve(message.size() - audio.size());
    cut.rest.append(message.substr(0, start));
    cut.rest.append(message.substr(end));
    cut.audio = audio;
    return cut;
}

// Error codes after which retrying cannot help (brief §8 table; livekit's _FATAL_ERROR_CODES),
// plus an unknown model and the beta shape ("fatal: fix the code").
constexpr std::array<std::string_view, 6> kFatalCodes{
    "invalid_api_key",     "insufficient_quota",
    "account_deactivated", "billing_hard_limit_reached",
    "model_not_found",     "beta_api_shape_disabled",
};
constexpr size_t kMaxErrorCodes = 64;  // distinct keys in errors_by_code; the rest go to "other"
constexpr size_t kMaxErrorKeyLen = 64; // a code longer than this is cut
constexpr size_t kIgnoredRing = 8;     // interrupted item and response ids remembered

bool is_fatal(std::string_view code) {
    return std::find(kFatalCodes.begin(), kFatalCodes.end(), code) != kFatalCodes.end();
}

// Field access that never throws: a missing field or one of another type reads as absent.
const json* field(const json& j, const char* key) {
    if (!j.is_object()) return nullptr;
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::string_view text(const json& j, const char* key) {
    const json* f = field(j, key);
    if (!f || !f->is_string()) return {};
    return f->get_ref<const std::string&>();
}

std::string dump(const json& j) {
    // `replace`: text from settings that is not UTF-8 must not throw (server text never is).
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The first words of `text`, in proportion heard/received of its audio (the server cuts its
// copy of the transcript the same way on truncate, brief §7).
std::string heard_part(const std::string& text, uint64_t heard_ms, uint64_t received_ms) {
    if (received_ms == 0 || heard_ms >= received_ms) return text;
    std::vector<size_t> ends; // end offset of each word
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != ' ' && (i + 1 == text.size() || text[i + 1] == ' ')) ends.push_back(i + 1);
    }
    const uint64_t keep = (ends.size() * heard_ms + received_ms / 2) / received_ms;
    if (keep == 0) return {};
    return text.substr(0, ends[keep - 1]);
}

} // namespace

// --- uplink buffer --------------------------------------------------------------------------

void RealtimeSession::Uplink::push(std::span<const uint8_t> data, FrameTimes times,
                                   size_t max_bytes) {
    if (data.empty()) return;
    if (head > 0 && head >= bytes.size() / 2) { // keep the vector from growing: drop sent bytes
        bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(head));
        head = 0;
    }
    marks.emplace_back(head_pos + size(), times);
    bytes.insert(bytes.end(), data.begin(), data.end());
    if (size() > max_bytes) { // issue 6: a bounded buffer, the oldest audio dropped and counted
        const size_t drop = size() - max_bytes;
        dropped_bytes += drop;
        consume(drop);
    }
}

void RealtimeSession::Uplink::consume(size_t n) {
    n = std::min(n, size());
    head += n;
    head_pos += n;
    if (size() == 0) {
        marks.clear();
        return;
    }
    while (marks.size() > 1 && marks[1].first <= head_pos)
        marks.pop_front();
}

// --- construction and connection -------------------------------------------------------------

RealtimeSession::RealtimeSession(RealtimeSettings settings, media::PlayoutQueue& playout,
                                 int resampler_quality)
    : settings_(std::move(settings))
    , playout_(playout) {
    auto ok = validate(settings_);
    if (!ok) {
        end("invalid_settings", ok.error());
        return;
    }
    auto converter = media::AiAudioConverter::create(settings_.format, resampler_quality);
    if (!converter) {
        end("invalid_settings", converter.error());
        return;
    }
    converter_.emplace(std::move(converter.value()));
}

bool RealtimeSession::wants_connection(TimePoint now) const {
    return !end_ && !closed_ && link_ == Link::none && !close_wanted_ && retry_at_ &&
           now >= *retry_at_;
}

void RealtimeSession::on_connecting(TimePoint now) {
    if (end_ || closed_ || link_ != Link::none) return;
    link_ = Link::attempting;
    close_wanted_ = false; // a new socket replaces whatever the transport had
    retry_at_.reset();
    phase_deadline_ = now + settings_.connect_timeout;
    if (!outage_start_) outage_start_ = now; // the give-up clock of the first connection
    ++stats_.connect_attempts;
}

void RealtimeSession::on_open(TimePoint now) {
    if (end_ || closed_) {
        close_wanted_ = true;
        return;
    }
    if (close_wanted_ || (link_ != Link::none && link_ != Link::attempting)) return;
    link_ = Link::awaiting_session; // brief §2: the server speaks first (session.created)
    phase_deadline_ = now + settings_.setup_timeout;
    if (!outage_start_) outage_start_ = now;
}

void RealtimeSession::on_closed(uint16_t code, std::string_view reason, TimePoint now) {
    (void)code;          // 1001 (the 60-minute cap, brief §8) and a lost socket are handled alike
    if (close_wanted_) { // the session asked for this close; it was accounted for then
        close_wanted_ = false;
        return;
    }
    if (end_ || closed_ || link_ == Link::none) return;
    // A close after an error carries "<type>.<code>" (brief §8), e.g.
    // "invalid_request_error.invalid_api_key" with 3000.
    const size_t dot = reason.find('.');
    const std::string_view close_code =
        dot == std::string_view::npos ? std::string_view{} : reason.substr(dot + 1);
    if (is_fatal(close_code)) {
        link_ = Link::none;
        end(std::string(close_code), std::string(reason));
        return;
    }
    lost(now, link_ != Link::ready);
}

void RealtimeSession::lost(TimePoint now, bool failed_attempt) {
    link_ = Link::none;
    phase_deadline_.reset();
    control_.clear(); // they were for the old socket; the new session gets its own
    active_response_.reset();
    // A new socket is a new session with no memory (brief §8): what is queued of the old one's
    // audio can no longer be truncated, so drop it; the caller hears silence meanwhile.
    if (!playout_.empty()) (void)playout_.flush();
    audio_items_.clear();
    if (!outage_start_) outage_start_ = now;
    if (!failed_attempt) {
        retry_at_ = now; // brief §8 / issue 6: the first try at once
        failures_ = 0;
        return;
    }
    // Then backoff doubling from the initial delay, capped.
    auto delay = settings_.reconnect_backoff_initial;
    for (unsigned i = 0; i < failures_ && delay < settings_.reconnect_backoff_cap; ++i)
        delay *= 2;
    delay = std::min(delay, settings_.reconnect_backoff_cap);
    ++failures_;
    retry_at_ = now + delay;
}

void RealtimeSession::end(std::string reason, std::string detail) {
    if (end_ || closed_) return;
    end_ = EndCall{std::move(reason), std::move(detail)};
    if (link_ != Link::none) close_wanted_ = true;
    link_ = Link::none;
    control_.clear();
    phase_deadline_.reset();
    retry_at_.reset();
}

void RealtimeSession::close() {
    if (end_ || closed_) return;
    closed_ = true;
    if (link_ != Link::none) close_wanted_ = true;
    link_ = Link::none;
    control_.clear();
    phase_deadline_.reset();
    retry_at_.reset();
}

std::optional<TimePoint> RealtimeSession::next_deadline() const {
    if (end_ || closed_) return std::nullopt;
    std::optional<TimePoint> d;
    auto consider = [&](TimePoint t) {
        if (!d || t < *d) d = t;
    };
    if (phase_deadline_) consider(*phase_deadline_);
    if (link_ != Link::ready && outage_start_)
        consider(*outage_start_ + settings_.reconnect_give_up);
    if (link_ == Link::none && retry_at_ && *retry_at_ != TimePoint::min()) consider(*retry_at_);
    return d;
}

void RealtimeSession::on_timer(TimePoint now) {
    if (end_ || closed_) return;
    if (link_ != Link::ready && outage_start_ &&
        now >= *outage_start_ + settings_.reconnect_give_up) {
        end("openai_unavailable", "no Realtime session for " +
                                      std::to_string(settings_.reconnect_give_up.count()) + " s");
        return;
    }
    if (phase_deadline_ && now >= *phase_deadline_) {
        if (link_ == Link::attempting)
            ++stats_.connect_timeouts;
        else
            ++stats_.setup_timeouts;
        close_wanted_ = true; // the transport drops the socket, then reports on_closed()
        lost(now, true);
    }
}

// --- server events ---------------------------------------------------------------------------

void RealtimeSession::on_message(std::string_view message, TimePoint now) {
    if (end_ || closed_ || link_ == Link::none || link_ == Link::attempting) return;
    ++stats_.events_received;
    if (auto cut = cut_audio_delta(message)) {
        // Everything but the audio went through the JSON parser; the audio is decoded from the
        // message itself.
        const json event = json::parse(cut->rest, nullptr, false);
        const json* delta = event.is_object() ? field(event, "delta") : nullptr;
        if (delta && text(event, "type") == "response.output_audio.delta" && delta->is_string() &&
            delta->get_ref<const std::string&>().empty()) {
            on_audio_delta(event, cut->audio);
            return;
        }
    }
    const json event = json::parse(message, nullptr, false);
    if (event.is_discarded() || !event.is_object()) {
        ++stats_.bad_messages;
        return;
    }
    const std::string_view type = text(event, "type");
    if (type.empty()) {
        ++stats_.bad_messages;
        return;
    }
    handle_event(type, event, now);
}

void RealtimeSession::handle_event(std::string_view type, const json& event, TimePoint now) {
    if (type == "response.output_audio.delta") {
        const json* delta = field(event, "delta");
        if (!delta || !delta->is_string()) {
            ++stats_.deltas_received;
            ++stats_.bad_messages;
            return;
        }
        on_audio_delta(event, delta->get_ref<const std::string&>());
    } else if (type == "session.created") {
        on_session_created();
    } else if (type == "session.updated") {
        on_session_updated();
    } else if (type == "error") {
        on_error(event);
    } else if (type == "input_audio_buffer.speech_started") {
        on_speech_started(now);
    } else if (type == "input_audio_buffer.committed") {
        // The caller's turn takes its place in the conversation here; its transcript follows
        // asynchronously (brief §5).
        const std::string_view item_id = text(event, "item_id");
        if (!item_id.empty() && !turn(item_id))
            history_.push_back(Turn{false, std::string(item_id)});
    } else if (type == "response.created") {
        const json* response = field(event, "response");
        active_response_ = std::string(response ? text(*response, "id") : std::string_view{});
    } else if (type == "response.output_item.added") {
        const json* item = field(event, "item");
        if (item && text(*item, "type") == "message" && text(*item, "role") == "assistant") {
            const std::string_view id = text(*item, "id");
            if (!id.empty() && !turn(id)) history_.push_back(Turn{true, std::string(id)});
        }
    } else if (type == "response.output_audio.done") {
        const json* ci = field(event, "content_index");
        const int content_index =
            ci && ci->is_number_integer() && *ci >= 0 && *ci <= INT_MAX ? ci->get<int>() : 0;
        if (AudioItem* item = audio_item(text(event, "item_id"), content_index)) item->done = true;
    } else if (type == "response.output_audio_transcript.done") {
        on_transcript(true, text(event, "item_id"), text(event, "transcript"), now);
    } else if (type == "conversation.item.input_audio_transcription.completed") {
        on_transcript(false, text(event, "item_id"), text(event, "transcript"), now);
    } else if (type == "response.done") {
        on_response_done(event);
    } else {
        ++stats_.unknown_events; // brief §5: ignore event types you do not act on
    }
}

void RealtimeSession::on_session_created() {
    if (link_ != Link::awaiting_session) return;
    link_ = Link::configuring;
    // brief §2/§4: session.update only once session.created is in; GA shape, never beta fields.
    send_control(dump(json{{"type", "session.update"},
                           {"event_id", next_event_id()},
                           {"session", session_config_json(settings_)}}));
}

void RealtimeSession::on_session_updated() {
    if (link_ != Link::configuring) return; // the echo of a later update
    link_ = Link::ready;
    phase_deadline_.reset();
    outage_start_.reset();
    failures_ = 0;
    const bool reconnected = ever_ready_;
    if (reconnected) ++stats_.reconnects;
    ever_ready_ = true;
    // Replay the conversation so far as text items (brief §8: assistant audio cannot be
    // created, so assistant turns go in as output_text). On the first session the history
    // holds only DTMF presses made before it was ready. They go out before any append.
    const size_t first = history_.size() > kMaxReplayItems ? history_.size() - kMaxReplayItems : 0;
    for (size_t i = first; i < history_.size(); ++i) {
        const Turn& t = history_[i];
        const std::string said =
            t.heard_ms ? heard_part(t.text, *t.heard_ms, t.received_ms) : t.text;
        if (said.empty()) continue;
        queue_item(t.assistant, said);
        if (reconnected) ++stats_.replayed_items;
    }
    if (response_wanted_) { // a DTMF press waits for its answer
        response_wanted_ = false;
        queue_response_create();
    }
}

void RealtimeSession::on_audio_delta(const json& event, std::string_view delta) {
    ++stats_.deltas_received;
    const std::string_view item_id = text(event, "item_id");
    const std::string_view response_id = text(event, "response_id");
    const json* ci = field(event, "content_index");
    if (item_id.empty() || (ci && !(ci->is_number_integer() && *ci >= 0 && *ci <= INT_MAX))) {
        ++stats_.bad_messages;
        return;
    }
    const int content_index = ci ? ci->get<int>() : 0;
    // brief §7 step 5: late deltas of an interrupted response are dropped.
    if (ignored(item_id, response_id)) {
        ++stats_.deltas_ignored;
        return;
    }
    scratch_bytes_.clear();
    if (!base64_decode(delta, scratch_bytes_)) {
        ++stats_.bad_messages;
        return;
    }
    AudioItem* item = audio_item(item_id, content_index);
    if (!item) {
        audio_items_.push_back(
            AudioItem{std::string(item_id), std::string(response_id), content_index});
        if (audio_items_.size() > kTrackedItems) audio_items_.pop_front();
        item = &audio_items_.back();
    }
    item->bytes += scratch_bytes_.size();
    scratch_pcm_.clear();
    converter_->from_ai(scratch_bytes_, scratch_pcm_);
    playout_.push(item_id, content_index, scratch_pcm_);
}

void RealtimeSession::on_speech_started(TimePoint now) {
    (void)now;
    // brief §7: barge-in only while assistant audio is queued or still arriving; an item that
    // played in full, with its audio done, is not truncated.
    const AudioItem* streaming = nullptr;
    for (auto it = audio_items_.rbegin(); it != audio_items_.rend(); ++it) {
        if (!it->done) {
            streaming = &*it;
            break;
        }
    }
    const bool queued = !playout_.empty();
    if (!queued && !streaming) return;

    // Step 1: the queue goes at once, so the next frame out is silence.
    const auto flushed = playout_.flush();
    std::string item_id;
    int content_index = 0;
    uint64_t played_ms = 0;
    if (queued && flushed) { // the item at the head of the queue: playing or about to
        item_id = flushed->item_id;
        content_index = flushed->content_index;
        played_ms = flushed->played_ms();
    } else if (streaming) { // nothing queued: the item whose deltas are still coming
        item_id = streaming->item_id;
        content_index = streaming->content_index;
        const auto p = playout_.progress(item_id);
        played_ms = p ? p->played_ms() : 0;
    } else {
        return;
    }
    // Step 2: whole ms actually played, clamped to what was received (in the AI's format).
    AudioItem* item = audio_item(item_id, content_index);
    const uint64_t received_ms = item ? item->bytes / bytes_per_ms() : played_ms;
    const uint64_t audio_end_ms = std::min(played_ms, received_ms);

    // Step 5: ignore the rest of this item and of its response.
    auto drop = [&](const AudioItem& a) {
        playout_.ignore_item(a.item_id);
        remember(ignored_items_, a.item_id);
        if (!a.response_id.empty()) remember(ignored_responses_, a.response_id);
    };
    if (item) drop(*item);
    if (streaming && streaming != item) drop(*streaming);
    if (!item) {
        playout_.ignore_item(item_id);
        remember(ignored_items_, item_id);
    }
    for (AudioItem& a : audio_items_) {
        if (ignored(a.item_id, a.response_id)) a.done = true;
    }

    // Step 3: tell the server what the caller heard.
    send_control(dump(json{{"type", "conversation.item.truncate"},
                           {"event_id", next_event_id()},
                           {"item_id", item_id},
                           {"content_index", content_index},
                           {"audio_end_ms", audio_end_ms}}));
    ++stats_.truncates_sent;
    ++stats_.barge_ins;
    // Step 4: without interrupt_response the server does not cancel by itself.
    if (!settings_.turn_detection.interrupt_response && active_response_) {
        json cancel{{"type", "response.cancel"}, {"event_id", next_event_id()}};
        if (!active_response_->empty()) cancel["response_id"] = *active_response_;
        send_control(dump(cancel));
    }

    Turn* t = turn(item_id);
    if (!t) {
        history_.push_back(Turn{true, item_id});
        t = &history_.back();
    }
    t->heard_ms = audio_end_ms;
    t->received_ms = received_ms;
    for (Transcript& tr : transcripts_) {
        if (tr.role == "assistant" && tr.item_id == item_id) tr.interrupted = true;
    }
}

void RealtimeSession::on_error(const json& event) {
    const json* e = field(event, "error");
    const json empty = json::object();
    const json& error = e ? *e : empty;
    const std::string_view code = text(error, "code");
    const std::string_view type = text(error, "type");
    std::string key(!code.empty() ? code : !type.empty() ? type : std::string_view("unknown"));
    if (key.size() > kMaxErrorKeyLen) key.resize(kMaxErrorKeyLen);
    if (stats_.errors_by_code.size() >= kMaxErrorCodes && !stats_.errors_by_code.count(key))
        key = "other";
    ++stats_.errors_by_code[key];
    // Fatal codes end the call; everything else (conversation_already_has_active_response,
    // response_cancel_not_active, input_audio_buffer_commit_empty, a truncate past the
    // audio...) leaves the session as it is (brief §8).
    const std::string message(text(error, "message"));
    if (is_fatal(code)) {
        end(std::string(code), message);
    } else if (text(error, "param") == "model") { // an unknown model (the URL's: we send none)
        end(code.empty() ? "model_not_found" : std::string(code), message);
    }
}

void RealtimeSession::on_response_done(const json& event) {
    const json* response = field(event, "response");
    const json empty = json::object();
    const json& r = response ? *response : empty;
    const std::string_view id = text(r, "id");
    active_response_.reset();
    for (AudioItem& a : audio_items_) {
        if (!id.empty() && a.response_id == id) a.done = true;
    }
    if (text(r, "status") == "failed") {
        // brief §8: account errors can come this way too (e.g. insufficient_quota).
        const json* details = field(r, "status_details");
        const json* error = details ? field(*details, "error") : nullptr;
        const std::string_view code = error ? text(*error, "code") : std::string_view{};
        std::string key(code.empty() ? "response_failed" : code);
        if (key.size() > kMaxErrorKeyLen) key.resize(kMaxErrorKeyLen);
        if (stats_.errors_by_code.size() >= kMaxErrorCodes && !stats_.errors_by_code.count(key))
            key = "other";
        ++stats_.errors_by_code[key];
        if (is_fatal(code)) {
            end(std::string(code), "response failed");
            return;
        }
    }
    if (response_wanted_ && link_ == Link::ready) {
        response_wanted_ = false;
        queue_response_create();
    }
}

void RealtimeSession::on_transcript(bool assistant, std::string_view item_id, std::string_view said,
                                    TimePoint now) {
    if (said.empty()) return;
    Turn* t = item_id.empty() ? nullptr : turn(item_id);
    if (!t) {
        history_.push_back(Turn{assistant, std::string(item_id)});
        t = &history_.back();
    }
    t->text = std::string(said);
    transcripts_.push_back(Transcript{assistant ? "assistant" : "caller", std::string(said),
                                      std::string(item_id), now,
                                      assistant && t->heard_ms.has_value()});
    ++stats_.transcripts;
}

// --- media from the call ---------------------------------------------------------------------

void RealtimeSession::on_caller_audio(std::span<const int16_t> frame, TimePoint arrival,
                                      TimePoint now) {
    if (end_ || closed_ || frame.empty()) return;
    scratch_bytes_.clear();
    converter_->to_ai(frame, scratch_bytes_);
    const auto max_bytes =
        static_cast<size_t>(settings_.uplink_buffer_max.count()) * bytes_per_ms();
    uplink_.push(scratch_bytes_, FrameTimes{arrival, now}, max_bytes);
}

void RealtimeSession::on_dtmf(const media::DtmfDigit& d, TimePoint now) {
    (void)now;
    if (end_ || closed_ || !settings_.dtmf_to_model) return;
    const char c = d.digit;
    if (!((c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D'))) return;
    // The documented behaviour: the key press reaches the model as a user text message, then
    // a response is asked for (deferred while a response is running, which would refuse it).
    std::string said = "The caller pressed ";
    said += c;
    said += " on the keypad.";
    history_.push_back(Turn{false, {}, said});
    ++stats_.dtmf_items;
    if (link_ != Link::ready) { // sent with the history once the session is ready
        response_wanted_ = true;
        return;
    }
    queue_item(false, said);
    if (active_response_)
        response_wanted_ = true;
    else
        queue_response_create();
}

// --- client events ---------------------------------------------------------------------------

std::optional<std::string> RealtimeSession::next_outgoing(TimePoint now,
                                                          std::optional<FrameTimes>* oldest) {
    (void)now;
    if (oldest) *oldest = std::nullopt;
    if (end_ || closed_ || (link_ != Link::configuring && link_ != Link::ready))
        return std::nullopt;
    if (!control_.empty()) {
        std::string out = std::move(control_.front());
        control_.pop_front();
        ++stats_.events_sent;
        return out;
    }
    if (link_ != Link::ready) return std::nullopt; // appends start at session.updated
    const size_t chunk = static_cast<size_t>(settings_.uplink_chunk.count()) * bytes_per_ms();
    if (uplink_.size() < chunk) return std::nullopt;
    std::string out = R"({"type":"input_audio_buffer.append","event_id":")";
    out += next_event_id();
    out += R"(","audio":")";
    out.reserve(out.size() + base64_encoded_size(chunk) + 2);
    base64_encode(std::span<const uint8_t>(uplink_.bytes.data() + uplink_.head, chunk), out);
    out += "\"}";
    if (oldest) *oldest = uplink_.marks.front().second;
    uplink_.consume(chunk);
    ++stats_.appends_sent;
    ++stats_.events_sent;
    return out;
}

void RealtimeSession::send_control(std::string message) {
    control_.push_back(std::move(message));
}

void RealtimeSession::queue_item(bool assistant, std::string_view said) {
    // GA message content: user input_text, assistant output_text (client_events_strict).
    json part{{"type", assistant ? "output_text" : "input_text"}, {"text", said}};
    json item{{"type", "message"},
              {"role", assistant ? "assistant" : "user"},
              {"content", json::array({std::move(part)})}};
    send_control(dump(json{{"type", "conversation.item.create"},
                           {"event_id", next_event_id()},
                           {"item", std::move(item)}}));
}

void RealtimeSession::queue_response_create() {
    send_control(dump(json{{"type", "response.create"}, {"event_id", next_event_id()}}));
}

// --- bookkeeping -----------------------------------------------------------------------------

bool RealtimeSession::ignored(std::string_view item_id, std::string_view response_id) const {
    if (std::find(ignored_items_.begin(), ignored_items_.end(), item_id) != ignored_items_.end())
        return true;
    return !response_id.empty() && std::find(ignored_responses_.begin(), ignored_responses_.end(),
                                             response_id) != ignored_responses_.end();
}

void RealtimeSession::remember(std::deque<std::string>& ring, std::string_view id) {
    if (std::find(ring.begin(), ring.end(), id) != ring.end()) return;
    ring.emplace_back(id);
    if (ring.size() > kIgnoredRing) ring.pop_front();
}

RealtimeSession::AudioItem* RealtimeSession::audio_item(std::string_view item_id,
                                                        int content_index) {
    for (auto it = audio_items_.rbegin(); it != audio_items_.rend(); ++it) {
        if (it->item_id == item_id && it->content_index == content_index) return &*it;
    }
    return nullptr;
}

RealtimeSession::Turn* RealtimeSession::turn(std::string_view item_id) {
    for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
        if (it->item_id == item_id) return &*it;
    }
    return nullptr;
}

std::string RealtimeSession::next_event_id() {
    return "evt_" + std::to_string(++event_seq_); // echoed in error.event_id (brief §4)
}

uint64_t RealtimeSession::bytes_per_ms() const {
    // brief §6: audio/pcm 24 kHz 16-bit = 48 bytes per ms; G.711 8 kHz = 8 bytes per ms.
    return settings_.format == media::AiAudioFormat::pcm24k ? 48 : 8;
}

RealtimeSession::Stats RealtimeSession::stats() const {
    Stats s = stats_;
    s.uplink_dropped_ms = uplink_.dropped_bytes / bytes_per_ms();
    return s;
}

std::string_view RealtimeSession::state() const {
    if (end_ || closed_) return "ended";
    switch (link_) {
    case Link::none:
    case Link::attempting:
        return ever_ready_ ? "reconnecting" : "connecting";
    case Link::awaiting_session:
        return "awaiting_session";
    case Link::configuring:
        return "configuring";
    case Link::ready:
        return "ready";
    }
    return "ended";
}

} // namespace wabridge::ai

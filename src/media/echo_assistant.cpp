#include "wabridge/media/echo_assistant.hpp"

#include "wabridge/media/call_audio.hpp"

#include <algorithm>

namespace wabridge::media {

namespace {
constexpr std::chrono::milliseconds kTrailingSilence{100};
} // namespace

EchoAssistant::EchoAssistant(PlayoutQueue& playout, EchoAssistantSettings settings,
                             TurnObserver on_turn)
    : playout_(playout)
    , settings_(settings)
    , on_turn_(std::move(on_turn))
    , vad_(settings.vad) {}

void EchoAssistant::on_caller_audio(std::span<const int16_t> frame, loop::TimePoint,
                                    loop::TimePoint) {
    const VadEvent event = vad_.on_frame(frame);
    const size_t pre_roll_samples =
        static_cast<size_t>(settings_.pre_roll.count()) * kEngineRate / 1000;
    const size_t max_samples = static_cast<size_t>(settings_.max_utterance.count()) * kEngineRate;

    if (event == VadEvent::speech_started) {
        // Barge-in: the caller talks over our playback, so it stops now.
        if (!playout_.empty()) {
            if (auto progress = playout_.flush()) {
                ++barge_ins_;
                playout_.ignore_item(progress->item_id);
                if (on_turn_)
                    on_turn_(
                        {EchoTurn::Kind::barge_in, progress->item_id, 0, progress->played_ms()});
            }
        }
        recording_ = true;
        utterance_.assign(pre_roll_.begin(), pre_roll_.end());
        pre_roll_.clear();
    }
    if (recording_) {
        if (utterance_.size() + frame.size() <= max_samples)
            utterance_.insert(utterance_.end(), frame.begin(), frame.end());
    } else {
        pre_roll_.insert(pre_roll_.end(), frame.begin(), frame.end());
        while (pre_roll_.size() > pre_roll_samples)
            pre_roll_.pop_front();
    }

    if (event == VadEvent::utterance_ended) {
        recording_ = false;
        ++turns_;
        // The VAD waited out end_silence before ending the utterance; play back at most
        // kTrailingSilence of it.
        const auto cut =
            std::max(settings_.vad.end_silence - kTrailingSilence, std::chrono::milliseconds(0));
        const size_t trailing = static_cast<size_t>(cut.count()) * kEngineRate / 1000;
        if (utterance_.size() > trailing) utterance_.resize(utterance_.size() - trailing);
        const std::string item = "echo-" + std::to_string(turns_);
        playout_.push(item, 0, utterance_);
        if (on_turn_)
            on_turn_({EchoTurn::Kind::played, item, utterance_.size() * 1000 / kEngineRate, 0});
        utterance_.clear();
    } else if (event == VadEvent::speech_discarded) {
        recording_ = false;
        utterance_.clear();
    }
}

void EchoAssistant::on_dtmf(const DtmfDigit&, loop::TimePoint) {
    ++dtmf_digits_;
}

void EchoAssistant::describe(call::AiStats& out) const {
    out.backend = "echo";
    out.state = recording_ ? "listening" : (playout_.empty() ? "idle" : "playing");
    out.barge_ins = barge_ins_;
}

} // namespace wabridge::media

// AI_BACKEND=echo: a local stand-in for the AI that exercises the whole audio pipeline with no
// key and no network. An energy VAD finds the end of each caller utterance (≥ 300 ms of speech,
// then 600 ms of silence) and the utterance is played back through the call's PlayoutQueue. If
// the caller starts talking during playback, playback is flushed at once (barge-in). Each turn
// and each barge-in is logged.
#pragma once

#include "wabridge/media/ai_backend.hpp"
#include "wabridge/media/energy_vad.hpp"
#include "wabridge/media/playout_queue.hpp"

#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace wabridge::media {

struct EchoTurn {
    enum class Kind { played /* an utterance was queued for playback */, barge_in };
    Kind kind = Kind::played;
    std::string item_id;
    uint64_t utterance_ms = 0; // played: length of what was queued
    uint64_t played_ms = 0;    // barge_in: what the caller heard of the item before the flush
};

struct EchoAssistantSettings {
    VadSettings vad;
    // Audio kept from before the VAD fired, so the first syllable is not cut off.
    std::chrono::milliseconds pre_roll{200};
    // Longest utterance kept; the rest is dropped (and still played up to this length).
    std::chrono::seconds max_utterance{30};
};

class EchoAssistant final : public AiBackend {
public:
    using TurnObserver = std::function<void(const EchoTurn&)>;
    EchoAssistant(PlayoutQueue& playout, EchoAssistantSettings settings = {},
                  TurnObserver on_turn = {});

    void on_caller_audio(std::span<const int16_t> frame, loop::TimePoint arrival,
                         loop::TimePoint now) override;
    void on_dtmf(const DtmfDigit& digit, loop::TimePoint now) override;
    void describe(call::AiStats& out) const override;

    uint64_t turns() const { return turns_; }
    uint64_t barge_ins() const { return barge_ins_; }
    uint64_t dtmf_digits() const { return dtmf_digits_; }

private:
    PlayoutQueue& playout_;
    EchoAssistantSettings settings_;
    TurnObserver on_turn_;
    EnergyVad vad_;
    std::deque<int16_t> pre_roll_;
    std::vector<int16_t> utterance_;
    bool recording_ = false;
    uint64_t turns_ = 0, barge_ins_ = 0, dtmf_digits_ = 0;
};

} // namespace wabridge::media

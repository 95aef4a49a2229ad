// An energy voice-activity detector: frame RMS level against a threshold, with a minimum speech
// length, an end-of-utterance silence and a little hysteresis. Drives the local echo assistant
// (utterance boundaries) and barge-in (speech onset within one frame).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

namespace wabridge::media {

struct VadSettings {
    // A frame whose RMS level is above this counts as speech. dBFS here: 0 dBFS is an RMS of
    // 32768, so a full-scale sine reads -3.01 dBFS. -45 dBFS sits well above a quiet line's
    // noise floor (-60 dBFS and below) and well below normal speech (-30..-15 dBFS).
    double threshold_dbfs = -45;
    std::chrono::milliseconds min_speech{300};  // an utterance needs >= this much speech
    std::chrono::milliseconds end_silence{600}; // ...then this much silence ends it
    std::chrono::milliseconds frame{20};        // the duration of one on_frame() call
    // Inside an utterance a frame keeps counting as speech down to threshold - hysteresis, so
    // a voice fading around the threshold does not flicker.
    double hysteresis_db = 6;
};

enum class VadEvent {
    none,
    speech_started,   // the first frame above the threshold (fires on that very frame)
    utterance_ended,  // end_silence of silence after >= min_speech of speech
    speech_discarded, // end_silence of silence after less than min_speech of speech
};

// States: idle -> (frame above threshold: speech_started) -> speaking -> (end_silence of
// consecutive silent frames: utterance_ended or speech_discarded) -> idle. Speech time counts
// only the speech frames of the utterance; a dip shorter than end_silence does not end it and a
// speech frame resets the silence count.
class EnergyVad {
public:
    explicit EnergyVad(VadSettings settings = {});

    // One frame (settings.frame long) of mono PCM16 at any rate.
    VadEvent on_frame(std::span<const int16_t> frame);

    bool in_speech() const { return in_speech_; }
    // The level of the last frame, floored at kFloorDbfs (digital silence, empty frames).
    double last_level_dbfs() const { return last_level_dbfs_; }

    static constexpr double kFloorDbfs = -120;

private:
    VadSettings settings_;
    bool in_speech_ = false;
    std::chrono::milliseconds speech_{0};  // speech frames in the current utterance
    std::chrono::milliseconds silence_{0}; // consecutive silent frames since the last speech
    double last_level_dbfs_ = kFloorDbfs;
};

// The RMS level of a PCM16 frame in dBFS (full-scale square wave = 0), floored at
// EnergyVad::kFloorDbfs.
double rms_dbfs(std::span<const int16_t> frame);

} // namespace wabridge::media

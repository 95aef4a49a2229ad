// Energy VAD: RMS level per frame and a two-state machine with hysteresis (see energy_vad.hpp).
#include "wabridge/media/energy_vad.hpp"

#include <algorithm>
#include <cmath>

namespace wabridge::media {

double rms_dbfs(std::span<const int16_t> frame) {
    if (frame.empty()) return EnergyVad::kFloorDbfs;
    double sum = 0;
    for (int16_t s : frame)
        sum += double(s) * double(s);
    const double mean_square = sum / double(frame.size());
    if (mean_square <= 0) return EnergyVad::kFloorDbfs;
    // 10*log10 of the mean square is 20*log10 of the RMS; reference 32768^2.
    const double db = 10.0 * std::log10(mean_square / (32768.0 * 32768.0));
    return std::max(db, EnergyVad::kFloorDbfs);
}

EnergyVad::EnergyVad(VadSettings settings)
    : settings_(settings) {}

VadEvent EnergyVad::on_frame(std::span<const int16_t> frame) {
    last_level_dbfs_ = rms_dbfs(frame);
    if (!in_speech_) {
        if (last_level_dbfs_ <= settings_.threshold_dbfs) return VadEvent::none;
        in_speech_ = true;
        speech_ = settings_.frame;
        silence_ = std::chrono::milliseconds{0};
        return VadEvent::speech_started;
    }
    if (last_level_dbfs_ > settings_.threshold_dbfs - settings_.hysteresis_db) {
        speech_ += settings_.frame;
        silence_ = std::chrono::milliseconds{0};
        return VadEvent::none;
    }
    silence_ += settings_.frame;
    if (silence_ < settings_.end_silence) return VadEvent::none;
    in_speech_ = false;
    const bool long_enough = speech_ >= settings_.min_speech;
    speech_ = silence_ = std::chrono::milliseconds{0};
    return long_enough ? VadEvent::utterance_ended : VadEvent::speech_discarded;
}

} // namespace wabridge::media

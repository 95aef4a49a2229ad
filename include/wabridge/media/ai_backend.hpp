// What a call's audio engine talks to on the AI side: the local echo assistant, or the OpenAI
// Realtime session. The engine hands it the caller's audio as 20 ms frames of 24 kHz mono PCM16
// and each DTMF key press; the backend answers by pushing its audio into the call's
// PlayoutQueue (and flushing it on barge-in). Everything runs on the event loop thread.
#pragma once

#include "wabridge/call/call_media.hpp"
#include "wabridge/loop/timer_queue.hpp"
#include "wabridge/media/dtmf_receiver.hpp"

#include <cstdint>
#include <span>

namespace wabridge::media {

class AiBackend {
public:
    virtual ~AiBackend() = default;
    // One 20 ms frame (480 samples at 24 kHz). `arrival` is when the RTP packet it was decoded
    // from reached us (the engine's clock), for latency accounting; concealed frames carry the
    // time they were produced.
    virtual void on_caller_audio(std::span<const int16_t> frame, loop::TimePoint arrival,
                                 loop::TimePoint now) = 0;
    virtual void on_dtmf(const DtmfDigit& digit, loop::TimePoint now) = 0;
    // A 20 ms packet for the caller was just built from the playout queue (AI audio or
    // silence); for latency accounting.
    virtual void on_packet_sent(loop::TimePoint) {}
    // The call is over; stop producing audio. Idempotent.
    virtual void close() {}
    // State and transcripts for GET /sessions/{callId}.
    virtual void describe(call::AiStats&) const {}
};

} // namespace wabridge::media

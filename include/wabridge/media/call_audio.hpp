// One call's audio engine, sans-IO. The transport gives it every decrypted RTP packet and,
// once per 20 ms pacing slot, asks it for the next RTP packet to send.
//
//   receive: RTP → (Opus) JitterBuffer → OpusDecoder at 24 kHz (FEC from the next packet,
//            else PLC) → 20 ms frames → AiBackend::on_caller_audio
//            RTP → (telephone-event) DtmfReceiver → AiBackend::on_dtmf
//   send:    AiBackend → PlayoutQueue (24 kHz) → one 20 ms frame per slot, AI audio or silence
//            → OpusEncoder (wideband, ≤ 20 kbit/s, FEC, no DTX) → Packetizer → RTP
//
// Silence is cheap: OpusEncoder::encode_silence() runs the encoder on a few zero frames after
// AI audio (flushing its look-ahead and FEC), then repeats one cached packet until AI audio
// returns, when the encoder restarts from a clean state.
#pragma once

#include "wabridge/loop/timer_queue.hpp"
#include "wabridge/media/ai_backend.hpp"
#include "wabridge/media/dtmf_receiver.hpp"
#include "wabridge/media/jitter_buffer.hpp"
#include "wabridge/media/opus_codec.hpp"
#include "wabridge/media/playout_queue.hpp"
#include "wabridge/rtp/packetizer.hpp"
#include "wabridge/rtp/rtp_packet.hpp"
#include "wabridge/util/result.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wabridge::media {

inline constexpr uint32_t kEngineRate = 24000;            // OpenAI's PCM rate
inline constexpr size_t kFrameSamples = kEngineRate / 50; // 20 ms

struct CallAudioSettings {
    uint8_t opus_payload_type = 111;
    std::optional<uint8_t> dtmf_payload_type;
    uint32_t ssrc = 0;
    uint16_t first_sequence = 0;
    uint32_t first_timestamp = 0;
    int send_bitrate_bps = 20000;
    int opus_complexity = 5;
    JitterBufferSettings jitter;
};

struct CallAudioStats {
    JitterBufferStats jitter;
    DtmfStats dtmf;
    PlayoutQueue::Stats playout;
    uint64_t frames_decoded = 0, frames_fec = 0, frames_concealed = 0, decode_errors = 0;
    uint64_t frames_to_ai = 0;
    uint64_t packets_ai = 0, packets_silence = 0, silence_cached = 0, encode_errors = 0;
    uint64_t unknown_payload_types = 0;
    int loss_hint_percent = 0;
};

class CallAudio {
public:
    static Result<std::unique_ptr<CallAudio>, std::string> create(const CallAudioSettings& s);

    // Decrypted, parsed RTP from the caller.
    void on_rtp(const rtp::RtpPacket& packet, loop::TimePoint now);

    // One pacing slot: pulls one frame of caller audio through to the backend, then writes the
    // next outgoing RTP packet (AI audio or silence) into out. Returns its length (0 only when
    // out is too small or encoding failed, both counted).
    size_t on_slot(loop::TimePoint now, std::span<uint8_t> out);

    // Slots the loop missed (the pacer skipped them): keeps the RTP timeline true.
    void skip_slots(uint32_t n) { packetizer_.skip_frames(n); }

    // RTCP receiver report about our stream (RFC 3550 §6.4.1 fraction lost, 0..255): the
    // encoder's FEC is tuned to the loss the caller actually sees.
    void on_remote_loss(uint8_t fraction_lost);

    void set_backend(AiBackend* backend) { backend_ = backend; }
    PlayoutQueue& playout() { return playout_; }
    const rtp::Packetizer& packetizer() const { return packetizer_; }
    CallAudioStats stats() const;

private:
    CallAudio(const CallAudioSettings& s, OpusEncoder encoder, OpusDecoder decoder);
    void pull_caller_frame(loop::TimePoint now);
    size_t write_packet(std::span<uint8_t> out);

    CallAudioSettings settings_;
    JitterBuffer jitter_;
    OpusEncoder encoder_;
    OpusDecoder decoder_;
    DtmfReceiver dtmf_;
    PlayoutQueue playout_;
    rtp::Packetizer packetizer_;
    AiBackend* backend_ = nullptr;

    std::vector<int16_t> decoded_; // room for the longest Opus frame (120 ms)
    std::vector<int16_t> uplink_;  // decoded samples not yet handed on as 20 ms
    std::optional<loop::TimePoint> uplink_arrival_;
    std::array<int16_t, kFrameSamples> downlink_{};
    std::array<uint8_t, 1500> encoded_{};
    bool last_was_ai_ = false;
    CallAudioStats counters_;
};

} // namespace wabridge::media

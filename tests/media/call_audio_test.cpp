#include "wabridge/media/call_audio.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace wabridge::media {
namespace {

using namespace std::chrono_literals;

constexpr double kToneHz = 440;

std::vector<int16_t> tone(size_t first_sample, size_t n, double hz = kToneHz) {
    std::vector<int16_t> v(n);
    for (size_t i = 0; i < n; ++i)
        v[i] = static_cast<int16_t>(8000 * std::sin(2 * M_PI * hz * (first_sample + i) / 24000.0));
    return v;
}

// Frequency by counting rising zero crossings (enough for one clean tone).
double frequency(const std::vector<int16_t>& pcm, double rate = 24000) {
    int crossings = 0;
    for (size_t i = 1; i < pcm.size(); ++i)
        if (pcm[i - 1] < 0 && pcm[i] >= 0) ++crossings;
    return crossings * rate / static_cast<double>(pcm.size());
}

double rms(std::span<const int16_t> pcm) {
    double sum = 0;
    for (int16_t s : pcm)
        sum += double(s) * s;
    return pcm.empty() ? 0 : std::sqrt(sum / pcm.size());
}

struct Recorder : AiBackend {
    std::vector<int16_t> audio;
    std::vector<char> digits;
    size_t frames = 0;
    void on_caller_audio(std::span<const int16_t> f, loop::TimePoint, loop::TimePoint) override {
        EXPECT_EQ(f.size(), kFrameSamples);
        audio.insert(audio.end(), f.begin(), f.end());
        ++frames;
    }
    void on_dtmf(const DtmfDigit& d, loop::TimePoint) override { digits.push_back(d.digit); }
};

// A caller: Opus-encoded 20 ms frames of a tone in RTP, PT 111.
struct Caller {
    OpusEncoder encoder = std::move(OpusEncoder::create({}).value());
    uint16_t seq = 100;
    uint32_t ts = 5000;
    size_t sample = 0;
    std::vector<uint8_t> next() {
        auto pcm = tone(sample, kFrameSamples);
        sample += kFrameSamples;
        std::vector<uint8_t> payload(1500);
        size_t n = encoder.encode(pcm, payload).value();
        payload.resize(n);
        rtp::RtpHeader h{};
        h.payload_type = 111;
        h.sequence = seq++;
        h.timestamp = ts;
        ts += 960;
        h.ssrc = 0xCAFE;
        std::vector<uint8_t> packet(1500);
        packet.resize(rtp::write_rtp(h, payload, packet));
        return packet;
    }
};

struct CallAudioFixture : ::testing::Test {
    Recorder backend;
    std::unique_ptr<CallAudio> audio;
    loop::TimePoint now{};
    std::vector<std::vector<uint8_t>> sent;

    void SetUp() override {
        CallAudioSettings s;
        s.ssrc = 0x1234;
        s.first_sequence = 65530;
        s.first_timestamp = 777;
        s.dtmf_payload_type = 126;
        audio = std::move(CallAudio::create(s).value());
        audio->set_backend(&backend);
    }
    void deliver(const std::vector<uint8_t>& packet) {
        auto parsed = rtp::parse_rtp(packet);
        ASSERT_TRUE(parsed);
        audio->on_rtp(*parsed, now);
    }
    void slot() {
        std::vector<uint8_t> out(1500);
        size_t n = audio->on_slot(now, out);
        ASSERT_GT(n, rtp::kRtpHeaderSize);
        out.resize(n);
        sent.push_back(out);
        now += 20ms;
    }
};

TEST_F(CallAudioFixture, CallerAudioReachesTheBackendAt24kHz) {
    Caller caller;
    for (int i = 0; i < 100; ++i) {
        deliver(caller.next());
        slot();
    }
    // The jitter buffer holds the first packets for its minimum delay; the rest arrive in order.
    EXPECT_GE(backend.frames, 95u);
    std::vector<int16_t> steady(backend.audio.begin() + 24000 / 5, backend.audio.end());
    EXPECT_NEAR(frequency(steady), kToneHz, 5);
    EXPECT_GT(rms(steady), 3000); // 8000 peak ≈ 5657 RMS; Opus keeps the level
    auto st = audio->stats();
    EXPECT_EQ(st.frames_fec, 0u);
    EXPECT_EQ(st.jitter.lost, 0u);
}

TEST_F(CallAudioFixture, OneLostPacketIsRebuiltFromTheNextPacketsFec) {
    Caller caller;
    caller.encoder.set_packet_loss_percent(20); // the encoder only spends bits on LBRR when told
    for (int i = 0; i < 60; ++i) {
        auto p = caller.next();
        if (i != 40) deliver(p);
        slot();
    }
    auto st = audio->stats();
    EXPECT_EQ(st.jitter.lost, 1u);
    EXPECT_EQ(st.frames_fec, 1u);
    EXPECT_EQ(st.frames_concealed, 0u);
}

TEST_F(CallAudioFixture, EveryPacketIsSilenceUntilAiAudioAndSilenceIsCached) {
    for (int i = 0; i < 50; ++i)
        slot();
    auto st = audio->stats();
    EXPECT_EQ(st.packets_silence, 50u);
    // No AI audio yet: nothing to flush, so every silent packet is the cached one.
    EXPECT_EQ(st.silence_cached, 50u);
    // Sequence numbers run on across the 16-bit wrap; timestamps +960 per packet.
    for (size_t i = 0; i < sent.size(); ++i) {
        auto p = rtp::parse_rtp(sent[i]).value();
        EXPECT_EQ(p.header.sequence, uint16_t(65530 + i));
        EXPECT_EQ(p.header.timestamp, 777u + 960u * i);
        EXPECT_EQ(p.header.ssrc, 0x1234u);
        EXPECT_EQ(p.header.marker, i == 0);
    }

    // 1 s of AI audio: the first AI packet starts a talkspurt, then 50 AI packets, then silence.
    audio->playout().push("item-1", 0, tone(0, 24000, 1000));
    sent.clear();
    for (int i = 0; i < 60; ++i)
        slot();
    st = audio->stats();
    EXPECT_EQ(st.packets_ai, 50u);
    // After AI audio the encoder flushes its look-ahead before the cache takes over again.
    EXPECT_EQ(st.silence_cached, 50u + 10u - OpusEncoder::kSilenceFlushFrames);
    EXPECT_TRUE(rtp::parse_rtp(sent[0])->header.marker);
    EXPECT_FALSE(rtp::parse_rtp(sent[1])->header.marker);
    EXPECT_FALSE(rtp::parse_rtp(sent[50])->header.marker);

    // What the caller hears is the AI's 1 kHz tone.
    OpusDecoder decoder = std::move(OpusDecoder::create(24000).value());
    std::vector<int16_t> heard, frame(2880);
    for (size_t i = 0; i < 50; ++i) {
        auto p = rtp::parse_rtp(sent[i]).value();
        size_t n = decoder.decode(p.payload, frame).value();
        heard.insert(heard.end(), frame.begin(), frame.begin() + n);
    }
    std::vector<int16_t> steady(heard.begin() + 2400, heard.end());
    EXPECT_NEAR(frequency(steady), 1000, 10);
}

TEST_F(CallAudioFixture, DtmfKeyPressReachesTheBackendOnce) {
    // RFC 4733 §2.3: event 5, then three end packets with the same timestamp.
    auto packet = [&](bool marker, bool end, uint16_t duration) {
        rtp::RtpHeader h{};
        h.payload_type = 126;
        h.marker = marker;
        h.sequence = 7;
        h.timestamp = 16000;
        h.ssrc = 0xCAFE;
        const uint8_t payload[4] = {5, uint8_t(end ? 0x80 | 10 : 10), uint8_t(duration >> 8),
                                    uint8_t(duration & 0xFF)};
        std::vector<uint8_t> out(64);
        out.resize(rtp::write_rtp(h, payload, out));
        return out;
    };
    deliver(packet(true, false, 160));
    deliver(packet(false, false, 320));
    for (int i = 0; i < 3; ++i)
        deliver(packet(false, true, 800));
    ASSERT_EQ(backend.digits.size(), 1u);
    EXPECT_EQ(backend.digits[0], '5');
    EXPECT_EQ(audio->stats().dtmf.digits, 1u);
}

TEST_F(CallAudioFixture, RtcpLossBecomesTheEncodersFecHint) {
    audio->on_remote_loss(26); // 26/256 ≈ 10 %
    EXPECT_EQ(audio->stats().loss_hint_percent, 10);
    audio->on_remote_loss(0);
    EXPECT_EQ(audio->stats().loss_hint_percent, 0);
}

TEST_F(CallAudioFixture, UnknownPayloadTypesAreCountedNotDecoded) {
    rtp::RtpHeader h{};
    h.payload_type = 0; // PCMU was not negotiated
    std::vector<uint8_t> out(64);
    const uint8_t payload[4] = {1, 2, 3, 4};
    out.resize(rtp::write_rtp(h, payload, out));
    deliver(out);
    EXPECT_EQ(audio->stats().unknown_payload_types, 1u);
}

} // namespace
} // namespace wabridge::media

// The queue of AI speech waiting to be played to the caller: mono PCM16 (24 kHz from the
// Realtime API) tagged by conversation item, played out one frame at a time, with exact
// per-item played-sample accounting so a barge-in can truncate the item at what the caller
// actually heard.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wabridge::media {

struct PlayoutItemProgress {
    std::string item_id;
    int content_index = 0;
    uint64_t received_samples = 0; // accepted into the queue (overflow and ignored excluded)
    uint64_t played_samples = 0;
    uint32_t sample_rate = 24000;
    // played_samples * 1000 / sample_rate, rounded down.
    uint64_t played_ms() const { return sample_rate ? played_samples * 1000 / sample_rate : 0; }
};

class PlayoutQueue {
public:
    // `max_samples` caps what may be queued at once; samples beyond it are dropped and counted.
    explicit PlayoutQueue(uint32_t sample_rate = 24000, size_t max_samples = 24000 * 600);

    // Appends audio of an item. Empty pushes are no-ops. Pushes for an ignored item are dropped
    // (counted in ignored_samples). When the cap is reached the part that fits is queued and
    // the rest counted in overflow_samples.
    void push(std::string_view item_id, int content_index, std::span<const int16_t> pcm);

    // Fills exactly one frame (all of `out`). Returns the number of AI samples written; the rest
    // of `out` is zero (silence), all of it when nothing is queued. A frame may span items; each
    // item is credited exactly the samples of it that were played. Does not allocate once the
    // queue has seen a few chunks (finished chunk buffers are recycled for later pushes).
    size_t pop_frame(std::span<int16_t> out);

    bool empty() const { return queued_ == 0; }
    uint64_t queued_samples() const { return queued_; }

    // Barge-in: drops everything queued at once (counted in flushed_samples). Returns the
    // progress of the item that was playing or about to: the item at the head of the queue if
    // audio was queued, otherwise the item whose audio was played most recently; std::nullopt
    // if nothing was ever queued or played.
    std::optional<PlayoutItemProgress> flush();

    // Progress of an item (the most recent one with this id), std::nullopt if unknown. The
    // history keeps the last kHistory items plus any item that still has audio queued.
    std::optional<PlayoutItemProgress> progress(std::string_view item_id) const;

    // Late audio for this item (e.g. deltas still in flight after a cancelled response) is
    // dropped from now on; other items are queued as usual. The last kIgnored ignored ids are
    // remembered (Realtime item ids are never reused, so ignoring for good is safe).
    // Audio of the item already queued is left alone (flush() first to drop it).
    void ignore_item(std::string_view item_id);

    struct Stats {
        uint64_t pushed_samples = 0; // accepted into the queue
        uint64_t played_samples = 0;
        uint64_t flushed_samples = 0;
        uint64_t overflow_samples = 0;
        uint64_t ignored_samples = 0;
    };
    Stats stats() const { return stats_; }

    static constexpr size_t kHistory = 16;
    static constexpr size_t kIgnored = 4;
    static constexpr size_t kSpareBuffers = 8;

private:
    struct Item {
        PlayoutItemProgress progress;
        uint64_t queued = 0; // samples of this item still in the queue
    };
    struct Chunk {
        uint64_t item_seq; // key into history_
        std::vector<int16_t> samples;
        size_t offset = 0; // first unplayed sample
    };

    Item& item(uint64_t seq) { return history_[seq - first_seq_]; }
    uint64_t item_for_push(std::string_view item_id, int content_index);
    void trim_history();
    void recycle(std::vector<int16_t>&& buffer);

    uint32_t sample_rate_;
    size_t max_samples_;
    uint64_t queued_ = 0;

    std::deque<Item> history_; // oldest first; Item seq = first_seq_ + index
    uint64_t first_seq_ = 0;
    std::optional<uint64_t> last_played_;

    std::deque<Chunk> chunks_;
    std::vector<std::vector<int16_t>> spare_; // recycled chunk buffers

    std::array<std::string, kIgnored> ignored_; // ring; the first ignored_count_ are valid
    size_t ignored_count_ = 0;
    size_t next_ignored_ = 0;

    Stats stats_;
};

} // namespace wabridge::media

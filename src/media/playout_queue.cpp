// AI playout queue: a FIFO of PCM chunks tagged by conversation item, popped one frame at a
// time with exact per-item played-sample accounting (see playout_queue.hpp).
#include "wabridge/media/playout_queue.hpp"

#include <algorithm>

namespace wabridge::media {

PlayoutQueue::PlayoutQueue(uint32_t sample_rate, size_t max_samples)
    : sample_rate_(sample_rate)
    , max_samples_(max_samples) {
    spare_.reserve(kSpareBuffers);
}

uint64_t PlayoutQueue::item_for_push(std::string_view item_id, int content_index) {
    // Usually the newest item; search back in case an earlier one gets more audio.
    for (size_t i = history_.size(); i-- > 0;) {
        const auto& p = history_[i].progress;
        if (p.item_id == item_id && p.content_index == content_index) return first_seq_ + i;
    }
    Item fresh;
    fresh.progress.item_id = std::string(item_id);
    fresh.progress.content_index = content_index;
    fresh.progress.sample_rate = sample_rate_;
    history_.push_back(std::move(fresh));
    return first_seq_ + history_.size() - 1;
}

void PlayoutQueue::trim_history() {
    // Items with queued audio stay: chunks refer to them by sequence number.
    while (history_.size() > kHistory && history_.front().queued == 0) {
        if (last_played_ == first_seq_) last_played_.reset();
        history_.pop_front();
        ++first_seq_;
    }
}

void PlayoutQueue::recycle(std::vector<int16_t>&& buffer) {
    if (spare_.size() < kSpareBuffers) spare_.push_back(std::move(buffer)); // capacity reserved
}

void PlayoutQueue::push(std::string_view item_id, int content_index, std::span<const int16_t> pcm) {
    if (pcm.empty()) return;
    for (size_t i = 0; i < ignored_count_; ++i) {
        if (ignored_[i] == item_id) {
            stats_.ignored_samples += pcm.size();
            return;
        }
    }
    const uint64_t room = max_samples_ > queued_ ? max_samples_ - queued_ : 0;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(room, pcm.size()));
    stats_.overflow_samples += pcm.size() - n;
    if (n == 0) return;

    const uint64_t seq = item_for_push(item_id, content_index);
    Chunk chunk{seq, {}, 0};
    if (!spare_.empty()) {
        chunk.samples = std::move(spare_.back());
        spare_.pop_back();
    }
    chunk.samples.assign(pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(n));
    chunks_.push_back(std::move(chunk));

    Item& it = item(seq);
    it.queued += n;
    it.progress.received_samples += n;
    queued_ += n;
    stats_.pushed_samples += n;
    trim_history();
}

size_t PlayoutQueue::pop_frame(std::span<int16_t> out) {
    size_t written = 0;
    while (written < out.size() && !chunks_.empty()) {
        Chunk& c = chunks_.front();
        const size_t n = std::min(out.size() - written, c.samples.size() - c.offset);
        std::copy_n(c.samples.data() + c.offset, n, out.data() + written);
        c.offset += n;
        written += n;
        queued_ -= n;
        Item& it = item(c.item_seq);
        it.progress.played_samples += n;
        it.queued -= n;
        last_played_ = c.item_seq;
        if (c.offset == c.samples.size()) {
            recycle(std::move(c.samples));
            chunks_.pop_front();
        }
    }
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(written), out.end(), int16_t{0});
    stats_.played_samples += written;
    return written;
}

std::optional<PlayoutItemProgress> PlayoutQueue::flush() {
    std::optional<uint64_t> current = last_played_;
    if (!chunks_.empty()) current = chunks_.front().item_seq;
    std::optional<PlayoutItemProgress> result;
    if (current) result = item(*current).progress;

    for (auto& c : chunks_) {
        item(c.item_seq).queued -= c.samples.size() - c.offset;
        recycle(std::move(c.samples));
    }
    chunks_.clear();
    stats_.flushed_samples += queued_;
    queued_ = 0;
    trim_history();
    return result;
}

std::optional<PlayoutItemProgress> PlayoutQueue::progress(std::string_view item_id) const {
    for (size_t i = history_.size(); i-- > 0;)
        if (history_[i].progress.item_id == item_id) return history_[i].progress;
    return std::nullopt;
}

void PlayoutQueue::ignore_item(std::string_view item_id) {
    ignored_[next_ignored_] = std::string(item_id);
    next_ignored_ = (next_ignored_ + 1) % kIgnored;
    ignored_count_ = std::min(ignored_count_ + 1, kIgnored);
}

} // namespace wabridge::media

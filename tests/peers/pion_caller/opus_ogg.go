// Ogg Opus files for -play and -record.
//
// -play reads a file made by opusenc with pion's oggreader. oggreader returns whole Ogg pages,
// not packets, so the file must hold one Opus packet per page: opusenc puts up to a second of
// packets on a page unless told otherwise (`--max-delay 20` gives one 20 ms packet per page).
// loadOggOpus checks this from the granule positions and refuses other files.
//
// -record writes its own Ogg Opus stream (RFC 7845 on RFC 3533 framing). pion's oggwriter is
// not used: its first audio page carries granule position 1 for a 960-sample packet, which
// implies a negative start time, and libopusfile (opusdec) refuses to open such a file
// ("Failed to open"; opusinfo: "Samples with negative granpos"). The writer here keeps the
// received audio on the sender's RTP timeline: pre-skip 0, one packet per page, and each gap in
// the RTP timestamps filled with 20 ms silence frames, so that sample n of `opusdec rec.ogg
// out.wav` is RTP timestamp first_ts + n.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pion/webrtc/v3/pkg/media/oggreader"
)

// opusPacketSamples is the duration of an Opus packet in 48 kHz samples, from its TOC byte and,
// for code 3, its frame count byte (RFC 6716 §3.1 and §3.2.5).
func opusPacketSamples(p []byte) (int, error) {
	if len(p) < 1 {
		return 0, errors.New("empty Opus packet")
	}
	config := int(p[0] >> 3)
	var frame int // samples at 48 kHz
	switch {
	case config < 12: // SILK-only: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		frame = []int{480, 960}[config%2]
	default: // CELT-only: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[config%4]
	}
	switch p[0] & 3 {
	case 0:
		return frame, nil
	case 1, 2:
		return 2 * frame, nil
	default:
		if len(p) < 2 {
			return 0, errors.New("code 3 Opus packet without a frame count byte")
		}
		m := int(p[1] & 0x3f)
		if m == 0 || m*frame > 5760 { // §3.2.5: at least one frame, at most 120 ms
			return 0, fmt.Errorf("code 3 Opus packet with %d frames", m)
		}
		return m * frame, nil
	}
}

// oggOpusFile is a -play file: the Opus packets in order, all 20 ms.
type oggOpusFile struct {
	packets  [][]byte
	preSkip  int
	channels int
}

// loadOggOpus reads an Ogg Opus file whose pages each hold exactly one 20 ms packet.
func loadOggOpus(path string) (*oggOpusFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, head, err := oggreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not an Ogg Opus file: %w", path, err)
	}
	out := &oggOpusFile{preSkip: int(head.PreSkip), channels: int(head.Channels)}
	var prevGranule uint64
	var pending []byte // the previous page's packet, checked against the next granule
	for page := 0; ; page++ {
		payload, ph, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: page %d: %w", path, page, err)
		}
		// RFC 7845 §5.2: the comment header pages have granule position 0; audio starts on a
		// fresh page, and an audio page that completes a packet has a non-zero granule.
		if ph.GranulePosition == 0 {
			if len(out.packets) > 0 {
				return nil, fmt.Errorf("%s: page %d: granule position 0 after audio (a packet spans pages?)", path, page)
			}
			continue
		}
		n, err := opusPacketSamples(payload)
		if err != nil {
			return nil, fmt.Errorf("%s: page %d: %w", path, page, err)
		}
		if n != samplesPer20ms {
			return nil, fmt.Errorf("%s: page %d: %d-sample packet; encode with opusenc --framesize 20", path, page, n)
		}
		// One packet per page: each page advances the granule by one packet. The last page may
		// advance by less (end trimming) and the first by more (pre-skip), never by two packets.
		if pending != nil && ph.GranulePosition-prevGranule > uint64(samplesPer20ms) {
			return nil, fmt.Errorf("%s: page %d advances %d samples: several packets per page; encode with opusenc --max-delay 20",
				path, page, ph.GranulePosition-prevGranule)
		}
		if pending == nil && ph.GranulePosition > uint64(samplesPer20ms+out.preSkip) {
			return nil, fmt.Errorf("%s: first audio page ends at granule %d: several packets per page; encode with opusenc --max-delay 20",
				path, ph.GranulePosition)
		}
		pending = payload
		prevGranule = ph.GranulePosition
		out.packets = append(out.packets, payload)
	}
	if len(out.packets) == 0 {
		return nil, fmt.Errorf("%s: no audio packets", path)
	}
	return out, nil
}

// --- recording -------------------------------------------------------------------------------

// opusSilence20ms is a CELT-only fullband 20 ms mono frame (TOC 0xF8) whose range-coded
// silence flag is set: it decodes to digital silence.
var opusSilence20ms = []byte{0xF8, 0xFF, 0xFE}

// oggCRC is the Ogg page checksum: CRC-32, polynomial 0x04C11DB7, no reflection, initial value
// and final XOR 0 (RFC 3533 §6, "CRC checksum").
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for b := 0; b < 8; b++ {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return
}()

func oggCRC(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 ^ oggCRCTable[byte(c>>24)^x]
	}
	return c
}

// Page header flags (RFC 3533 §6).
const (
	oggFlagBOS = 0x02
	oggFlagEOS = 0x04
)

// oggPage builds one page holding exactly one packet (lacing per RFC 3533 §5: 255-byte segments
// then a final segment shorter than 255, possibly 0).
func oggPage(serial, seq uint32, granule uint64, flags byte, packet []byte) []byte {
	nseg := len(packet)/255 + 1
	page := make([]byte, 27+nseg+len(packet))
	copy(page, "OggS")
	page[4] = 0 // version
	page[5] = flags
	binary.LittleEndian.PutUint64(page[6:], granule)
	binary.LittleEndian.PutUint32(page[14:], serial)
	binary.LittleEndian.PutUint32(page[18:], seq)
	page[26] = byte(nseg)
	for i := 0; i < nseg-1; i++ {
		page[27+i] = 255
	}
	page[27+nseg-1] = byte(len(packet) % 255)
	copy(page[27+nseg:], packet)
	binary.LittleEndian.PutUint32(page[22:], oggCRC(page))
	return page
}

// recorder writes received Opus RTP payloads into an Ogg Opus stream on the RTP timeline.
type recorder struct {
	w        io.Writer
	serial   uint32
	seq      uint32
	granule  uint64 // samples written so far (pre-skip is 0)
	pending  []byte // the last audio packet, written on the next packet or at close (EOS)
	started  bool
	ssrc     uint32
	firstTS  uint32
	nextTS   uint32 // RTP timestamp the next packet should have
	err      error
	Packets  int // received packets written
	Filled   int // 20 ms silence frames inserted for gaps in the timestamps
	Late     int // packets older than what was already written (reordered, duplicated): dropped
	Skipped  int // packets of another SSRC or with an unparsable TOC
	Channels int
}

func newRecorder(w io.Writer, serial uint32, channels int) *recorder {
	r := &recorder{w: w, serial: serial, Channels: channels}
	// RFC 7845 §5.1: identification header. Pre-skip 0: the sender's encoder delay is unknown
	// here, and 0 keeps decoded sample n at RTP timestamp first_ts + n.
	head := make([]byte, 19)
	copy(head, "OpusHead")
	head[8] = 1 // version
	head[9] = byte(channels)
	binary.LittleEndian.PutUint16(head[10:], 0)     // pre-skip
	binary.LittleEndian.PutUint32(head[12:], 48000) // input sample rate (informational)
	binary.LittleEndian.PutUint16(head[16:], 0)     // output gain
	head[18] = 0                                    // channel mapping family 0: mono or stereo
	r.write(oggPage(serial, r.seq, 0, oggFlagBOS, head))
	// §5.2: comment header, on its own page with granule 0.
	vendor := "wabridge pion_caller"
	tags := make([]byte, 8+4+len(vendor)+4)
	copy(tags, "OpusTags")
	binary.LittleEndian.PutUint32(tags[8:], uint32(len(vendor)))
	copy(tags[12:], vendor)
	r.write(oggPage(serial, r.seq, 0, 0, tags))
	return r
}

func (r *recorder) write(page []byte) {
	if r.err == nil {
		_, r.err = r.w.Write(page)
	}
	r.seq++
}

func (r *recorder) flushPending(flags byte) {
	if r.pending == nil {
		return
	}
	r.write(oggPage(r.serial, r.seq, r.granule, flags, r.pending))
	r.pending = nil
}

// appendPacket queues one packet of n samples; the previous one is written now.
func (r *recorder) appendPacket(p []byte, n int) {
	r.flushPending(0)
	r.granule += uint64(n)
	r.pending = append([]byte(nil), p...)
}

// Add records one received RTP packet (payload of the first SSRC seen, in timestamp order).
func (r *recorder) Add(ssrc, ts uint32, payload []byte) {
	n, err := opusPacketSamples(payload)
	if err != nil || (r.started && ssrc != r.ssrc) {
		r.Skipped++
		return
	}
	if !r.started {
		r.started, r.ssrc, r.firstTS, r.nextTS = true, ssrc, ts, ts
	}
	d := int32(ts - r.nextTS) // serial-number arithmetic on the 32-bit timestamp
	if d < 0 {
		r.Late++
		return
	}
	// A gap: the sender's clock advanced without packets reaching us. Fill it with silence so
	// the recording stays on the sender's timeline (whole 20 ms frames; a remainder of less than
	// 20 ms, which a 20 ms sender never produces, is dropped).
	for ; d >= samplesPer20ms; d -= samplesPer20ms {
		r.appendPacket(opusSilence20ms, samplesPer20ms)
		r.Filled++
	}
	r.appendPacket(payload, n)
	r.nextTS = ts + uint32(n)
	r.Packets++
}

// Close writes the last page with the end-of-stream flag. A recording that got no packet gets
// one silence frame so that the file is still a valid (empty-sounding) Ogg Opus stream.
func (r *recorder) Close() error {
	if r.pending == nil {
		r.appendPacket(opusSilence20ms, samplesPer20ms)
	}
	r.flushPending(oggFlagEOS)
	return r.err
}

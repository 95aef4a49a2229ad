// Unit tests of the caller's helpers: Opus TOC durations, the Ogg recorder (read back with pion's
// oggreader, which verifies page checksums), gap filling, the impairment plan and scheduler, the
// receive-gap measure, and the signalling (signal.go): the caller's offer and the answerer's
// answer built by pion on 127.0.0.1 (no packet is exchanged), the refused offers, the file
// exchange. Run offline with the same GOPATH overlay as the build:
//
//	GOPATH=$PWD/build/gopath GO111MODULE=off GOFLAGS= GOCACHE=$PWD/build/gopath/cache \
//	    go test ./tests/peers/pion_caller/
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3/pkg/media/oggreader"
)

func TestOpusPacketSamples(t *testing.T) {
	cases := []struct {
		p    []byte
		want int
	}{
		{[]byte{0x48}, 960},             // config 9: SILK WB 20 ms, code 0
		{[]byte{0x78}, 960},             // config 15: hybrid FB 20 ms
		{[]byte{0x70}, 480},             // config 14: hybrid FB 10 ms
		{[]byte{0xF8, 0xFF, 0xFE}, 960}, // config 31: CELT FB 20 ms
		{[]byte{0xE0}, 120},             // config 28: CELT FB 2.5 ms
		{[]byte{0x49, 1, 2}, 1920},      // code 1: two 20 ms frames
		{[]byte{0x4B, 0x03}, 2880},      // code 3, three 20 ms frames
		{[]byte{0x1B, 0x02}, 5760},      // config 3 (SILK NB 60 ms) x2 = 120 ms
	}
	for _, c := range cases {
		got, err := opusPacketSamples(c.p)
		if err != nil || got != c.want {
			t.Errorf("opusPacketSamples(% x) = %d, %v; want %d", c.p, got, err, c.want)
		}
	}
	for _, bad := range [][]byte{{}, {0x4B}, {0x4B, 0x00}, {0x1B, 0x03}} {
		if _, err := opusPacketSamples(bad); err == nil {
			t.Errorf("opusPacketSamples(% x) accepted", bad)
		}
	}
}

func TestOggCRCKnownValue(t *testing.T) {
	// CRC-32/MPEG-2 without the final inversion and with initial value 0 ("CRC-32/OGG" is this
	// polynomial, non-reflected, init 0, xorout 0): check value for "123456789" is 0x89A1897F.
	if got := oggCRC([]byte("123456789")); got != 0x89A1897F {
		t.Fatalf("oggCRC = %#x, want 0x89a1897f", got)
	}
}

// readBack parses a recording with pion's oggreader (checksums verified) and returns the audio
// packets and their pages' granule positions.
func readBack(t *testing.T, b []byte) (*oggreader.OggHeader, [][]byte, []uint64) {
	t.Helper()
	r, head, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("oggreader: %v", err)
	}
	var packets [][]byte
	var granules []uint64
	for {
		p, ph, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		if bytes.HasPrefix(p, []byte("OpusTags")) {
			continue
		}
		packets = append(packets, p)
		granules = append(granules, ph.GranulePosition)
	}
	return head, packets, granules
}

func TestRecorderKeepsTheRTPTimelineAndFillsGaps(t *testing.T) {
	var buf bytes.Buffer
	rec := newRecorder(&buf, 7, 1)
	a, b, c := []byte{0x48, 1, 2, 3}, []byte{0x48, 4, 5}, []byte{0x48, 6}
	var ts0 uint32 = 0xFFFFF000 // wraps around during the test
	rec.Add(99, ts0, a)
	rec.Add(99, ts0+960, b)
	rec.Add(99, ts0+960, b)          // duplicate: late
	rec.Add(99, ts0+4*960, c)        // two 20 ms slots missing
	rec.Add(99, ts0+2*960, a)        // arrived after c: late
	rec.Add(55, ts0+5*960, a)        // another SSRC
	rec.Add(99, ts0+5*960, []byte{}) // no TOC
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if rec.Packets != 3 || rec.Filled != 2 || rec.Late != 2 || rec.Skipped != 2 {
		t.Fatalf("counts packets=%d filled=%d late=%d skipped=%d", rec.Packets, rec.Filled, rec.Late, rec.Skipped)
	}
	head, packets, granules := readBack(t, buf.Bytes())
	if head.Channels != 1 || head.PreSkip != 0 || head.SampleRate != 48000 {
		t.Fatalf("header %+v", head)
	}
	want := [][]byte{a, b, opusSilence20ms, opusSilence20ms, c}
	if len(packets) != len(want) {
		t.Fatalf("%d packets, want %d", len(packets), len(want))
	}
	for i := range want {
		if !bytes.Equal(packets[i], want[i]) {
			t.Errorf("packet %d = % x, want % x", i, packets[i], want[i])
		}
		if granules[i] != uint64(960*(i+1)) {
			t.Errorf("granule %d = %d, want %d", i, granules[i], 960*(i+1))
		}
	}
	// The last page carries the end-of-stream flag (byte 5 of its header).
	raw := buf.Bytes()
	last := bytes.LastIndex(raw, []byte("OggS"))
	if raw[last+5] != oggFlagEOS {
		t.Errorf("last page flags %#x, want EOS", raw[last+5])
	}
	// The first page is the beginning of stream and holds OpusHead.
	if raw[5] != oggFlagBOS || !bytes.Equal(raw[28:36], []byte("OpusHead")) {
		t.Errorf("first page flags %#x / %q", raw[5], raw[28:36])
	}
}

func TestRecorderLacesLongPackets(t *testing.T) {
	var buf bytes.Buffer
	rec := newRecorder(&buf, 1, 2)
	long := make([]byte, 600) // 255 + 255 + 90: three lacing values
	long[0] = 0x78
	for i := 1; i < len(long); i++ {
		long[i] = byte(i)
	}
	exact := make([]byte, 510) // 255 + 255 + 0: a terminating zero lacing value
	exact[0] = 0x78
	rec.Add(1, 100, long)
	rec.Add(1, 1060, exact)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	head, packets, _ := readBack(t, buf.Bytes())
	if head.Channels != 2 || len(packets) != 2 || !bytes.Equal(packets[0], long) || !bytes.Equal(packets[1], exact) {
		t.Fatalf("read back %d packets (lens %v)", len(packets), lens(packets))
	}
}

func TestEmptyRecordingIsStillAValidStream(t *testing.T) {
	var buf bytes.Buffer
	rec := newRecorder(&buf, 1, 1)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	_, packets, granules := readBack(t, buf.Bytes())
	if len(packets) != 1 || !bytes.Equal(packets[0], opusSilence20ms) || granules[0] != 960 {
		t.Fatalf("packets %v granules %v", lens(packets), granules)
	}
}

func lens(ps [][]byte) []int {
	var l []int
	for _, p := range ps {
		l = append(l, len(p))
	}
	return l
}

// writeOgg writes a recording of n 20 ms packets to a file, for loadOggOpus.
func writeOgg(t *testing.T, n int, perPage int) string {
	t.Helper()
	var buf bytes.Buffer
	rec := newRecorder(&buf, 3, 1)
	for i := 0; i < n; i++ {
		rec.Add(1, uint32(960*i), []byte{0x48, byte(i)})
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if perPage > 1 {
		// Rebuild the audio as pages of perPage packets, as opusenc does by default.
		var out bytes.Buffer
		_, packets, _ := readBack(t, b)
		head := b[:bytes.Index(b[4:], []byte("OggS"))+4]
		tags := b[len(head):]
		tags = tags[:bytes.Index(tags[4:], []byte("OggS"))+4]
		out.Write(head)
		out.Write(tags)
		seq := uint32(2)
		for i := 0; i < len(packets); i += perPage {
			var body []byte
			var lacing []byte
			for _, p := range packets[i:minInt(i+perPage, len(packets))] {
				body = append(body, p...)
				lacing = append(lacing, byte(len(p)))
			}
			page := make([]byte, 27+len(lacing)+len(body))
			copy(page, "OggS")
			binary.LittleEndian.PutUint64(page[6:], uint64(960*minInt(i+perPage, len(packets))))
			binary.LittleEndian.PutUint32(page[14:], 3)
			binary.LittleEndian.PutUint32(page[18:], seq)
			page[26] = byte(len(lacing))
			copy(page[27:], lacing)
			copy(page[27+len(lacing):], body)
			binary.LittleEndian.PutUint32(page[22:], oggCRC(page))
			out.Write(page)
			seq++
		}
		b = out.Bytes()
	}
	path := filepath.Join(t.TempDir(), "x.ogg")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func TestLoadOggOpusOnePacketPerPage(t *testing.T) {
	f, err := loadOggOpus(writeOgg(t, 5, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.packets) != 5 || f.preSkip != 0 || f.channels != 1 {
		t.Fatalf("%d packets, pre-skip %d, %d channels", len(f.packets), f.preSkip, f.channels)
	}
	for i, p := range f.packets {
		if !bytes.Equal(p, []byte{0x48, byte(i)}) {
			t.Errorf("packet %d = % x", i, p)
		}
	}
}

func TestLoadOggOpusRefusesSeveralPacketsPerPage(t *testing.T) {
	if _, err := loadOggOpus(writeOgg(t, 6, 3)); err == nil {
		t.Fatal("a file with 3 packets per page was accepted")
	}
}

func TestImpairPlanIsDeterministicAndBounded(t *testing.T) {
	cfg := impairConfig{loss: 0.05, delay: 30 * time.Millisecond, jitter: 20 * time.Millisecond, seed: 1}
	a, b := newImpairPlan(cfg), newImpairPlan(cfg)
	drops := 0
	for i := 0; i < 10000; i++ {
		da, wa := a.next()
		db, wb := b.next()
		if da != db || wa != wb {
			t.Fatalf("packet %d: plans differ (%v %v / %v %v)", i, da, wa, db, wb)
		}
		if da {
			drops++
			continue
		}
		if wa < 10*time.Millisecond || wa > 50*time.Millisecond {
			t.Fatalf("packet %d delayed %v, outside 30ms±20ms", i, wa)
		}
	}
	if drops < 420 || drops > 580 { // 5 % of 10000, about ±7 standard deviations
		t.Fatalf("%d drops in 10000 at loss 0.05", drops)
	}
	other := newImpairPlan(impairConfig{loss: 0.05, seed: 2})
	same := 0
	a = newImpairPlan(cfg)
	for i := 0; i < 1000; i++ {
		da, _ := a.next()
		do, _ := other.next()
		if da == do {
			same++
		}
	}
	if same == 1000 {
		t.Fatal("seeds 1 and 2 gave the same drops")
	}
	// Jitter larger than the delay never schedules before the slot.
	c := newImpairPlan(impairConfig{delay: 5 * time.Millisecond, jitter: 20 * time.Millisecond, seed: 3})
	for i := 0; i < 1000; i++ {
		if _, w := c.next(); w < 0 {
			t.Fatalf("negative delay %v", w)
		}
	}
}

func TestDelaySchedulerSendsInDueOrderAndCountsReorders(t *testing.T) {
	s := newDelayScheduler()
	var mu sync.Mutex
	var order []int
	base := time.Now().Add(20 * time.Millisecond)
	// index: due offset (ms). 1 is due before 0, 3 before 2: two reorders.
	for _, x := range []struct{ i, ms int }{{0, 30}, {1, 10}, {2, 50}, {3, 40}, {4, 60}} {
		i := x.i
		s.Schedule(base.Add(time.Duration(x.ms)*time.Millisecond), i, func() {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		})
	}
	s.Close()
	want := []int{1, 0, 3, 2, 4}
	if len(order) != len(want) {
		t.Fatalf("order %v", order)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if s.Reorders != 2 {
		t.Fatalf("reorders %d, want 2", s.Reorders)
	}
	if time.Since(base) < 60*time.Millisecond {
		t.Fatalf("Close returned before the last packet was due")
	}
}

func TestMaxGap(t *testing.T) {
	ev := func(ts ...float64) []recvEvent {
		var r []recvEvent
		for _, x := range ts {
			r = append(r, recvEvent{T: x})
		}
		return r
	}
	if _, ok := maxGap(nil, 100); ok {
		t.Fatal("no arrivals reported a gap")
	}
	if g, ok := maxGap(ev(10, 30, 50, 120, 140), 150); !ok || g != 70 {
		t.Fatalf("gap %v, want 70 (50 -> 120)", g)
	}
	if g, _ := maxGap(ev(10, 30, 50), 200); g != 150 {
		t.Fatalf("gap %v, want 150 (the tail until hang-up)", g)
	}
	// Arrivals after `until` are ignored; the gap is clipped at `until`.
	if g, _ := maxGap(ev(10, 30, 50, 300), 60); g != 20 {
		t.Fatalf("gap %v, want 20", g)
	}
}

// bridgeOffer is shaped like wabridge's business-initiated offer (full ICE, actpass), with one
// candidate on 127.0.0.1 (port 9: nothing is sent to it, we are lite) and one elsewhere that must
// never reach pion.
func bridgeOffer(mid string, dtmf bool) string {
	pts, dtmfLines := "111", ""
	if dtmf {
		pts, dtmfLines = "111 126", "a=rtpmap:126 telephone-event/8000\r\n"
	}
	return "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"a=group:BUNDLE " + mid + "\r\na=msid-semantic: WMS wabridge\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF " + pts + "\r\nc=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
		"a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n" +
		"a=candidate:2 1 udp 2130706175 192.0.2.10 9 typ host\r\n" +
		"a=ice-ufrag:Bq3mUWdXb0hCzTfE\r\na=ice-pwd:uZbqBvP0nSqGJk3k8B0gJ3mE\r\n" +
		"a=fingerprint:sha-256 9C:97:5C:4C:A9:BE:9E:2F:06:94:F5:BB:38:2C:A1:29:B5:69:B8:FA:94:10:56:1D:0B:5D:80:28:C1:FD:F0:F6\r\n" +
		"a=setup:actpass\r\na=mid:" + mid + "\r\na=sendrecv\r\na=rtcp-mux\r\n" +
		"a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=20;useinbandfec=1;maxaveragebitrate=24000\r\n" +
		dtmfLines + "a=ptime:20\r\na=ssrc:123456 cname:wabridge\r\n"
}

func lines(sdp string) []string { return strings.Split(strings.TrimSuffix(sdp, "\r\n"), "\r\n") }

func TestAnswererAnswerLooksLikeMetas(t *testing.T) {
	for _, c := range []struct {
		mid  string
		dtmf bool
	}{{"audio", true}, {"0", false}} {
		p, err := newPeer(true, "ignored")
		if err != nil {
			t.Fatal(err)
		}
		res := &Result{}
		answer, err := makeAnswer(&options{}, res, p.pc, bridgeOffer(c.mid, c.dtmf))
		_ = p.pc.Close()
		if err != nil {
			t.Fatalf("mid %q: %v", c.mid, err)
		}
		if strings.Count(answer, "\n") != strings.Count(answer, "\r\n") || !strings.HasSuffix(answer, "\r\n") {
			t.Errorf("mid %q: not CRLF:\n%q", c.mid, answer)
		}
		ls := lines(answer)
		count := func(pred func(string) bool) int {
			n := 0
			for _, l := range ls {
				if pred(l) {
					n++
				}
			}
			return n
		}
		firstM := 0
		for firstM < len(ls) && !strings.HasPrefix(ls[firstM], "m=") {
			firstM++
		}
		if !contains(ls[:firstM], "a=ice-lite") {
			t.Errorf("mid %q: no session-level a=ice-lite", c.mid)
		}
		if n := count(func(l string) bool { return strings.HasPrefix(l, "a=setup:") }); n != 1 || !contains(ls, "a=setup:active") {
			t.Errorf("mid %q: want exactly a=setup:active", c.mid)
		}
		if n := count(func(l string) bool { return strings.HasPrefix(l, "a=fingerprint:") }); n != 1 ||
			count(func(l string) bool { return strings.HasPrefix(l, "a=fingerprint:sha-256 ") }) != 1 {
			t.Errorf("mid %q: want exactly one a=fingerprint:sha-256", c.mid)
		}
		for _, want := range []string{"a=mid:" + c.mid, "a=group:BUNDLE " + c.mid, "a=rtcp-mux", "a=sendrecv",
			"a=rtpmap:111 opus/48000/2", "a=fmtp:111 " + opusFmtp, "a=ptime:20"} {
			if !contains(ls, want) {
				t.Errorf("mid %q: no %q in\n%s", c.mid, want, answer)
			}
		}
		if got := contains(ls, "a=rtpmap:126 telephone-event/8000"); got != c.dtmf {
			t.Errorf("mid %q: telephone-event in the answer %v, offered %v", c.mid, got, c.dtmf)
		}
		cands := count(func(l string) bool { return strings.HasPrefix(l, "a=candidate:") })
		if cands != 1 || len(res.AnswerCandidates) != 1 || !strings.Contains(res.AnswerCandidates[0], " udp ") ||
			!strings.Contains(res.AnswerCandidates[0], " 127.0.0.1 ") {
			t.Errorf("mid %q: want one UDP candidate on 127.0.0.1, have %d: %q", c.mid, cands, res.AnswerCandidates)
		}
		if contains(ls, "a=end-of-candidates") || contains(ls, "a=ice-options:trickle") {
			t.Errorf("mid %q: trickle leftovers in\n%s", c.mid, answer)
		}
		if len(res.OfferCandidatesDrop) != 1 || !strings.Contains(res.OfferCandidatesDrop[0], "192.0.2.10") {
			t.Errorf("mid %q: offer candidates dropped %q, want the 192.0.2.10 one", c.mid, res.OfferCandidatesDrop)
		}
		if res.AnswerSetup != "active" || res.DTLSRole != "client" || res.OfferSetup != "actpass" {
			t.Errorf("mid %q: answer_setup %q dtls_role %q offer_setup %q", c.mid, res.AnswerSetup, res.DTLSRole, res.OfferSetup)
		}
	}
}

func TestAnswererRefusesOffersMetaCannotAnswer(t *testing.T) {
	good := bridgeOffer("audio", true)
	if _, _, err := checkBridgeOffer(good); err != nil {
		t.Fatalf("good offer refused: %v", err)
	}
	for name, offer := range map[string]string{
		"lite":       strings.Replace(good, "t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n", 1),
		"active":     strings.Replace(good, "a=setup:actpass", "a=setup:active", 1),
		"opus on 96": strings.NewReplacer("111", "96").Replace(good),
		"no mid":     strings.Replace(good, "a=mid:audio\r\n", "", 1),
	} {
		if _, _, err := checkBridgeOffer(offer); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCallerOfferStillLooksLikeWhatsApps(t *testing.T) {
	p, err := newPeer(false, "audio")
	if err != nil {
		t.Fatal(err)
	}
	defer p.pc.Close()
	res := &Result{}
	offer, err := makeOffer(&options{mid: "audio"}, res, p.pc)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkOfferShape(offer, "audio", false); err != nil {
		t.Fatalf("%v in\n%s", err, offer)
	}
	if res.OfferSetup != "actpass" || len(res.OfferCandidates) != 1 {
		t.Fatalf("offer_setup %q, offer_candidates %q", res.OfferSetup, res.OfferCandidates)
	}
}

func TestSignalFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "answer.sdp")
	start := time.Now()
	if _, err := waitForFile(path, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("missing file: %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > time.Second {
		t.Fatalf("gave up after %s", d)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := waitForFile(path, 30*time.Millisecond); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: %v", err)
	}
	go func() {
		time.Sleep(40 * time.Millisecond)
		_ = writeFileAtomic(path, []byte("v=0\r\n"))
	}()
	got, err := waitForFile(path, 5*time.Second)
	if err != nil || got != "v=0\r\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

// pion_caller plays WhatsApp's side of a user-initiated call against wabridge's HTTP API.
//
// It behaves like Meta's relay: an ICE-lite agent (it never nominates, it waits for the bridge to
// do so), DTLS actpass, Opus on PT 111 with WhatsApp's exact fmtp, telephone-event/8000 on PT 126,
// rtcp-mux, BUNDLE with mid "audio", and one UDP4 host candidate, on 127.0.0.1 only.
//
//	pion_caller -url http://127.0.0.1:8080 -call-id ID -seconds 10 -out result.json [-token T]
//	            [-play in.ogg] [-record out.ogg] [-timeline t.json]
//	            [-loss 0.05 -delay 30ms -jitter 20ms -seed 1]
//
// It POSTs the offer to /sessions/{callId}/webrtc, applies the answer, measures ICE and DTLS
// connection times from the POST, then sends 20 ms RTP packets whose synthetic Opus payloads
// carry a per-run nonce and a packet counter, and counts how many come back in the bridge's own
// RTP stream (an echo bridge returns our payloads byte for byte). It also checks the returned
// stream: one SSRC, contiguous sequence numbers, timestamps advancing by 960. It writes a JSON
// result and exits 0 when the call was set up and the media exchange ran; it judges no
// thresholds. Finally it DELETEs the session.
//
// With -play the payloads are the packets of an Ogg Opus file instead (real speech, see
// opus_ogg.go); -record writes what comes back as an Ogg Opus file on the sender's RTP timeline;
// -timeline writes every packet's arrival and send time (timeline.go); -loss/-delay/-jitter
// impair what we send (impair.go). max_gap_ms reports the longest silence on the wire.
//
// Two other signalling modes (signal.go) share everything after the SDP exchange:
//
//	pion_caller -signal files -offer-out offer.sdp -answer-in answer.sdp ...
//	pion_caller -answerer -offer-in offer.sdp -answer-out answer.sdp ...
//
// -signal files writes the same offer to a file and waits for the answer in another (no HTTP):
// the test delivers the offer to the bridge in a WhatsApp connect webhook. -answerer plays Meta
// for a business-initiated call: it reads the bridge's offer from a file and writes an answer
// shaped like Meta's (ICE-lite, a=setup:active, so the bridge is the DTLS server).
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
)

// WhatsApp's Opus fmtp, verbatim from live offers (docs/whatsapp-calling.md §4).
const opusFmtp = "maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1"

const (
	opusPT         = 111
	dtmfPT         = 126
	samplesPer20ms = 960
	payloadLen     = 60
	// TOC byte: config 9 = SILK-only, wideband, 20 ms; s=0 (mono); c=0 (one frame).
	tocSilkWB20 = 9 << 3
)

var payloadMagic = [4]byte{'W', 'B', 'P', 'C'}

// Result is the JSON the test harness reads.
type Result struct {
	OK                    bool     `json:"ok"`
	ICEConnectedMs        *float64 `json:"ice_connected_ms"`
	DTLSConnectedMs       *float64 `json:"dtls_connected_ms"`
	ICERole               string   `json:"ice_role"`
	RemoteNominated       bool     `json:"remote_nominated"`
	SelectedPair          string   `json:"selected_pair,omitempty"`
	PacketsSent           int      `json:"packets_sent"`
	PacketsEchoed         int      `json:"packets_echoed"`
	EchoRatio             float64  `json:"echo_ratio"`
	PacketsReceived       int      `json:"packets_received"`
	NonEchoPackets        int      `json:"non_echo_packets"`
	EchoPayloadMismatch   int      `json:"echo_payload_mismatch"`
	MissingCounters       []uint32 `json:"missing_counters"` // the first 20 packet counters that did not come back
	FirstEchoMs           *float64 `json:"first_echo_ms"`
	EchoLatencyP50Ms      *float64 `json:"echo_latency_p50_ms"`
	EchoLatencyP95Ms      *float64 `json:"echo_latency_p95_ms"`
	ReturnedSSRCs         []uint32 `json:"returned_ssrcs"`
	ReturnedPayloadTypes  []int    `json:"returned_payload_types"`
	ReturnedSSRCConstant  bool     `json:"returned_ssrc_constant"`
	ReturnedSeqContiguous bool     `json:"returned_seq_contiguous"`
	ReturnedTsStep960     bool     `json:"returned_ts_step_960"`
	SeqGaps               int      `json:"seq_gaps"`
	SeqReorders           int      `json:"seq_reorders_or_duplicates"`
	TsBadSteps            int      `json:"ts_bad_steps"`
	PionICEState          string   `json:"pion_ice_state"`
	PionPCState           string   `json:"pion_pc_state"`
	Mid                   string   `json:"mid"`
	OfferMunging          []string `json:"offer_munging"`
	AnswerSetup           string   `json:"answer_setup,omitempty"`
	AnswerCandidates      []string `json:"answer_candidates"`
	AnswerCandidatesDrop  []string `json:"answer_candidates_dropped"`
	HTTPStatus            int      `json:"http_status"`
	DeleteStatus          int      `json:"delete_status"`
	Error                 string   `json:"error"`

	// Signalling (signal.go). mode: "http", "files" (-signal files) or "answerer" (-answerer).
	// offer_* and answer_* describe the offer and the answer whoever wrote them; *_dropped are
	// the candidates removed from the remote SDP before pion saw it.
	Mode                string   `json:"mode"`
	OfferSetup          string   `json:"offer_setup,omitempty"`
	OfferCandidates     []string `json:"offer_candidates"`
	OfferCandidatesDrop []string `json:"offer_candidates_dropped"`
	AnswerMunging       []string `json:"answer_munging"` // -answerer: every change made to pion's answer text
	AnswerMs            *float64 `json:"answer_ms"`      // offer sent/written -> answer in hand; -answerer: offer read -> answer written
	DTLSRole            string   `json:"dtls_role"`      // ours, from the negotiated a=setup: "server" or "client"

	// Receive timing, in ms since our side of DTLS came up (see timeline.go).
	RecvPackets     int      `json:"recv_packets"`
	FirstRecvMs     *float64 `json:"first_recv_ms"`
	MaxGapMs        *float64 `json:"max_gap_ms"`         // first arrival .. hang-up
	MaxGapSendingMs *float64 `json:"max_gap_sending_ms"` // first arrival .. our last send
	LastSendMs      *float64 `json:"last_send_ms"`
	HangupMs        *float64 `json:"hangup_ms"`
	// Impairment of what we send (-loss, -delay, -jitter, -seed).
	PacketsGenerated int           `json:"packets_generated"`
	PacketsDropped   int           `json:"packets_dropped"`
	PacketsReordered int           `json:"packets_reordered"`
	Impairment       *impairReport `json:"impairment,omitempty"`
	// -play and -record.
	PlayFile      string  `json:"play_file,omitempty"`
	PlayPackets   int     `json:"play_packets"`
	PlayPreSkip   int     `json:"play_pre_skip"`
	RecordFile    string  `json:"record_file,omitempty"`
	RecordPackets int     `json:"record_packets"`
	RecordFilled  int     `json:"record_filled"`
	RecordLate    int     `json:"record_late"`
	RecordSkipped int     `json:"record_skipped"`
	RecordFirstTS *uint32 `json:"record_first_ts"`
	// The bridge's RTCP as we received it (rtcp_watch.go), and whether we said BYE (-send-bye).
	RTCP    *rtcpReport `json:"rtcp"`
	SentBye bool        `json:"sent_bye"`
}

type impairReport struct {
	Loss     float64 `json:"loss"`
	DelayMs  float64 `json:"delay_ms"`
	JitterMs float64 `json:"jitter_ms"`
	Seed     int64   `json:"seed"`
}

type options struct {
	baseURL   string
	callID    string
	seconds   float64
	out       string
	token     string
	timeout   time.Duration
	grace     time.Duration
	delay     time.Duration
	mid       string
	rawOffer  bool
	offerOut  string
	answerOut string
	verbose   bool
	noDelete  bool
	sendBye   bool
	wrongFP   bool
	play      string
	record    string
	timeline  string
	impair    impairConfig
	// signal.go
	signal    string // "http" or "files"
	signalSet bool   // -signal was given explicitly
	answerIn  string
	offerIn   string
	answerer  bool
}

func main() {
	var o options
	flag.StringVar(&o.baseURL, "url", "http://127.0.0.1:8080", "bridge base URL (must be on 127.0.0.1)")
	flag.StringVar(&o.callID, "call-id", "", "WhatsApp call id (required)")
	flag.Float64Var(&o.seconds, "seconds", 10, "seconds of RTP to send once connected")
	flag.StringVar(&o.out, "out", "", "write the JSON result here (default stdout)")
	flag.StringVar(&o.token, "token", "", "bearer token for the bridge API")
	flag.DurationVar(&o.timeout, "connect-timeout", 15*time.Second, "how long ICE+DTLS may take")
	flag.DurationVar(&o.grace, "grace", 1500*time.Millisecond, "wait this long after the last packet for echoes")
	flag.DurationVar(&o.delay, "start-delay", 0, "wait this long after DTLS is up before the first RTP packet")
	flag.StringVar(&o.mid, "mid", "audio", "mid of the audio section (WhatsApp uses \"audio\")")
	flag.BoolVar(&o.rawOffer, "raw-offer", false, "send pion's offer unmodified (no WhatsApp-style munging)")
	flag.StringVar(&o.offerOut, "offer-out", "", "also write the offer SDP sent to this file (-signal files: the offer goes there, required)")
	flag.StringVar(&o.answerOut, "answer-out", "", "also write the answer SDP received to this file (-answerer: our answer goes there, required)")
	flag.StringVar(&o.signal, "signal", signalHTTP, "how the caller exchanges SDP: \"http\" (POST to the bridge) or \"files\" (-offer-out, then wait for -answer-in)")
	flag.StringVar(&o.answerIn, "answer-in", "", "-signal files: wait for the answer SDP in this file (polled every 10 ms for -connect-timeout)")
	flag.StringVar(&o.offerIn, "offer-in", "", "-answerer: wait for the bridge's offer SDP in this file (polled every 10 ms for -connect-timeout)")
	flag.BoolVar(&o.answerer, "answerer", false, "play Meta for a business-initiated call: answer -offer-in into -answer-out (ICE-lite, setup:active), no HTTP")
	flag.BoolVar(&o.verbose, "v", false, "log progress to stderr")
	flag.BoolVar(&o.noDelete, "no-delete", false, "do not DELETE the session at the end")
	flag.BoolVar(&o.sendBye, "send-bye", false, "after the grace period send an RTCP BYE and wait 700 ms before closing")
	flag.BoolVar(&o.wrongFP, "wrong-fingerprint", false, "advertise a sha-256 fingerprint that is not our certificate's (the bridge must refuse DTLS)")
	flag.StringVar(&o.play, "play", "", "send this Ogg Opus file's packets (20 ms each, one per page: opusenc --framesize 20 --max-delay 20) instead of synthetic payloads; stop at its end")
	flag.StringVar(&o.record, "record", "", "write the received Opus packets to this Ogg Opus file, on the sender's RTP timeline")
	flag.StringVar(&o.timeline, "timeline", "", "write per-packet arrival and send times (ms since DTLS up) to this JSON file")
	flag.Float64Var(&o.impair.loss, "loss", 0, "drop each packet we send with this probability (0..1)")
	flag.DurationVar(&o.impair.delay, "delay", 0, "send each packet this long after its slot")
	flag.DurationVar(&o.impair.jitter, "jitter", 0, "add a uniform delay in [-jitter, +jitter] to each packet (reorders when larger than 20ms)")
	flag.Int64Var(&o.impair.seed, "seed", 1, "seed of the impairment's random draws")
	ipv6 := flag.Bool("ipv6", false, "ICE on ::1 (UDP6) instead of 127.0.0.1; the API URL stays on 127.0.0.1")
	flag.Parse()
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "signal" {
			o.signalSet = true
		}
	})
	if *ipv6 {
		mediaIP = net.IPv6loopback
	}

	res := &Result{Mid: o.mid, OfferMunging: []string{}, ReturnedSSRCs: []uint32{}, ReturnedPayloadTypes: []int{},
		AnswerCandidates: []string{}, AnswerCandidatesDrop: []string{}, OfferCandidates: []string{},
		OfferCandidatesDrop: []string{}, AnswerMunging: []string{}}
	err := run(&o, res)
	if err != nil {
		res.Error = err.Error()
		res.OK = false
	} else {
		res.OK = true
	}
	if werr := writeResult(o.out, res); werr != nil {
		fmt.Fprintln(os.Stderr, "pion_caller: cannot write result:", werr)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pion_caller:", err)
		os.Exit(1)
	}
}

func writeResult(path string, res *Result) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	b := buf.Bytes()
	if path == "" {
		_, err := os.Stdout.Write(b)
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

var loopback4 = net.IPv4(127, 0, 0, 1)

// mediaIP is the one address ICE may use: 127.0.0.1, or ::1 with -ipv6.
var mediaIP = loopback4

// isMediaIP says whether a candidate address is mediaIP.
func isMediaIP(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && ip.Equal(mediaIP)
}

// checkLoopbackURL refuses any bridge URL that does not point at 127.0.0.1.
func checkLoopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad -url: %w", err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("bad -url %q: only http:// is supported", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip == nil || !ip.Equal(loopback4) {
		return nil, fmt.Errorf("bad -url %q: the host must be 127.0.0.1", raw)
	}
	return u, nil
}

func ms(d time.Duration) *float64 {
	v := float64(d.Microseconds()) / 1000.0
	return &v
}

type tracker struct {
	mu        sync.Mutex
	start     time.Time // the POST, the offer file written, or (-answerer) the offer file read
	iceAt     time.Duration
	dtlsAt    time.Duration
	iceOK     bool
	dtlsOK    bool
	nominated bool
	pair      string
	connected chan struct{}
	failed    chan string
	once      sync.Once
	failOnce  sync.Once
}

// begin marks the moment ICE and DTLS times are measured from.
func (t *tracker) begin() {
	t.mu.Lock()
	t.start = time.Now()
	t.mu.Unlock()
}

// peer is our side of the call: the same for the caller and the answerer.
type peer struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	tr    *webrtc.RTPTransceiver
}

// newPeer builds the peer connection with exactly WhatsApp's codecs and one sendrecv audio
// transceiver. The caller names its mid (-mid); the answerer's transceiver gets the offer's mid
// when the offer is applied, and it is the DTLS client (a=setup:active), as Meta is when it
// answers a business-initiated call (docs/whatsapp-calling.md §4.3).
func newPeer(answerer bool, mid string) (*peer, error) {
	// --- media engine: exactly WhatsApp's codecs ---------------------------------------------
	// The answerer registers Opus without fmtp: pion matches the offer's Opus exactly whatever
	// its fmtp says (with a differing maxaveragebitrate an fmtp'd codec would only match
	// "partially" and lose to telephone-event's exact match, leaving no Opus in the answer).
	// The answer text gets WhatsApp's fmtp anyway (shapeLikeMeta).
	fmtpLine := opusFmtp
	if answerer {
		fmtpLine = ""
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: fmtpLine,
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}},
		},
		PayloadType: opusPT,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register opus: %w", err)
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000},
		PayloadType:        dtmfPT,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register telephone-event: %w", err)
	}
	// RTCP sender/receiver reports, as WhatsApp sends them.
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, fmt.Errorf("rtcp reports: %w", err)
	}

	// --- setting engine: ICE-lite, UDP4 host candidate on 127.0.0.1 only -----------------------
	se := webrtc.SettingEngine{}
	se.SetLite(true)
	if mediaIP.To4() == nil {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP6})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(mediaIP) })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled) // no multicast packets at all
	se.SetSDPMediaLevelFingerprints(true)                   // a=fingerprint in the m= section, as Meta does
	if answerer {
		// pion 3.1.56 already answers active (defaultDtlsRoleAnswer is DTLSRoleClient) unless the
		// offer is ice-lite and we are not; say it explicitly so the role never depends on that.
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
			return nil, fmt.Errorf("answering DTLS role: %w", err)
		}
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(reg))

	pc, err := api.NewPeerConnection(webrtc.Configuration{}) // no STUN/TURN servers
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: opusFmtp,
	}, "WhatsAppTrack1", "WhatsAppAudioStream1") // pion uses the stream id as the cname
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("new track: %w", err)
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("add transceiver: %w", err)
	}
	if !answerer {
		if err := tr.SetMid(mid); err != nil {
			_ = pc.Close()
			return nil, fmt.Errorf("set mid: %w", err)
		}
	}
	return &peer{pc: pc, track: track, tr: tr}, nil
}

func run(o *options, res *Result) error {
	base, err := checkModeFlags(o, res)
	if err != nil {
		return err
	}
	if o.impair.loss < 0 || o.impair.loss > 1 || o.impair.delay < 0 || o.impair.jitter < 0 {
		return errors.New("-loss must be in 0..1, -delay and -jitter not negative")
	}
	if o.impair.active() {
		res.Impairment = &impairReport{Loss: o.impair.loss, DelayMs: float64(o.impair.delay.Microseconds()) / 1000,
			JitterMs: float64(o.impair.jitter.Microseconds()) / 1000, Seed: o.impair.seed}
	}
	var play *oggOpusFile
	if o.play != "" {
		if play, err = loadOggOpus(o.play); err != nil {
			return err
		}
		res.PlayFile, res.PlayPackets, res.PlayPreSkip = o.play, len(play.packets), play.preSkip
	}
	var rec *recorder
	var recMu sync.Mutex
	if o.record != "" {
		f, err := os.Create(o.record)
		if err != nil {
			return fmt.Errorf("-record: %w", err)
		}
		var serial [4]byte
		_, _ = rand.Read(serial[:])
		rec = newRecorder(f, binary.BigEndian.Uint32(serial[:]), 1)
		res.RecordFile = o.record
		defer func() {
			recMu.Lock()
			defer recMu.Unlock()
			if err := rec.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "pion_caller: -record:", err)
			}
			_ = f.Close()
			res.RecordPackets, res.RecordFilled, res.RecordLate, res.RecordSkipped = rec.Packets, rec.Filled, rec.Late, rec.Skipped
			if rec.started {
				ts0 := rec.firstTS
				res.RecordFirstTS = &ts0
			}
		}()
	}
	logf := func(format string, a ...interface{}) {
		if o.verbose {
			fmt.Fprintf(os.Stderr, "pion_caller: "+format+"\n", a...)
		}
	}

	p, err := newPeer(o.answerer, o.mid)
	if err != nil {
		return err
	}
	pc, track, tr := p.pc, p.track, p.tr
	defer pc.Close()
	sender := tr.Sender()
	watch := &rtcpWatch{}
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		watch.ourSSR = uint32(enc[0].SSRC)
	}
	defer func() { res.RTCP = watch.report() }()
	go func() { // read incoming RTCP (the interceptors run on the way) and watch it
		buf := make([]byte, 1500)
		for {
			n, _, err := sender.Read(buf)
			if err != nil {
				return
			}
			watch.observe(buf[:n], time.Now())
		}
	}()

	// --- state tracking -------------------------------------------------------------------------
	// pion 3.1.56 / ice 2.3.1 deliver each ICE state change in its own goroutine
	// (ice.Agent.startOnConnectionStateChangeRoutine: `go a.onConnectionStateChange(s)`), so when
	// the remote nominates within a millisecond of the start, "checking" can be delivered after
	// "connected": ICEConnectionState() then stays "checking" and the PeerConnectionState never
	// becomes "connected" although ICE, DTLS and SRTP all work. The timings and the go/no-go
	// therefore come from events that are delivered in order: the selected-pair change (a lite
	// controlled agent selects a pair only when the remote nominates it) and the DTLS transport
	// state. The aggregated states are only reported (pion_ice_state, pion_pc_state).
	tk := &tracker{connected: make(chan struct{}), failed: make(chan string, 1)}
	tm := &timing{}     // receive and send times, ms since DTLS up (timeline.go)
	markICE := func() { // caller holds tk.mu
		if !tk.iceOK && !tk.start.IsZero() {
			tk.iceOK = true
			tk.iceAt = time.Since(tk.start)
		}
	}
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		logf("ice state %s", s)
		tk.mu.Lock()
		defer tk.mu.Unlock()
		if s == webrtc.ICEConnectionStateConnected || s == webrtc.ICEConnectionStateCompleted {
			markICE()
		}
		if s == webrtc.ICEConnectionStateFailed {
			tk.failOnce.Do(func() { tk.failed <- "ICE failed" })
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		logf("peer connection state %s", s)
		if s == webrtc.PeerConnectionStateFailed {
			tk.failOnce.Do(func() { tk.failed <- "peer connection failed" })
		}
	})
	dtlsTransport := sender.Transport()
	iceTransport := dtlsTransport.ICETransport()
	iceTransport.OnSelectedCandidatePairChange(func(p *webrtc.ICECandidatePair) {
		logf("selected pair %s", p)
		tk.mu.Lock()
		defer tk.mu.Unlock()
		tk.nominated = true
		tk.pair = p.String()
		markICE()
	})
	dtlsTransport.OnStateChange(func(s webrtc.DTLSTransportState) {
		logf("dtls state %s", s)
		tk.mu.Lock()
		defer tk.mu.Unlock()
		switch s {
		case webrtc.DTLSTransportStateConnected:
			if !tk.dtlsOK && !tk.start.IsZero() {
				tk.dtlsOK = true
				tk.dtlsAt = time.Since(tk.start)
				tm.setT0(tk.start.Add(tk.dtlsAt)) // before any SRTP packet can be delivered
				tk.once.Do(func() { close(tk.connected) })
			}
		case webrtc.DTLSTransportStateFailed:
			tk.failOnce.Do(func() { tk.failed <- "DTLS handshake failed" })
		}
	})

	an := newAnalyzer()
	if play != nil {
		an.setPlay(play.packets)
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		logf("remote track ssrc=%d pt=%d codec=%s", t.SSRC(), t.PayloadType(), t.Codec().MimeType)
		for {
			p, _, err := t.ReadRTP()
			if err != nil {
				return
			}
			now := time.Now()
			tm.onReceive(now, p.SequenceNumber, p.Timestamp, len(p.Payload), p.PayloadType, p.SSRC)
			an.add(p, now)
			if rec != nil && p.PayloadType == opusPT {
				recMu.Lock()
				rec.Add(p.SSRC, p.Timestamp, p.Payload)
				recMu.Unlock()
			}
		}
	})

	// --- signalling (signal.go) ---------------------------------------------------------------
	if o.answerer {
		if err := answerFromFiles(o, res, pc, tk, logf); err != nil {
			return err
		}
	} else {
		offerSDP, err := makeOffer(o, res, pc)
		if err != nil {
			return err
		}
		var answerSDP string
		if o.signal == signalFiles {
			answerSDP, err = exchangeFiles(o, res, offerSDP, tk, logf)
		} else {
			var cleanup func() // the DELETE, at the very end of the call
			answerSDP, cleanup, err = postOffer(o, res, base, offerSDP, tk, logf)
			if cleanup != nil {
				defer cleanup()
			}
		}
		if err != nil {
			return err
		}
		if err := applyAnswer(o, res, pc, answerSDP, logf); err != nil {
			return err
		}
	}
	res.Mid = tr.Mid()

	// --- wait for ICE + DTLS --------------------------------------------------------------------
	var connectErr error
	select {
	case <-tk.connected:
	case why := <-tk.failed:
		connectErr = errors.New(why)
	case <-time.After(o.timeout):
		connectErr = fmt.Errorf("not connected after %s (ICE state %s, DTLS state %s, peer connection state %s)",
			o.timeout, pc.ICEConnectionState(), dtlsTransport.State(), pc.ConnectionState())
	}
	tk.mu.Lock()
	if tk.iceOK {
		res.ICEConnectedMs = ms(tk.iceAt)
	}
	if tk.dtlsOK {
		res.DTLSConnectedMs = ms(tk.dtlsAt)
	}
	res.RemoteNominated = tk.nominated
	res.SelectedPair = tk.pair
	tk.mu.Unlock()
	res.ICERole = iceTransport.Role().String()
	defer func() {
		res.PionICEState = pc.ICEConnectionState().String()
		res.PionPCState = pc.ConnectionState().String()
	}()
	if connectErr != nil {
		return connectErr
	}

	// --- media ----------------------------------------------------------------------------------
	// Like WhatsApp's relay (the DTLS server), we send as soon as our side of the handshake is
	// done, which can be before the client has processed our Finished; -start-delay waits.
	// (-answerer is the DTLS client: its side is done only when the server's Finished arrived.)
	time.Sleep(o.delay)
	var nonce [4]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	an.setNonce(nonce)
	total := int(o.seconds * 50)
	if play != nil && len(play.packets) < total {
		total = len(play.packets) // the file ends the media; -seconds still caps it
	}
	var seqBase [2]byte
	var tsBase [4]byte
	_, _ = rand.Read(seqBase[:])
	_, _ = rand.Read(tsBase[:])
	seq := binary.BigEndian.Uint16(seqBase[:])
	ts := binary.BigEndian.Uint32(tsBase[:])

	var plan *impairPlan
	var sched *delayScheduler
	if o.impair.active() {
		plan = newImpairPlan(o.impair)
		if o.impair.delay > 0 || o.impair.jitter > 0 {
			sched = newDelayScheduler()
		}
	}
	var sendMu sync.Mutex // sent and sendErr, also written by the scheduler goroutine
	var sendErr error
	sent, nDropped := 0, 0
	send := func(pkt *rtp.Packet, counter uint32, slot int) {
		now := time.Now()
		an.noteSent(counter, now)
		err := track.WriteRTP(pkt)
		tm.onSent(now, slot)
		sendMu.Lock()
		defer sendMu.Unlock()
		if err != nil {
			if sendErr == nil {
				sendErr = fmt.Errorf("write RTP: %w", err)
			}
			return
		}
		sent++
	}
	failed := func() bool {
		sendMu.Lock()
		defer sendMu.Unlock()
		select {
		case why := <-tk.failed:
			if sendErr == nil {
				sendErr = errors.New("during media: " + why)
			}
		default:
		}
		return sendErr != nil
	}

	mediaStart := time.Now()
	an.setMediaStart(mediaStart)
	generated := 0
	for i := 0; i < total; i++ {
		slotAt := mediaStart.Add(time.Duration(i) * 20 * time.Millisecond)
		if d := time.Until(slotAt); d > 0 {
			time.Sleep(d)
		}
		var payload []byte
		if play != nil {
			payload = play.packets[i]
		} else {
			payload = makePayload(nonce, uint32(i))
		}
		pkt := &rtp.Packet{
			Header: rtp.Header{
				Version: 2, Marker: i == 0, PayloadType: opusPT,
				SequenceNumber: seq, Timestamp: ts,
			},
			Payload: payload,
		}
		drop, after := false, time.Duration(0)
		if plan != nil {
			drop, after = plan.next()
		}
		slot := tm.onGenerate(slotAt, i, seq, ts, len(payload), drop)
		generated++
		switch {
		case drop:
			nDropped++
		case sched != nil:
			counter := uint32(i)
			sched.Schedule(slotAt.Add(after), i, func() { send(pkt, counter, slot) })
		default:
			send(pkt, uint32(i), slot)
		}
		seq++
		ts += samplesPer20ms
		if failed() {
			break
		}
	}
	if sched != nil {
		sched.Close() // every delayed packet has gone out
		res.PacketsReordered = sched.Reorders
	}
	res.PacketsGenerated, res.PacketsDropped = generated, nDropped
	sendMu.Lock()
	res.PacketsSent = sent
	err = sendErr
	sendMu.Unlock()
	if err == nil {
		time.Sleep(o.grace)
	}
	if err == nil && o.sendBye {
		// RFC 3550 §6.6: we leave; the bridge must end the call on it (reason rtcp_bye) before
		// our DTLS close_notify follows.
		bye := &rtcp.Goodbye{Sources: []uint32{watch.ourSSR}, Reason: "caller hung up"}
		if werr := pc.WriteRTCP([]rtcp.Packet{bye}); werr == nil {
			res.SentBye = true
			time.Sleep(700 * time.Millisecond)
		}
	}
	hangup := time.Now()
	an.fill(res, sent, generated)
	fillTiming(res, tm, hangup, play, rec, &recMu, o.timeline)
	return err
}

// fillTiming puts the receive timing in the result and writes the -timeline file.
func fillTiming(res *Result, tm *timing, hangup time.Time, play *oggOpusFile, rec *recorder, recMu *sync.Mutex, path string) {
	tm.mu.Lock()
	received := append([]recvEvent(nil), tm.received...)
	sentList := append([]sendEvent(nil), tm.sent...)
	hang := tm.rel(hangup)
	var lastSend *float64
	if !tm.lastSend.IsZero() {
		lastSend = round3(tm.rel(tm.lastSend))
	}
	tm.mu.Unlock()
	res.RecvPackets = len(received)
	res.HangupMs, res.LastSendMs = round3(hang), lastSend
	if len(received) > 0 {
		res.FirstRecvMs = round3(received[0].T)
	}
	if g, ok := maxGap(received, hang); ok {
		res.MaxGapMs = round3(g)
	}
	if lastSend != nil {
		if g, ok := maxGap(received, *lastSend); ok {
			res.MaxGapSendingMs = round3(g)
		}
	}
	if path == "" {
		return
	}
	tm.mu.Lock()
	t0Unix := float64(tm.t0.UnixNano()) / 1e9
	tm.mu.Unlock()
	tl := &Timeline{T0: "our side of DTLS connected", T0Unix: t0Unix, DTLSUpMs: res.DTLSConnectedMs,
		HangupMs: res.HangupMs, LastSendMs: lastSend, Received: received, Sent: sentList}
	if tl.Received == nil {
		tl.Received = []recvEvent{}
	}
	if tl.Sent == nil {
		tl.Sent = []sendEvent{}
	}
	if play != nil {
		p := play.preSkip
		tl.PlayPreSkip = &p
	}
	if rec != nil {
		recMu.Lock()
		if rec.started {
			ts0 := rec.firstTS
			tl.RecordTS0 = &ts0
		}
		recMu.Unlock()
	}
	if err := writeTimeline(path, tl); err != nil {
		fmt.Fprintln(os.Stderr, "pion_caller: -timeline:", err)
	}
}

// makePayload builds a 60-byte Opus-shaped frame: TOC, magic, nonce, counter, filler.
func makePayload(nonce [4]byte, counter uint32) []byte {
	p := make([]byte, payloadLen)
	p[0] = tocSilkWB20
	copy(p[1:5], payloadMagic[:])
	copy(p[5:9], nonce[:])
	binary.BigEndian.PutUint32(p[9:13], counter)
	for i := 13; i < payloadLen; i++ {
		p[i] = byte(uint32(i)*37 + counter*11 + 5)
	}
	return p
}

// --- returned-stream analysis ---------------------------------------------------------------

type analyzer struct {
	mu         sync.Mutex
	nonce      [4]byte
	haveNonce  bool
	mediaStart time.Time
	sentAt     map[uint32]time.Time
	echoed     map[uint32]bool
	latencies  []float64
	firstEcho  time.Duration
	gotEcho    bool
	received   int
	nonEcho    int
	mismatch   int
	ssrcs      []uint32
	pts        []uint8
	havePrev   bool
	prevSSRC   uint32
	prevSeq    uint16
	prevTS     uint32
	seqGaps    int
	seqReorder int
	tsBad      int
	pairs      int
	// -play: payload -> the counters of the packets that carry it (silence frames repeat).
	play map[string][]uint32
}

func newAnalyzer() *analyzer {
	return &analyzer{sentAt: map[uint32]time.Time{}, echoed: map[uint32]bool{}}
}

func (a *analyzer) setNonce(n [4]byte) {
	a.mu.Lock()
	a.nonce, a.haveNonce = n, true
	a.mu.Unlock()
}

// setPlay switches echo recognition from the synthetic payloads to the file's packets: a
// received payload equal to one of them is the echo of the first such packet not yet echoed.
func (a *analyzer) setPlay(packets [][]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.play = map[string][]uint32{}
	for i, p := range packets {
		a.play[string(p)] = append(a.play[string(p)], uint32(i))
	}
}

func (a *analyzer) setMediaStart(t time.Time) {
	a.mu.Lock()
	a.mediaStart = t
	a.mu.Unlock()
}

func (a *analyzer) noteSent(counter uint32, t time.Time) {
	a.mu.Lock()
	a.sentAt[counter] = t
	a.mu.Unlock()
}

func (a *analyzer) add(p *rtp.Packet, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.received++
	if !contains(a.ssrcs, p.SSRC) {
		a.ssrcs = append(a.ssrcs, p.SSRC)
	}
	if !contains(a.pts, p.PayloadType) {
		a.pts = append(a.pts, p.PayloadType)
	}

	// Sequence and timestamp continuity of the audio stream (PT 111) per SSRC.
	if p.PayloadType == opusPT {
		advance := true
		if a.havePrev && a.prevSSRC == p.SSRC {
			a.pairs++
			d := p.SequenceNumber - a.prevSeq
			switch {
			case d == 1:
				if p.Timestamp-a.prevTS != samplesPer20ms {
					a.tsBad++
				}
			case d == 0 || d >= 0x8000:
				a.seqReorder++
				advance = false // keep the newest in-order packet as the reference
			default:
				a.seqGaps++
				if p.Timestamp-a.prevTS != uint32(d)*samplesPer20ms {
					a.tsBad++
				}
			}
		}
		if advance {
			a.havePrev, a.prevSSRC, a.prevSeq, a.prevTS = true, p.SSRC, p.SequenceNumber, p.Timestamp
		}
	}
	// Is it one of ours?
	pl := p.Payload
	if a.play != nil {
		for _, c := range a.play[string(pl)] {
			if sentAt, ok := a.sentAt[c]; ok && !a.echoed[c] {
				a.noteEcho(c, sentAt, now)
				return
			}
		}
		a.nonEcho++
		return
	}
	if !a.haveNonce || len(pl) < 13 || pl[0] != tocSilkWB20 || !bytes.Equal(pl[1:5], payloadMagic[:]) ||
		!bytes.Equal(pl[5:9], a.nonce[:]) {
		a.nonEcho++
		return
	}
	counter := binary.BigEndian.Uint32(pl[9:13])
	sentAt, ok := a.sentAt[counter]
	if !ok || !bytes.Equal(pl, makePayload(a.nonce, counter)) {
		a.mismatch++
		return
	}
	if a.echoed[counter] {
		return // duplicate
	}
	a.noteEcho(counter, sentAt, now)
}

func (a *analyzer) noteEcho(counter uint32, sentAt, now time.Time) {
	a.echoed[counter] = true
	a.latencies = append(a.latencies, float64(now.Sub(sentAt).Microseconds())/1000.0)
	if !a.gotEcho {
		a.gotEcho = true
		a.firstEcho = now.Sub(a.mediaStart)
	}
}

// fill reports the echo counts: echo_ratio over the packets sent, missing_counters over every
// packet generated (so packets dropped by -loss are listed too).
func (a *analyzer) fill(res *Result, sent, generated int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res.PacketsReceived = a.received
	res.PacketsEchoed = len(a.echoed)
	if sent > 0 {
		res.EchoRatio = float64(len(a.echoed)) / float64(sent)
	}
	res.NonEchoPackets = a.nonEcho
	res.MissingCounters = []uint32{}
	for c := uint32(0); c < uint32(generated) && len(res.MissingCounters) < 20; c++ {
		if !a.echoed[c] {
			res.MissingCounters = append(res.MissingCounters, c)
		}
	}
	res.EchoPayloadMismatch = a.mismatch
	if a.gotEcho {
		res.FirstEchoMs = ms(a.firstEcho)
	}
	if len(a.latencies) > 0 {
		l := append([]float64(nil), a.latencies...)
		sort.Float64s(l)
		p50 := l[len(l)/2]
		p95 := l[(len(l)*95)/100]
		if idx := (len(l) * 95) / 100; idx >= len(l) {
			p95 = l[len(l)-1]
		}
		res.EchoLatencyP50Ms, res.EchoLatencyP95Ms = round3(p50), round3(p95)
	}
	res.ReturnedSSRCs = append([]uint32{}, a.ssrcs...)
	for _, pt := range a.pts {
		res.ReturnedPayloadTypes = append(res.ReturnedPayloadTypes, int(pt))
	}
	res.SeqGaps, res.SeqReorders, res.TsBadSteps = a.seqGaps, a.seqReorder, a.tsBad
	audio := a.received > 1 && a.pairs > 0
	res.ReturnedSSRCConstant = a.received > 0 && len(a.ssrcs) == 1
	res.ReturnedSeqContiguous = audio && res.ReturnedSSRCConstant && a.seqGaps == 0 && a.seqReorder == 0
	res.ReturnedTsStep960 = audio && res.ReturnedSSRCConstant && a.tsBad == 0
}

func round3(v float64) *float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 3, 64), 64)
	return &r
}

// contains says whether v is in s.
func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func deleteSession(client *http.Client, u, token string) int {
	req, _ := http.NewRequest(http.MethodDelete, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// --- SDP shaping ----------------------------------------------------------------------------

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimRight(s, "\n")
	return strings.Split(s, "\n")
}

// attrValues lists the values of every a=NAME: line, at any level.
func attrValues(sdp, name string) []string {
	vals := []string{}
	for _, l := range splitLines(sdp) {
		if strings.HasPrefix(l, "a="+name+":") {
			vals = append(vals, strings.TrimPrefix(l, "a="+name+":"))
		}
	}
	return vals
}

func sdpAttr(sdp, name string) string {
	for _, l := range splitLines(sdp) {
		if strings.HasPrefix(l, "a="+name+":") {
			return strings.TrimPrefix(l, "a="+name+":")
		}
	}
	return ""
}

// shapeLikeMeta makes pion's offer (or, with -answerer, its answer) look like WhatsApp's
// (docs/whatsapp-calling.md §4.1) without touching anything pion relies on (ICE credentials,
// fingerprint, SSRC, codecs):
//   - m= port and c= address are the host candidate's, as in Meta's offers;
//   - no a=ice-options:trickle and no a=end-of-candidates (Meta sends neither);
//   - a=ptime:20 and a=maxptime:20 are added;
//   - a=rtcp:9 IN IP4 0.0.0.0 is added if missing;
//   - the Opus fmtp is WhatsApp's (an answer carries the offer's fmtp otherwise);
//   - session-level a=ice-lite is guaranteed; CRLF line endings.
func shapeLikeMeta(sdp string) (string, []string, error) {
	lines := splitLines(sdp)
	var notes []string
	candIP, candPort := "", ""
	for _, l := range lines {
		if strings.HasPrefix(l, "a=candidate:") {
			f := strings.Fields(strings.TrimPrefix(l, "a=candidate:"))
			if len(f) >= 8 && f[1] == "1" && strings.EqualFold(f[2], "udp") && f[7] == "host" {
				if candIP != "" {
					return "", nil, fmt.Errorf("more than one host candidate in pion's SDP")
				}
				candIP, candPort = f[4], f[5]
			}
		}
	}
	if candIP == "" {
		return "", nil, fmt.Errorf("no UDP host candidate was gathered on %s", mediaIP)
	}
	if !isMediaIP(candIP) {
		return "", nil, fmt.Errorf("gathered candidate %s is not %s", candIP, mediaIP)
	}

	var out []string
	inMedia := false
	haveLite, havePtime, haveMaxptime, haveRTCP := false, false, false, false
	sessionEnd := -1
	for _, l := range lines {
		if t := strings.TrimRight(l, " \t"); t != l {
			notes = append(notes, fmt.Sprintf("trimmed trailing space of %q", t))
			l = t
		}
		switch {
		case strings.HasPrefix(l, "m="):
			if !inMedia {
				sessionEnd = len(out)
			}
			inMedia = true
			f := strings.Fields(l)
			if len(f) >= 4 && f[1] != candPort {
				notes = append(notes, fmt.Sprintf("m= port %s -> %s (candidate port)", f[1], candPort))
				f[1] = candPort
				l = strings.Join(f, " ")
			}
		case strings.HasPrefix(l, "c=") && inMedia:
			family := "IP4"
			if mediaIP.To4() == nil {
				family = "IP6"
			}
			want := "c=IN " + family + " " + candIP
			if l != want {
				notes = append(notes, fmt.Sprintf("%q -> %q", l, want))
				l = want
			}
		case strings.HasPrefix(l, "a=candidate:") && len(strings.Fields(l)) > 1 && strings.Fields(l)[1] != "1":
			notes = append(notes, "removed the component-2 candidate (rtcp-mux only, as Meta)")
			continue
		case l == "a=extmap-allow-mixed" || l == "a=rtcp-rsize":
			notes = append(notes, "removed "+l)
			continue
		case strings.HasPrefix(l, "a=ssrc:") && len(strings.Fields(l)) > 1 && !strings.HasPrefix(strings.Fields(l)[1], "cname:"):
			notes = append(notes, "removed "+strings.Fields(l)[1][:strings.Index(strings.Fields(l)[1], ":")+1]+" ssrc attribute")
			continue
		case l == "a=ice-options:trickle":
			notes = append(notes, "removed a=ice-options:trickle")
			continue
		case l == "a=end-of-candidates":
			notes = append(notes, "removed a=end-of-candidates")
			continue
		case l == "a=ice-lite":
			haveLite = true
		case strings.HasPrefix(l, "a=ptime:"):
			havePtime = true
		case strings.HasPrefix(l, "a=maxptime:"):
			haveMaxptime = true
		case strings.HasPrefix(l, "a=rtcp:"):
			haveRTCP = true
		case strings.HasPrefix(l, fmt.Sprintf("a=fmtp:%d ", opusPT)) && l != fmt.Sprintf("a=fmtp:%d %s", opusPT, opusFmtp):
			want := fmt.Sprintf("a=fmtp:%d %s", opusPT, opusFmtp)
			notes = append(notes, fmt.Sprintf("%q -> %q", l, want))
			l = want
		}
		out = append(out, l)
	}
	if sessionEnd < 0 {
		return "", nil, errors.New("pion's SDP has no m= section")
	}
	var extra []string
	if !haveRTCP {
		extra = append(extra, "a=rtcp:9 IN IP4 0.0.0.0")
		notes = append(notes, "added a=rtcp:9 IN IP4 0.0.0.0")
	}
	if !haveMaxptime {
		extra = append(extra, "a=maxptime:20")
		notes = append(notes, "added a=maxptime:20")
	}
	if !havePtime {
		extra = append(extra, "a=ptime:20")
		notes = append(notes, "added a=ptime:20")
	}
	// Insert the extra media attributes just before the first a=ssrc line (Meta's order), or at the end.
	insertAt := len(out)
	for i, l := range out {
		if strings.HasPrefix(l, "a=ssrc:") {
			insertAt = i
			break
		}
	}
	out = append(out[:insertAt], append(extra, out[insertAt:]...)...)
	if !haveLite {
		out = append(out[:sessionEnd], append([]string{"a=ice-lite"}, out[sessionEnd:]...)...)
		notes = append(notes, "added session-level a=ice-lite")
	}
	return strings.Join(out, "\r\n") + "\r\n", notes, nil
}

// loopbackCandidatesOnly removes every answer candidate that is not UDP on mediaIP, so that
// no packet can leave loopback whatever the answer says.
func loopbackCandidatesOnly(sdp string) (string, []string, []string) {
	kept, dropped := []string{}, []string{}
	var out []string
	for _, l := range splitLines(sdp) {
		if strings.HasPrefix(l, "a=candidate:") {
			f := strings.Fields(strings.TrimPrefix(l, "a=candidate:"))
			if len(f) < 8 || !strings.EqualFold(f[2], "udp") || !isMediaIP(f[4]) {
				dropped = append(dropped, l)
				continue
			}
			kept = append(kept, l)
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n") + "\r\n", kept, dropped
}

// checkOfferShape verifies the properties the tests rely on, whatever munging did.
func checkOfferShape(sdp, mid string, raw bool) error {
	return checkShape(sdp, mid, "actpass", true, raw)
}

// checkShape verifies that our SDP (offer, or -answerer's answer) has Meta's shape: session-level
// ice-lite, the given a=setup, mid and BUNDLE, rtcp-mux, sendrecv, Opus on PT 111 with WhatsApp's
// fmtp, telephone-event/8000 on PT 126 (when dtmf), exactly one sha-256 fingerprint, CRLF line
// endings and exactly one candidate, on mediaIP. With raw only the candidates are checked.
func checkShape(sdp, mid, setup string, dtmf, raw bool) error {
	lines := splitLines(sdp)
	has := func(want string) bool {
		for _, l := range lines {
			if l == want {
				return true
			}
		}
		return false
	}
	firstM := len(lines)
	for i, l := range lines {
		if strings.HasPrefix(l, "m=") {
			firstM = i
			break
		}
	}
	lite := false
	for _, l := range lines[:firstM] {
		if l == "a=ice-lite" {
			lite = true
		}
	}
	var missing []string
	if raw {
		goto candidates
	}
	if !lite {
		missing = append(missing, "session-level a=ice-lite")
	}
	for _, want := range []string{
		"a=setup:" + setup, "a=mid:" + mid, "a=group:BUNDLE " + mid, "a=rtcp-mux", "a=sendrecv",
		"a=rtpmap:111 opus/48000/2", "a=fmtp:111 " + opusFmtp, "a=rtpmap:126 telephone-event/8000",
	} {
		if want == "a=rtpmap:126 telephone-event/8000" && !dtmf {
			continue
		}
		if !has(want) {
			missing = append(missing, want)
		}
	}
	if fps := attrValues(sdp, "fingerprint"); len(fps) != 1 || !strings.HasPrefix(strings.ToLower(fps[0]), "sha-256 ") {
		missing = append(missing, fmt.Sprintf("exactly one a=fingerprint:sha-256 (have %q)", fps))
	}
	if !strings.HasSuffix(sdp, "\r\n") || strings.Count(sdp, "\n") != strings.Count(sdp, "\r\n") {
		missing = append(missing, "CRLF line endings")
	}
candidates:
	cands := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "a=candidate:") {
			cands++
			f := strings.Fields(l)
			if len(f) < 8 || !isMediaIP(f[4]) {
				return fmt.Errorf("candidate not on %s: %s", mediaIP, l)
			}
		}
	}
	if cands != 1 && !raw {
		missing = append(missing, fmt.Sprintf("exactly one candidate (have %d)", cands))
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

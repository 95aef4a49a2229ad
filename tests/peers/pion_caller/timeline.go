// Receive timing (max_gap_ms) and the per-packet timeline (written with -timeline FILE.json).
//
// All times are milliseconds since our side of DTLS came up (the moment media may flow), so the
// harness can line up what we sent with what came back: each received packet's arrival, RTP
// sequence number, timestamp and payload size, and for each packet we generated, when it was
// generated, when it was actually sent (later with -delay/-jitter) or that it was dropped.
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"sync"
	"time"
)

type recvEvent struct {
	T    float64 `json:"t"`
	Seq  uint16  `json:"seq"`
	TS   uint32  `json:"ts"`
	Size int     `json:"size"`
	PT   uint8   `json:"pt"`
	SSRC uint32  `json:"ssrc"`
}

type sendEvent struct {
	Index   int      `json:"i"`
	Seq     uint16   `json:"seq"`
	TS      uint32   `json:"ts"`
	Size    int      `json:"size"`
	Gen     float64  `json:"gen"`  // when the packet was generated (its 20 ms slot)
	Sent    *float64 `json:"sent"` // when it was handed to the network; null when dropped
	Dropped bool     `json:"dropped"`
}

// Timeline is the -timeline file.
type Timeline struct {
	T0          string      `json:"t0"`
	T0Unix      float64     `json:"t0_unix"`           // t0 as Unix seconds, to line up other processes' logs
	DTLSUpMs    *float64    `json:"dtls_connected_ms"` // t0, measured from the POST (-signal files: offer written; -answerer: offer read)
	HangupMs    *float64    `json:"hangup_ms"`
	LastSendMs  *float64    `json:"last_send_ms"`
	RecordTS0   *uint32     `json:"record_first_ts"` // RTP timestamp of sample 0 of the recording
	PlayPreSkip *int        `json:"play_pre_skip"`   // pre-skip of the -play file (its decoder delay)
	Received    []recvEvent `json:"received"`
	Sent        []sendEvent `json:"sent"`
}

// timing collects arrivals and sends; safe for the receive, send and scheduler goroutines.
type timing struct {
	mu       sync.Mutex
	t0       time.Time
	received []recvEvent
	sent     []sendEvent
	lastSend time.Time
}

func (t *timing) setT0(at time.Time) {
	t.mu.Lock()
	t.t0 = at
	t.mu.Unlock()
}

// rel is `at` in ms since t0 (caller holds mu).
func (t *timing) rel(at time.Time) float64 {
	return float64(at.Sub(t.t0).Microseconds()) / 1000.0
}

func (t *timing) onReceive(at time.Time, seq uint16, ts uint32, size int, pt uint8, ssrc uint32) {
	t.mu.Lock()
	t.received = append(t.received, recvEvent{T: t.rel(at), Seq: seq, TS: ts, Size: size, PT: pt, SSRC: ssrc})
	t.mu.Unlock()
}

// onGenerate records a packet at its 20 ms slot and returns its place in the sent list.
func (t *timing) onGenerate(at time.Time, index int, seq uint16, ts uint32, size int, dropped bool) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent = append(t.sent, sendEvent{Index: index, Seq: seq, TS: ts, Size: size, Gen: t.rel(at), Dropped: dropped})
	return len(t.sent) - 1
}

func (t *timing) onSent(at time.Time, slot int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at.After(t.lastSend) {
		t.lastSend = at
	}
	v := t.rel(at)
	t.sent[slot].Sent = &v
}

// maxGap is the longest stretch without an arrival between the first arrival and `until` (ms
// since t0): the largest interval between consecutive arrivals, or between the last arrival
// before `until` and `until`. ok is false when nothing arrived before `until`.
func maxGap(received []recvEvent, until float64) (gap float64, ok bool) {
	for i, e := range received {
		if e.T > until {
			break
		}
		end := until
		if i+1 < len(received) && received[i+1].T < until {
			end = received[i+1].T
		}
		if end-e.T > gap {
			gap = end - e.T
		}
		ok = true
	}
	return gap, ok
}

func writeTimeline(path string, tl *Timeline) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tl); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

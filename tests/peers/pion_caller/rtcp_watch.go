package main

// What the caller learns from the bridge's RTCP (RFC 3550 §6.4): how many sender and receiver
// reports and SDES CNAMEs arrived, and what the bridge reports about our stream (loss, jitter,
// and the round trip computed from LSR/DLSR, §6.4.1). pion's interceptors handle our own
// reports; this only watches what comes in.

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
)

type rtcpReport struct {
	SenderReports   int      `json:"sender_reports"`
	ReceiverReports int      `json:"receiver_reports"`
	CNAMEs          []string `json:"cnames"`
	Byes            int      `json:"byes"`
	BlocksAboutUs   int      `json:"blocks_about_us"`
	MaxFractionLost uint8    `json:"max_fraction_lost"`
	MaxJitter       uint32   `json:"max_jitter"` // RTP timestamp units (48 kHz)
	LastCumLost     uint32   `json:"last_cumulative_lost"`
	RTTMs           *float64 `json:"rtt_ms"` // the last one computable (LSR != 0)
	SRPacketCount   uint32   `json:"sr_packet_count"`
	Malformed       int      `json:"malformed"`
}

type rtcpWatch struct {
	mu     sync.Mutex
	ourSSR uint32
	r      rtcpReport
}

// ntpMiddle32 is the middle 32 bits of the NTP timestamp of t (RFC 3550 §4, §6.4.1).
func ntpMiddle32(t time.Time) uint32 {
	const ntpEpochOffset = 2208988800 // 1900 → 1970
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return uint32((secs<<32 | frac) >> 16)
}

func (w *rtcpWatch) observe(buf []byte, at time.Time) {
	pkts, err := rtcp.Unmarshal(buf)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.r.Malformed++
		return
	}
	blocks := func(reports []rtcp.ReceptionReport) {
		for _, b := range reports {
			if b.SSRC != w.ourSSR {
				continue
			}
			w.r.BlocksAboutUs++
			if b.FractionLost > w.r.MaxFractionLost {
				w.r.MaxFractionLost = b.FractionLost
			}
			if b.Jitter > w.r.MaxJitter {
				w.r.MaxJitter = b.Jitter
			}
			w.r.LastCumLost = b.TotalLost
			if b.LastSenderReport != 0 {
				rtt := ntpMiddle32(at) - b.LastSenderReport - b.Delay
				ms := float64(rtt) / 65536 * 1000
				w.r.RTTMs = &ms
			}
		}
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			w.r.SenderReports++
			w.r.SRPacketCount = p.PacketCount
			blocks(p.Reports)
		case *rtcp.ReceiverReport:
			w.r.ReceiverReports++
			blocks(p.Reports)
		case *rtcp.SourceDescription:
			for _, c := range p.Chunks {
				for _, it := range c.Items {
					if it.Type == rtcp.SDESCNAME && !contains(w.r.CNAMEs, it.Text) {
						w.r.CNAMEs = append(w.r.CNAMEs, it.Text)
					}
				}
			}
		case *rtcp.Goodbye:
			w.r.Byes++
		}
	}
}

func (w *rtcpWatch) report() *rtcpReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.r
	r.CNAMEs = append([]string{}, w.r.CNAMEs...)
	return &r
}

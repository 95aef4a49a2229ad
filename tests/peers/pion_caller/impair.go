// Userspace impairment of the packets we send (this machine's kernel has no netem).
//
// Each packet is dropped with probability `loss`; each surviving packet is sent `delay` plus a
// uniform draw in [-jitter, +jitter] after it was generated (never before), so with jitter
// larger than the packet interval packets overtake each other (reordering). The draws come from
// a seeded generator: the same -seed drops and delays the same packets every run.
package main

import (
	"container/heap"
	"math/rand"
	"sync"
	"time"
)

type impairConfig struct {
	loss   float64
	delay  time.Duration
	jitter time.Duration
	seed   int64
}

func (c impairConfig) active() bool { return c.loss > 0 || c.delay > 0 || c.jitter > 0 }

// impairPlan decides, from the seeded generator, the fate of each packet in generation order.
type impairPlan struct {
	cfg impairConfig
	rng *rand.Rand
}

func newImpairPlan(cfg impairConfig) *impairPlan {
	return &impairPlan{cfg: cfg, rng: rand.New(rand.NewSource(cfg.seed))}
}

// next returns whether the next packet is dropped and, if not, how long after its generation it
// is sent. Two draws per packet, whatever the outcome, so one packet's fate does not shift the
// others'.
func (p *impairPlan) next() (drop bool, after time.Duration) {
	u := p.rng.Float64()
	v := p.rng.Float64()
	if u < p.cfg.loss {
		return true, 0
	}
	after = p.cfg.delay + time.Duration((2*v-1)*float64(p.cfg.jitter))
	if after < 0 {
		after = 0
	}
	return false, after
}

// delayedItem is one packet waiting in the scheduler.
type delayedItem struct {
	at    time.Time
	index int
	send  func()
}

type delayQueue []delayedItem

func (q delayQueue) Len() int { return len(q) }
func (q delayQueue) Less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].index < q[j].index
	}
	return q[i].at.Before(q[j].at)
}
func (q delayQueue) Swap(i, j int)       { q[i], q[j] = q[j], q[i] }
func (q *delayQueue) Push(x interface{}) { *q = append(*q, x.(delayedItem)) }
func (q *delayQueue) Pop() interface{} {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// delayScheduler runs send callbacks at their due times, in due-time order, on one goroutine.
type delayScheduler struct {
	mu       sync.Mutex
	q        delayQueue
	wake     chan struct{}
	closed   bool
	done     chan struct{}
	maxIndex int // highest index sent so far
	Reorders int // packets sent after one generated later
}

func newDelayScheduler() *delayScheduler {
	s := &delayScheduler{wake: make(chan struct{}, 1), done: make(chan struct{}), maxIndex: -1}
	go s.loop()
	return s
}

func (s *delayScheduler) Schedule(at time.Time, index int, send func()) {
	s.mu.Lock()
	heap.Push(&s.q, delayedItem{at: at, index: index, send: send})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close waits until every scheduled packet has been sent.
func (s *delayScheduler) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.done
}

func (s *delayScheduler) loop() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.q) == 0 {
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			<-s.wake
			continue
		}
		first := s.q[0]
		wait := time.Until(first.at)
		if wait <= 0 {
			heap.Pop(&s.q)
			if first.index < s.maxIndex {
				s.Reorders++
			} else {
				s.maxIndex = first.index
			}
			s.mu.Unlock()
			first.send()
			continue
		}
		s.mu.Unlock()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
		}
	}
}

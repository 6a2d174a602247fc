package server

import (
	"math"
	"sync"
	"time"
)

// limiter holds one token bucket per key (a client address or a partner).
type limiter struct {
	rate, burst float64 // tokens a second, most saved; rate < 0: no limit
	mu          sync.Mutex
	buckets     map[string]*bucket
	swept       time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(r Rate) *limiter {
	return &limiter{rate: r.PerSecond, burst: float64(r.Burst), buckets: map[string]*bucket{}}
}

// allow takes a token for key; when there is none it says how long until
// there is one.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.rate < 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		// Forget buckets that have filled up again: they are as good as new.
		for k, b := range l.buckets {
			if now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if l.rate == 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

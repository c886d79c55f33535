// Package cloudtrail serves the AWS CloudTrail API (JSON 1.1, API version
// 2013-11-01, signing name "cloudtrail"). For now it answers LookupEvents
// over the event history that internal/audit records; trails (CreateTrail,
// delivery status, ListPublicKeys...) are added here later, one file per
// operation group. It declares its operations in the catalog and reads
// events only through internal/audit.
package cloudtrail

import (
	"net/http"
	"sync"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
)

// TargetPrefix is CloudTrail's X-Amz-Target prefix.
const TargetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"

// Config configures the service. The zero value of each field is its
// documented default.
type Config struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// LookupRate limits LookupEvents per account and region, in requests
	// per second (AWS: 2). Default 0: unlimited.
	LookupRate float64
	// LookupBurst is the limiter's bucket size. Default max(1, LookupRate).
	LookupBurst int
	// Retention bounds the default lookup window (events older are
	// purged anyway). Default 0: no bound.
	Retention time.Duration
}

// Service is the CloudTrail service.
type Service struct {
	cfg     Config
	limiter *limiter
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg}
	if cfg.LookupRate > 0 {
		burst := cfg.LookupBurst
		if burst <= 0 {
			burst = max(1, int(cfg.LookupRate))
		}
		s.limiter = &limiter{rate: cfg.LookupRate, burst: float64(burst), buckets: map[string]*bucket{}}
	}
	return s
}

// Catalog declares CloudTrail's operations.
func (s *Service) Catalog() *catalog.Service {
	return catalog.NewService(&catalog.Service{
		Name:             "cloudtrail",
		SigningName:      "cloudtrail",
		EventSource:      "cloudtrail.amazonaws.com",
		Protocol:         catalog.JSON,
		TargetPrefix:     TargetPrefix,
		AccessDeniedCode: "AccessDeniedException",
		Ops: []*catalog.Operation{
			catalog.Define(catalog.Operation{Name: "LookupEvents", Action: "cloudtrail:LookupEvents", ReadOnly: true, Audited: true}, s.lookupEvents),
		},
	})
}

func clientError(code, format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, code, format, args...)
}

// limiter is a token bucket per key.
type limiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 100_000 {
			clear(l.buckets)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

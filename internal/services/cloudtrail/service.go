// Package cloudtrail serves the AWS CloudTrail API (JSON 1.1, API version
// 2013-11-01, signing name "cloudtrail"): LookupEvents over the event
// history that internal/audit records, and the Trails API (CreateTrail,
// UpdateTrail, DeleteTrail, GetTrail, DescribeTrails, ListTrails,
// GetTrailStatus, Start/StopLogging, Put/GetEventSelectors, tags,
// ListPublicKeys), one file per operation group. It declares its
// operations in the catalog, reads events only through internal/audit and
// keeps trails only through internal/trail; the delivery worker
// (internal/trail/delivery) does the delivering.
package cloudtrail

import (
	"context"
	"net/http"
	"sync"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/policy"
	"lextrail/internal/store"
	"lextrail/internal/trail/digest"
)

// Buckets is what CreateTrail and UpdateTrail ask of S3 (its Go API):
// whether the bucket policy lets the CloudTrail principal act. It returns
// NoSuchBucket or AccessDenied as *awserr.Error.
type Buckets interface {
	Authorize(ctx context.Context, bucket, key, action string, principal *policy.Principal, conditionKeys map[string][]string) error
}

// Topics is what trails ask of SNS (the sns service implements it
// through the server's wiring).
type Topics interface {
	// CheckPublish reports whether the topic exists and its policy lets
	// the CloudTrail principal publish to it for the trail sourceARN of
	// sourceAccount (aws:SourceArn, aws:SourceAccount); any error means
	// no.
	CheckPublish(ctx context.Context, topicARN, sourceARN, sourceAccount string) error
}

// KeyResolver is what trails ask of KMS (the kms service implements it
// through the server's wiring).
type KeyResolver interface {
	// ResolveKey returns the ARN of the key keyID (key ID, key ARN, alias
	// name or alias ARN) names as seen from account in region; an error
	// (NotFoundException) when it names no key.
	ResolveKey(ctx context.Context, tx *store.Tx, keyID, account, region string) (keyARN string, err error)
	// AuthorizeTrail checks that the key policy lets the CloudTrail
	// principal generate data keys for the trail (encryption context
	// aws:cloudtrail:arn); an error means no.
	AuthorizeTrail(ctx context.Context, tx *store.Tx, keyARN, trailARN, account, region string) error
}

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

	// Buckets checks trail buckets' policies. Required for CreateTrail.
	Buckets Buckets
	// Topics checks SNS topics; nil: trails cannot name a topic
	// (InsufficientSnsTopicPolicyException, there is no such topic).
	Topics Topics
	// Keys resolves KMS keys; nil: trails cannot name a KMS key
	// (KmsKeyNotFoundException).
	Keys KeyResolver
	// SigningKeys are the digest signing keys ListPublicKeys serves.
	SigningKeys *digest.Keys
	// MaxTrailsPerRegion is the trail quota per account and region.
	// Default 5 (AWS's, not adjustable there).
	MaxTrailsPerRegion int
	// ListTrailsPageSize is ListTrails' page size. Default 50.
	ListTrailsPageSize int
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
	if cfg.MaxTrailsPerRegion <= 0 {
		cfg.MaxTrailsPerRegion = 5
	}
	if cfg.ListTrailsPageSize <= 0 {
		cfg.ListTrailsPageSize = 50
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
			catalog.Define(write("CreateTrail", true), s.createTrail),
			catalog.Define(write("UpdateTrail", true), s.updateTrail),
			catalog.Define(write("DeleteTrail", false), s.deleteTrail),
			catalog.Define(read("GetTrail"), s.getTrail),
			catalog.Define(catalog.Operation{Name: "DescribeTrails", ReadOnly: true, Audited: true}, s.describeTrails),
			catalog.Define(catalog.Operation{Name: "ListTrails", ReadOnly: true, Audited: true}, s.listTrails),
			catalog.Define(read("GetTrailStatus"), s.getTrailStatus),
			catalog.Define(write("StartLogging", false), s.startLogging),
			catalog.Define(write("StopLogging", false), s.stopLogging),
			catalog.Define(write("PutEventSelectors", true), s.putEventSelectors),
			catalog.Define(read("GetEventSelectors"), s.getEventSelectors),
			catalog.Define(catalog.Operation{Name: "AddTags", Audited: true, Resources: tagResource}, s.addTags),
			catalog.Define(catalog.Operation{Name: "RemoveTags", Audited: true, Resources: tagResource}, s.removeTags),
			catalog.Define(catalog.Operation{Name: "ListTags", ReadOnly: true, Audited: true, Resources: tagResources}, s.listTags),
			catalog.Define(catalog.Operation{Name: "ListPublicKeys", ReadOnly: true, Audited: true}, s.listPublicKeys),
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

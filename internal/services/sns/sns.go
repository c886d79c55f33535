// Package sns serves the Amazon SNS subset lextrail supports (query
// protocol, API version 2010-03-31, signing name "sns", regional): topics
// (CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes, tags),
// subscriptions of http and https endpoints (Subscribe, ConfirmSubscription,
// Unsubscribe, ListSubscriptions, ListSubscriptionsByTopic,
// Get/SetSubscriptionAttributes) and Publish.
//
// Topic policies are evaluated: the package is the authorizer's
// resource-policy source for "sns" actions (ResourcePolicy), so another
// account reaches a topic only where its policy allows, and service
// principals (CloudTrail) publish through the Go API (CheckPublishAccess,
// PublishAs) only where the policy grants them sns:Publish with matching
// aws:SourceArn / aws:SourceAccount conditions.
//
// Delivery is durable and ordered. Publish appends the message to the
// topic's log (sns_messages) in the caller's transaction and returns; each
// confirmed subscription has a cursor into that log, and the Worker posts
// the messages after the cursor to the endpoint one at a time, in order of
// publication, advancing the cursor only after a 2xx answer. Failed
// attempts are retried with the topic's delivery policy (exponential
// backoff by default); a subscription that fails waits alone, never
// delaying another or a publisher. Processes sharing one database take a
// lease on a subscription before delivering for it, so no two deliver for
// one subscription at once (see Worker for the exact guarantee). The
// SubscriptionConfirmation handshake, the Notification format, its headers
// and signatures (SignatureVersion 1, SHA1withRSA, and 2, SHA256withRSA)
// are SNS's; the certificate is generated on first use,
// kept in the database (private key sealed with the master key) and
// served, like the SubscribeURL and UnsubscribeURL, under HTTPPathPrefix.
//
// Management calls are audited as management events; Publish is a data
// event (as CloudTrail records SNS Publish since 2023), with the message
// recorded hidden.
//
// It owns the sns_topics, sns_subscriptions, sns_messages and
// sns_signing_keys tables. It must not know about trails: CloudTrail calls
// it, not the other way round.
package sns

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/secrets"
	"lextrail/internal/store"
)

// Namespace is the xmlns of SNS responses.
const Namespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// APIVersion is the query protocol's Version.
const APIVersion = "2010-03-31"

// HTTPPathPrefix is where the signing certificate, SubscribeURL and
// UnsubscribeURL are served (unsigned GETs). No S3 bucket name can start
// with "_", so the prefix cannot collide with an API route. Mount
// HTTPHandler for it in front of the gateway.
const HTTPPathPrefix = "/_lextrail/sns/"

// MaxMessageBytes is the limit of a message and its attributes (256 KiB).
const MaxMessageBytes = 262144

// Config configures the service. DB and Sealer are required.
type Config struct {
	DB *store.DB
	// Sealer seals the signing key and confirmation tokens at rest.
	Sealer *secrets.Sealer
	// PublicURL is the base URL ("https://lextrail.example.com") that
	// subscribers reach lextrail at: SigningCertURL, SubscribeURL and
	// UnsubscribeURL start with it. Default: the scheme and host of the
	// Subscribe request that created the subscription.
	PublicURL string
	// HTTPClient posts deliveries. Default: a client with DeliveryTimeout
	// that does not follow redirects.
	HTTPClient *http.Client
	// DeliveryTimeout bounds one delivery attempt. Default 15s.
	DeliveryTimeout time.Duration
	// Concurrency is how many subscriptions one process delivers for at
	// once. Default 16.
	Concurrency int
	// Lease is how long a process owns a subscription's delivery before
	// another may take it over. Default 2 minutes.
	Lease time.Duration
	// PollInterval is how often the worker looks for due work it was not
	// woken for (retries coming due, other nodes' publications). Default 1s.
	PollInterval time.Duration
	// ConfirmationTTL is how long a confirmation token is valid; a pending
	// subscription not confirmed by then is deleted. Default 48h (AWS:
	// "Confirmation tokens are valid for two days").
	ConfirmationTTL time.Duration
	// Now is the clock (backoff, leases, token expiry). Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the SNS service.
type Service struct {
	cfg    Config
	db     *store.DB
	log    *slog.Logger
	keys   *signer
	sigs   *sigCache
	wakeCh chan struct{}
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = 15 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.ConfirmationTTL <= 0 {
		cfg.ConfirmationTTL = 48 * time.Hour
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout:       cfg.DeliveryTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Service{cfg: cfg, db: cfg.DB, log: cfg.Logger, sigs: newSigCache(), wakeCh: make(chan struct{}, 1)}
	s.keys = &signer{db: cfg.DB, sealer: cfg.Sealer, now: cfg.Now}
	return s
}

// Wake makes the delivery worker look for due work now. Publish calls it
// after its commit; tests call it after moving an injected clock.
func (s *Service) Wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

func topicRes(c *catalog.Call, in any) []catalog.Resource {
	arn := ""
	switch v := in.(type) {
	case interface{ topicARN() string }:
		arn = v.topicARN()
	case *CreateTopicInput:
		arn = TopicARN(c.Region, c.AccountID(), v.Name)
	}
	if arn == "" {
		return nil
	}
	return []catalog.Resource{{ARN: arn, AccountID: arnAccount(arn), Type: "AWS::SNS::Topic"}}
}

// Catalog declares SNS's operations.
func (s *Service) Catalog() *catalog.Service {
	mgmt := func(name string, readOnly bool) catalog.Operation {
		return catalog.Operation{Name: name, ReadOnly: readOnly, Audited: true, Resources: topicRes}
	}
	ops := []*catalog.Operation{
		catalog.Define(withResponse(mgmt("CreateTopic", false)), s.createTopic),
		catalog.Define(mgmt("DeleteTopic", false), s.deleteTopic),
		catalog.Define(catalog.Operation{Name: "ListTopics", ReadOnly: true, Audited: true}, s.listTopics),
		catalog.Define(mgmt("GetTopicAttributes", true), s.getTopicAttributes),
		catalog.Define(mgmt("SetTopicAttributes", false), s.setTopicAttributes),
		catalog.Define(withResponse(mgmt("Subscribe", false)), s.subscribe),
		// The token is the caller's authority (AWS: "This call requires an
		// AWS signature only when the AuthenticateOnUnsubscribe flag is set").
		catalog.Define(catalog.Operation{Name: "ConfirmSubscription", Audited: true, RecordResponse: true, NoAuthz: true, Resources: topicRes}, s.confirmSubscription),
		catalog.Define(mgmt("Unsubscribe", false), s.unsubscribe),
		catalog.Define(catalog.Operation{Name: "ListSubscriptions", ReadOnly: true, Audited: true}, s.listSubscriptions),
		catalog.Define(mgmt("ListSubscriptionsByTopic", true), s.listSubscriptionsByTopic),
		catalog.Define(mgmt("GetSubscriptionAttributes", true), s.getSubscriptionAttributes),
		catalog.Define(mgmt("SetSubscriptionAttributes", false), s.setSubscriptionAttributes),
		catalog.Define(catalog.Operation{Name: "Publish", Audited: true, DataEvent: true, RecordResponse: true, Resources: topicRes}, s.publish),
		catalog.Define(mgmt("TagResource", false), s.tagResource),
		catalog.Define(mgmt("UntagResource", false), s.untagResource),
		catalog.Define(mgmt("ListTagsForResource", true), s.listTagsForResource),
	}
	return catalog.NewService(&catalog.Service{
		Name:               "sns",
		SigningName:        "sns",
		EventSource:        "sns.amazonaws.com",
		Protocol:           catalog.Query,
		APIVersion:         APIVersion,
		XMLNamespace:       Namespace,
		AccessDeniedCode:   "AuthorizationError",
		AccessDeniedStatus: http.StatusForbidden,
		Ops:                ops,
	})
}

func withResponse(o catalog.Operation) catalog.Operation {
	o.RecordResponse = true
	return o
}

// Errors in SNS's shapes.

func invalidParameter(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "InvalidParameter", format, args...)
}

func invalidParameterValue(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "ParameterValueInvalid", format, args...)
}

func notFound(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusNotFound, "NotFound", format, args...)
}

func authorizationError(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusForbidden, "AuthorizationError", format, args...)
}

func errTopicNotFound() *awserr.Error { return notFound("Topic does not exist") }

func errSubscriptionNotFound() *awserr.Error { return notFound("Subscription does not exist") }

// ARNs.

var (
	topicNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	accountRe   = regexp.MustCompile(`^\d{12}$`)
)

// TopicARN is the ARN of topic name in an account and region.
func TopicARN(region, accountID, name string) string {
	return "arn:aws:sns:" + region + ":" + accountID + ":" + name
}

// parseTopicARN splits a topic ARN; ok is false for anything else.
func parseTopicARN(arn string) (region, account, name string, ok bool) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[1] != "aws" || p[2] != "sns" || !regionRe.MatchString(p[3]) ||
		!accountRe.MatchString(p[4]) || !topicNameRe.MatchString(p[5]) {
		return "", "", "", false
	}
	return p[3], p[4], p[5], true
}

// parseSubscriptionARN splits a subscription ARN (topic ARN + ":" + id).
func parseSubscriptionARN(arn string) (topicARN string, ok bool) {
	i := strings.LastIndexByte(arn, ':')
	if i < 0 {
		return "", false
	}
	id := arn[i+1:]
	if len(id) != 36 || strings.Trim(id, "0123456789abcdef-") != "" {
		return "", false
	}
	if _, _, _, ok := parseTopicARN(arn[:i]); !ok {
		return "", false
	}
	return arn[:i], true
}

func arnAccount(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) == 6 {
		return p[4]
	}
	return ""
}

// checkTopicARN validates a TopicArn parameter for a call in region.
func checkTopicARN(member, arn, region string) error {
	if arn == "" {
		return invalidParameter("Invalid parameter: %s", member)
	}
	r, _, _, ok := parseTopicARN(arn)
	if !ok || r != region {
		return invalidParameter("Invalid parameter: %s", member)
	}
	return nil
}

// baseURL is where subscribers reach lextrail: Config.PublicURL, else the
// scheme and host the client reached lextrail at.
func (s *Service) baseURL(c *catalog.Call) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	r := c.Request
	if r == nil {
		return "http://localhost"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

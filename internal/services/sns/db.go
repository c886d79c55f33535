package sns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"

	"lextrail/internal/store"
)

// querier is a transaction.
type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// topic is a row of sns_topics.
type topic struct {
	ARN       string
	AccountID string
	Region    string
	Name      string
	CreatedMS int64
	Attrs     topicAttrs
	Tags      []Tag
	MsgSeq    int64
}

// topicAttrs are a topic's settable attributes as stored.
type topicAttrs struct {
	DisplayName      string `json:"DisplayName,omitempty"`
	Policy           string `json:"Policy,omitempty"`
	DeliveryPolicy   string `json:"DeliveryPolicy,omitempty"`
	SignatureVersion string `json:"SignatureVersion,omitempty"`
}

const topicCols = `arn, account_id, region, name, created_ms, attributes, tags, msg_seq`

func scanTopic(sc interface{ Scan(...any) error }) (*topic, error) {
	var t topic
	var attrs, tags string
	if err := sc.Scan(&t.ARN, &t.AccountID, &t.Region, &t.Name, &t.CreatedMS, &attrs, &tags, &t.MsgSeq); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attrs), &t.Attrs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &t.Tags); err != nil {
		return nil, err
	}
	return &t, nil
}

// loadTopic returns the topic, or NotFound.
func loadTopic(ctx context.Context, q querier, arn string) (*topic, error) {
	t, err := scanTopic(q.QueryRow(ctx, `SELECT `+topicCols+` FROM sns_topics WHERE arn = $1`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTopicNotFound()
	}
	return t, err
}

// readTopic loads a topic in tx, or in a read transaction of its own.
func (s *Service) readTopic(ctx context.Context, tx *store.Tx, arn string) (*topic, error) {
	if tx != nil {
		return loadTopic(ctx, tx, arn)
	}
	var t *topic
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		t, err = loadTopic(ctx, tx, arn)
		return err
	})
	return t, err
}

func marshalJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs, maps and slices are marshalled
	}
	return string(b)
}

// subscription is a row of sns_subscriptions.
type subscription struct {
	ARN             string
	TopicARN        string
	AccountID       string
	Region          string
	Protocol        string
	Endpoint        string
	Status          string
	TokenSealed     string
	TokenExpiresMS  int64
	BaseURL         string
	Attrs           subAttrs
	AuthUnsubscribe bool
	ConfirmedAuth   bool
	CreatedMS       int64
	ConfirmDue      bool
	ConfirmGen      int64
	CursorSeq       int64
	Attempts        int64
	NextAttemptMS   int64
	LastError       string
	Delivered       int64
	Dropped         int64
}

// subAttrs are a subscription's settable attributes as stored.
type subAttrs struct {
	RawMessageDelivery bool `json:"RawMessageDelivery,omitempty"`
}

// Subscription statuses.
const (
	statusPending   = "pending"
	statusConfirmed = "confirmed"
)

const subCols = `arn, topic_arn, account_id, region, protocol, endpoint, status, token_sealed, token_expires_ms, base_url,
	attributes, auth_unsubscribe, confirmed_auth, created_ms, confirm_due, confirm_gen, cursor_seq, attempts, next_attempt_ms, last_error, delivered, dropped`

func scanSubscription(sc interface{ Scan(...any) error }) (*subscription, error) {
	var s subscription
	var attrs string
	if err := sc.Scan(&s.ARN, &s.TopicARN, &s.AccountID, &s.Region, &s.Protocol, &s.Endpoint, &s.Status, &s.TokenSealed,
		&s.TokenExpiresMS, &s.BaseURL, &attrs, &s.AuthUnsubscribe, &s.ConfirmedAuth, &s.CreatedMS, &s.ConfirmDue, &s.ConfirmGen,
		&s.CursorSeq, &s.Attempts, &s.NextAttemptMS, &s.LastError, &s.Delivered, &s.Dropped); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attrs), &s.Attrs); err != nil {
		return nil, err
	}
	return &s, nil
}

func loadSubscription(ctx context.Context, q querier, arn string) (*subscription, error) {
	sub, err := scanSubscription(q.QueryRow(ctx, `SELECT `+subCols+` FROM sns_subscriptions WHERE arn = $1`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSubscriptionNotFound()
	}
	return sub, err
}

// entry is one key/value of a query-protocol map (<entry><key/><value/></entry>).
type entry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// entries turns a map into sorted entries.
func entries(m map[string]string) []entry {
	out := make([]entry, 0, len(m))
	for k, v := range m {
		out = append(out, entry{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

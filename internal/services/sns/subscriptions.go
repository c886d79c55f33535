package sns

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// supportedProtocols are the protocols lextrail delivers to.
const supportedProtocols = "http and https"

// snsProtocols are the protocols SNS knows, which lextrail does not
// deliver to.
var snsProtocols = map[string]bool{"email": true, "email-json": true, "sms": true, "sqs": true, "application": true, "lambda": true, "firehose": true}

// pendingARN is what lists show for a subscription awaiting confirmation.
const pendingARN = "PendingConfirmation"

func checkEndpoint(protocol string, endpoint *string) (string, error) {
	switch {
	case protocol == "http" || protocol == "https":
	case snsProtocols[protocol]:
		return "", invalidParameter("Invalid parameter: Protocol Reason: lextrail delivers only to %s endpoints, not %s", supportedProtocols, protocol)
	default:
		return "", invalidParameter("Invalid parameter: Amazon SNS does not support this protocol string: %s", trunc(protocol))
	}
	if endpoint == nil || *endpoint == "" {
		return "", invalidParameter("Invalid parameter: Endpoint")
	}
	e := *endpoint
	u, err := url.Parse(e)
	if err != nil || len(e) > 2048 || u.Scheme != protocol || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return "", invalidParameter("Invalid parameter: Endpoint Reason: %s endpoints must be %s:// URLs", protocol, protocol)
	}
	return e, nil
}

func checkSubAttrs(attrs map[string]string) (subAttrs, error) {
	var a subAttrs
	for _, kv := range entries(attrs) {
		if err := setSubAttr(&a, kv.Key, kv.Value, "Attributes"); err != nil {
			return a, err
		}
	}
	return a, nil
}

func setSubAttr(a *subAttrs, name, value, member string) error {
	if name != "RawMessageDelivery" {
		return invalidParameter("Invalid parameter: %s Reason: Unknown or unsupported attribute %s; lextrail supports RawMessageDelivery", member, trunc(name))
	}
	switch strings.ToLower(value) {
	case "true":
		a.RawMessageDelivery = true
	case "false":
		a.RawMessageDelivery = false
	default:
		return invalidParameter("Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", trunc(value))
	}
	return nil
}

// newToken returns a confirmation token and its hash.
func newToken() (token, hash string) {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	token = hex.EncodeToString(b)
	return token, tokenHash(token)
}

func tokenHash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// SubscribeInput is Subscribe's input.
type SubscribeInput struct {
	TopicArn              string
	Protocol              string
	Endpoint              *string
	Attributes            map[string]string
	ReturnSubscriptionArn *bool
}

func (i *SubscribeInput) topicARN() string { return i.TopicArn }

// SubscribeOutput is Subscribe's result.
type SubscribeOutput struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
}

func (s *Service) subscribe(ctx context.Context, c *catalog.Call, in *SubscribeInput) (*SubscribeOutput, error) {
	if err := checkTopicARN("TopicArn", in.TopicArn, c.Region); err != nil {
		return nil, err
	}
	endpoint, err := checkEndpoint(in.Protocol, in.Endpoint)
	if err != nil {
		return nil, err
	}
	attrs, err := checkSubAttrs(in.Attributes)
	if err != nil {
		return nil, err
	}
	if _, err := loadTopic(ctx, c.Tx, in.TopicArn); err != nil {
		return nil, err
	}
	returnARN := in.ReturnSubscriptionArn != nil && *in.ReturnSubscriptionArn
	answer := func(arn string, pending bool) *SubscribeOutput {
		if pending && !returnARN {
			return &SubscribeOutput{SubscriptionArn: "pending confirmation"}
		}
		return &SubscribeOutput{SubscriptionArn: arn}
	}
	now := store.Millis(c.Now)
	existing, err := scanSubscription(c.Tx.QueryRow(ctx, `SELECT `+subCols+` FROM sns_subscriptions WHERE topic_arn = $1 AND protocol = $2 AND endpoint = $3`,
		in.TopicArn, in.Protocol, endpoint))
	switch {
	case err == nil:
		if len(in.Attributes) > 0 && existing.Attrs != attrs {
			return nil, invalidParameter("Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
		}
		if existing.Status == statusConfirmed {
			return answer(existing.ARN, false), nil
		}
		// Subscribing a pending endpoint again sends the confirmation again
		// (with the same token, valid anew).
		_, err := c.Tx.Exec(ctx, `UPDATE sns_subscriptions SET confirm_due = $1, confirm_gen = confirm_gen + 1, attempts = 0, next_attempt_ms = $2,
			token_expires_ms = $3, base_url = $4 WHERE arn = $5`, true, now, now+s.cfg.ConfirmationTTL.Milliseconds(), s.baseURL(c), existing.ARN)
		if err != nil {
			return nil, err
		}
		c.Tx.AfterCommit(s.Wake)
		return answer(existing.ARN, true), nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	arn := in.TopicArn + ":" + uuid.NewString()
	token, hash := newToken()
	sealed, err := s.cfg.Sealer.Seal(token, arn)
	if err != nil {
		return nil, awserr.Internal(err)
	}
	_, err = c.Tx.Exec(ctx, `INSERT INTO sns_subscriptions (arn, topic_arn, account_id, region, protocol, endpoint, status, token_hash, token_sealed,
			token_expires_ms, base_url, attributes, created_ms, confirm_due, next_attempt_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		arn, in.TopicArn, c.AccountID(), c.Region, in.Protocol, endpoint, statusPending, hash, sealed,
		now+s.cfg.ConfirmationTTL.Milliseconds(), s.baseURL(c), marshalJSON(attrs), now, true, now)
	if err != nil {
		return nil, err
	}
	c.Tx.AfterCommit(s.Wake)
	return answer(arn, true), nil
}

// ConfirmSubscriptionInput is ConfirmSubscription's input.
type ConfirmSubscriptionInput struct {
	TopicArn                  string
	Token                     string `audit:"hidden"`
	AuthenticateOnUnsubscribe *string
}

func (i *ConfirmSubscriptionInput) topicARN() string { return i.TopicArn }

// ConfirmSubscriptionOutput is ConfirmSubscription's result.
type ConfirmSubscriptionOutput struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
}

func (s *Service) confirmSubscription(ctx context.Context, c *catalog.Call, in *ConfirmSubscriptionInput) (*ConfirmSubscriptionOutput, error) {
	if err := checkTopicARN("TopicArn", in.TopicArn, c.Region); err != nil {
		return nil, err
	}
	authUnsub := in.AuthenticateOnUnsubscribe != nil && strings.EqualFold(*in.AuthenticateOnUnsubscribe, "true")
	arn, err := s.confirm(ctx, c.Tx, in.TopicArn, in.Token, true, authUnsub, c.Now)
	if err != nil {
		return nil, err
	}
	return &ConfirmSubscriptionOutput{SubscriptionArn: arn}, nil
}

// confirm confirms the subscription the token belongs to. authenticated
// says the request was signed (only then is AuthenticateOnUnsubscribe
// honoured). Confirming a confirmed subscription again answers its ARN.
func (s *Service) confirm(ctx context.Context, tx *store.Tx, topicARN, token string, authenticated, authUnsub bool, now time.Time) (string, error) {
	if token == "" || len(token) > 1024 {
		return "", invalidParameter("Invalid parameter: Token")
	}
	if _, err := loadTopic(ctx, tx, topicARN); err != nil {
		return "", err
	}
	var arn, status string
	var expires int64
	err := tx.QueryRow(ctx, `SELECT arn, status, token_expires_ms FROM sns_subscriptions WHERE topic_arn = $1 AND token_hash = $2`,
		topicARN, tokenHash(token)).Scan(&arn, &status, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", invalidParameter("Invalid parameter: Token")
	}
	if err != nil {
		return "", err
	}
	if status == statusConfirmed {
		return arn, nil
	}
	if expires < store.Millis(now) {
		return "", invalidParameter("Invalid parameter: Token Reason: the confirmation token has expired")
	}
	// Messages published from now on are delivered: the cursor starts at
	// the topic's last message.
	_, err = tx.Exec(ctx, `UPDATE sns_subscriptions SET status = $1, confirm_due = $2, attempts = 0, next_attempt_ms = $3, last_error = '',
			auth_unsubscribe = $4, confirmed_auth = $5, cursor_seq = (SELECT msg_seq FROM sns_topics WHERE arn = $6)
		WHERE arn = $7 AND status = $8`,
		statusConfirmed, false, store.Millis(now), authenticated && authUnsub, authenticated, topicARN, arn, statusPending)
	return arn, err
}

// UnsubscribeInput is Unsubscribe's input.
type UnsubscribeInput struct {
	SubscriptionArn string
}

func (i *UnsubscribeInput) topicARN() string {
	t, _ := parseSubscriptionARN(i.SubscriptionArn)
	return t
}

// UnsubscribeOutput has no members.
type UnsubscribeOutput struct{}

func (s *Service) unsubscribe(ctx context.Context, c *catalog.Call, in *UnsubscribeInput) (*UnsubscribeOutput, error) {
	topicARN, ok := parseSubscriptionARN(in.SubscriptionArn)
	if !ok {
		return nil, invalidParameter("Invalid parameter: SubscriptionArn")
	}
	if r, _, _, _ := parseTopicARN(topicARN); r != c.Region {
		return nil, invalidParameter("Invalid parameter: SubscriptionArn")
	}
	sub, err := loadSubscription(ctx, c.Tx, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	// Only the subscription's owner and the topic's owner unsubscribe.
	if c.AccountID() != sub.AccountID && c.AccountID() != arnAccount(topicARN) {
		return nil, authorizationError("User: %s is not authorized to perform: SNS:Unsubscribe on resource: %s", c.Principal.ARN, in.SubscriptionArn)
	}
	return &UnsubscribeOutput{}, deleteSubscription(ctx, c.Tx, sub.ARN)
}

func deleteSubscription(ctx context.Context, tx *store.Tx, arn string) error {
	_, err := tx.Exec(ctx, `DELETE FROM sns_subscriptions WHERE arn = $1`, arn)
	return err
}

// SubscriptionMember is one listed subscription.
type SubscriptionMember struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
	Owner           string `xml:"Owner"`
	Protocol        string `xml:"Protocol"`
	Endpoint        string `xml:"Endpoint"`
	TopicArn        string `xml:"TopicArn"`
}

// ListSubscriptionsInput is ListSubscriptions' input.
type ListSubscriptionsInput struct {
	NextToken *string
}

// ListSubscriptionsOutput is the result of both subscription lists.
type ListSubscriptionsOutput struct {
	Subscriptions []SubscriptionMember `xml:"Subscriptions>member"`
	NextToken     string               `xml:"NextToken,omitempty"`
}

func (s *Service) listSubscriptions(ctx context.Context, c *catalog.Call, in *ListSubscriptionsInput) (*ListSubscriptionsOutput, error) {
	return listSubs(ctx, c.Tx, `account_id = $1 AND region = $2`, []any{c.AccountID(), c.Region}, in.NextToken)
}

// ListSubscriptionsByTopicInput is ListSubscriptionsByTopic's input.
type ListSubscriptionsByTopicInput struct {
	TopicArn  string
	NextToken *string
}

func (i *ListSubscriptionsByTopicInput) topicARN() string { return i.TopicArn }

func (s *Service) listSubscriptionsByTopic(ctx context.Context, c *catalog.Call, in *ListSubscriptionsByTopicInput) (*ListSubscriptionsOutput, error) {
	if err := checkTopicARN("TopicArn", in.TopicArn, c.Region); err != nil {
		return nil, err
	}
	if _, err := loadTopic(ctx, c.Tx, in.TopicArn); err != nil {
		return nil, err
	}
	return listSubs(ctx, c.Tx, `topic_arn = $1`, []any{in.TopicArn}, in.NextToken)
}

func listSubs(ctx context.Context, tx *store.Tx, where string, args []any, next *string) (*ListSubscriptionsOutput, error) {
	after, err := parsePageToken(next)
	if err != nil {
		return nil, err
	}
	args = append(args, after)
	rows, err := tx.Query(ctx, `SELECT arn, account_id, protocol, endpoint, topic_arn, status FROM sns_subscriptions WHERE `+where+
		` AND arn > $`+strconv.Itoa(len(args))+` ORDER BY arn LIMIT `+strconv.Itoa(pageSize+1), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListSubscriptionsOutput{Subscriptions: []SubscriptionMember{}}
	var last []string
	for rows.Next() {
		var m SubscriptionMember
		var status string
		if err := rows.Scan(&m.SubscriptionArn, &m.Owner, &m.Protocol, &m.Endpoint, &m.TopicArn, &status); err != nil {
			return nil, err
		}
		last = append(last, m.SubscriptionArn)
		if status != statusConfirmed {
			m.SubscriptionArn = pendingARN
		}
		out.Subscriptions = append(out.Subscriptions, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Subscriptions) > pageSize {
		out.Subscriptions = out.Subscriptions[:pageSize]
		out.NextToken = pageToken(last[pageSize-1])
	}
	return out, nil
}

// GetSubscriptionAttributesInput is GetSubscriptionAttributes' input.
type GetSubscriptionAttributesInput struct {
	SubscriptionArn string
}

func (i *GetSubscriptionAttributesInput) topicARN() string {
	t, _ := parseSubscriptionARN(i.SubscriptionArn)
	return t
}

// subscriptionFor loads the subscription a call names.
func subscriptionFor(ctx context.Context, c *catalog.Call, arn string) (*subscription, error) {
	t, ok := parseSubscriptionARN(arn)
	if !ok {
		return nil, invalidParameter("Invalid parameter: SubscriptionArn")
	}
	if r, _, _, _ := parseTopicARN(t); r != c.Region {
		return nil, invalidParameter("Invalid parameter: SubscriptionArn")
	}
	return loadSubscription(ctx, c.Tx, arn)
}

func (s *Service) getSubscriptionAttributes(ctx context.Context, c *catalog.Call, in *GetSubscriptionAttributesInput) (*AttributesOutput, error) {
	sub, err := subscriptionFor(ctx, c, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	t, err := loadTopic(ctx, c.Tx, sub.TopicARN)
	if err != nil {
		return nil, err
	}
	eff, err := parseDeliveryPolicy(t.Attrs.DeliveryPolicy)
	if err != nil {
		return nil, awserr.Internal(err)
	}
	m := map[string]string{
		"SubscriptionArn":              sub.ARN,
		"TopicArn":                     sub.TopicARN,
		"Owner":                        sub.AccountID,
		"Protocol":                     sub.Protocol,
		"Endpoint":                     sub.Endpoint,
		"PendingConfirmation":          strconv.FormatBool(sub.Status != statusConfirmed),
		"ConfirmationWasAuthenticated": strconv.FormatBool(sub.ConfirmedAuth),
		"RawMessageDelivery":           strconv.FormatBool(sub.Attrs.RawMessageDelivery),
		"EffectiveDeliveryPolicy":      eff.effectiveJSON(),
	}
	return &AttributesOutput{Attributes: entries(m)}, nil
}

// SetSubscriptionAttributesInput is SetSubscriptionAttributes' input.
type SetSubscriptionAttributesInput struct {
	SubscriptionArn string
	AttributeName   string
	AttributeValue  *string
}

func (i *SetSubscriptionAttributesInput) topicARN() string {
	t, _ := parseSubscriptionARN(i.SubscriptionArn)
	return t
}

// SetSubscriptionAttributesOutput has no members.
type SetSubscriptionAttributesOutput struct{}

func (s *Service) setSubscriptionAttributes(ctx context.Context, c *catalog.Call, in *SetSubscriptionAttributesInput) (*SetSubscriptionAttributesOutput, error) {
	sub, err := subscriptionFor(ctx, c, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	if c.AccountID() != sub.AccountID && c.AccountID() != arnAccount(sub.TopicARN) {
		return nil, authorizationError("User: %s is not authorized to perform: SNS:SetSubscriptionAttributes on resource: %s", c.Principal.ARN, sub.ARN)
	}
	value := ""
	if in.AttributeValue != nil {
		value = *in.AttributeValue
	}
	if err := setSubAttr(&sub.Attrs, in.AttributeName, value, "AttributeName"); err != nil {
		return nil, err
	}
	_, err = c.Tx.Exec(ctx, `UPDATE sns_subscriptions SET attributes = $1 WHERE arn = $2`, marshalJSON(sub.Attrs), sub.ARN)
	return &SetSubscriptionAttributesOutput{}, err
}

package sns

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// Tag is a topic tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// pageSize is the page of ListTopics and the ListSubscriptions calls (AWS's).
const pageSize = 100

// supportedTopicAttrs names what CreateTopic and SetTopicAttributes accept.
const supportedTopicAttrs = "DisplayName, Policy, DeliveryPolicy and SignatureVersion"

// setTopicAttr validates and applies one settable attribute. member names
// the parameter in errors ("Attributes" or "AttributeName").
func setTopicAttr(a *topicAttrs, name, value string) error {
	switch name {
	case "DisplayName":
		if utf8.RuneCountInString(value) > 100 {
			return invalidParameter("Invalid parameter: DisplayName")
		}
		a.DisplayName = value
	case "Policy":
		if value != "" {
			if err := checkPolicy(value); err != nil {
				return err
			}
		}
		a.Policy = value
	case "DeliveryPolicy":
		if _, err := parseDeliveryPolicy(value); err != nil {
			return err
		}
		a.DeliveryPolicy = value
	case "SignatureVersion":
		if value != "1" && value != "2" {
			return invalidParameter("Invalid parameter: SignatureVersion")
		}
		a.SignatureVersion = value
	case "FifoTopic":
		if value != "false" {
			return invalidParameter("Invalid parameter: Attributes Reason: FifoTopic: lextrail serves standard topics only")
		}
	default:
		return invalidParameter("Invalid parameter: Attributes Reason: Unknown or unsupported attribute %s; lextrail supports %s", trunc(name), supportedTopicAttrs)
	}
	return nil
}

// get returns one stored attribute by name.
func (a *topicAttrs) get(name string) string {
	switch name {
	case "DisplayName":
		return a.DisplayName
	case "Policy":
		return a.Policy
	case "DeliveryPolicy":
		return a.DeliveryPolicy
	case "SignatureVersion":
		return a.SignatureVersion
	}
	return ""
}

func trunc(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

// checkTags validates tags (AWS's limits: 50 per resource, keys of 1-128
// characters, values up to 256, no "aws:" prefix, no duplicates).
func checkTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > 128 || utf8.RuneCountInString(t.Value) > 256 {
			return invalidParameter("Invalid parameter: Tags Reason: a tag key must have 1 to 128 characters and a value at most 256")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidParameter("Invalid parameter: Tags Reason: Tag keys must not start with aws:")
		}
		if seen[t.Key] {
			return invalidParameter("Invalid parameter: Duplicated keys are not allowed.")
		}
		seen[t.Key] = true
	}
	return nil
}

func tagLimit() *awserr.Error {
	return awserr.New(http.StatusBadRequest, "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
}

// CreateTopicInput is CreateTopic's input.
type CreateTopicInput struct {
	Name                 string
	Attributes           map[string]string
	Tags                 []Tag
	DataProtectionPolicy *string
}

// CreateTopicOutput is CreateTopic's result.
type CreateTopicOutput struct {
	TopicArn string `xml:"TopicArn"`
}

func (s *Service) createTopic(ctx context.Context, c *catalog.Call, in *CreateTopicInput) (*CreateTopicOutput, error) {
	if strings.HasSuffix(in.Name, ".fifo") {
		return nil, invalidParameter("Invalid parameter: Topic Name Reason: lextrail serves standard topics only, not FIFO topics")
	}
	if !topicNameRe.MatchString(in.Name) {
		return nil, invalidParameter("Invalid parameter: Topic Name")
	}
	if in.DataProtectionPolicy != nil && *in.DataProtectionPolicy != "" {
		return nil, invalidParameter("Invalid parameter: DataProtectionPolicy Reason: lextrail does not support data protection policies")
	}
	var attrs topicAttrs
	for _, kv := range entries(in.Attributes) {
		if err := setTopicAttr(&attrs, kv.Key, kv.Value); err != nil {
			return nil, err
		}
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Tags) > 50 {
		return nil, tagLimit()
	}
	arn := TopicARN(c.Region, c.AccountID(), in.Name)
	existing, err := loadTopic(ctx, c.Tx, arn)
	var ae *awserr.Error
	switch {
	case err == nil:
		// Idempotent for the same name and attributes: the attributes
		// given must match the topic's, and so must the tags.
		for k := range in.Attributes {
			if k != "FifoTopic" && existing.Attrs.get(k) != attrs.get(k) {
				return nil, invalidParameter("Invalid parameter: Attributes Reason: Topic already exists with different attributes")
			}
		}
		if len(in.Tags) > 0 && !sameTags(existing.Tags, in.Tags) {
			return nil, invalidParameter("Invalid parameter: Tags Reason: Topic already exists with different tags")
		}
		return &CreateTopicOutput{TopicArn: arn}, nil
	case errors.As(err, &ae) && ae.Code == "NotFound":
	default:
		return nil, err
	}
	tags := in.Tags
	if tags == nil {
		tags = []Tag{}
	}
	_, err = c.Tx.Exec(ctx, `INSERT INTO sns_topics (arn, account_id, region, name, created_ms, attributes, tags, msg_seq)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`, arn, c.AccountID(), c.Region, in.Name, store.Millis(c.Now), marshalJSON(attrs), marshalJSON(tags))
	if err != nil {
		return nil, err
	}
	return &CreateTopicOutput{TopicArn: arn}, nil
}

func sameTags(a, b []Tag) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]string{}
	for _, t := range a {
		m[t.Key] = t.Value
	}
	for _, t := range b {
		if v, ok := m[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return true
}

// DeleteTopicInput is DeleteTopic's input.
type DeleteTopicInput struct {
	TopicArn string
}

func (i *DeleteTopicInput) topicARN() string { return i.TopicArn }

// DeleteTopicOutput has no members.
type DeleteTopicOutput struct{}

// deleteTopic deletes the topic, its subscriptions and undelivered
// messages. Deleting a topic that does not exist succeeds (as AWS).
func (s *Service) deleteTopic(ctx context.Context, c *catalog.Call, in *DeleteTopicInput) (*DeleteTopicOutput, error) {
	if err := checkTopicARN("TopicArn", in.TopicArn, c.Region); err != nil {
		return nil, err
	}
	for _, q := range []string{
		`DELETE FROM sns_messages WHERE topic_arn = $1`,
		`DELETE FROM sns_subscriptions WHERE topic_arn = $1`,
		`DELETE FROM sns_topics WHERE arn = $1`,
	} {
		if _, err := c.Tx.Exec(ctx, q, in.TopicArn); err != nil {
			return nil, err
		}
	}
	return &DeleteTopicOutput{}, nil
}

// ListTopicsInput is ListTopics' input.
type ListTopicsInput struct {
	NextToken *string
}

// TopicMember is one listed topic.
type TopicMember struct {
	TopicArn string `xml:"TopicArn"`
}

// ListTopicsOutput is ListTopics' result.
type ListTopicsOutput struct {
	Topics    []TopicMember `xml:"Topics>member"`
	NextToken string        `xml:"NextToken,omitempty"`
}

// pageToken is the opaque NextToken: the last ARN of the page.
func pageToken(lastARN string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastARN))
}

func parsePageToken(tok *string) (string, error) {
	if tok == nil || *tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || !strings.HasPrefix(string(b), "arn:aws:sns:") {
		return "", invalidParameter("Invalid parameter: NextToken")
	}
	return string(b), nil
}

func (s *Service) listTopics(ctx context.Context, c *catalog.Call, in *ListTopicsInput) (*ListTopicsOutput, error) {
	after, err := parsePageToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	rows, err := c.Tx.Query(ctx, `SELECT arn FROM sns_topics WHERE account_id = $1 AND region = $2 AND arn > $3 ORDER BY arn LIMIT `+strconv.Itoa(pageSize+1),
		c.AccountID(), c.Region, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListTopicsOutput{Topics: []TopicMember{}}
	for rows.Next() {
		var arn string
		if err := rows.Scan(&arn); err != nil {
			return nil, err
		}
		out.Topics = append(out.Topics, TopicMember{arn})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Topics) > pageSize {
		out.Topics = out.Topics[:pageSize]
		out.NextToken = pageToken(out.Topics[pageSize-1].TopicArn)
	}
	return out, nil
}

// GetTopicAttributesInput is GetTopicAttributes' input.
type GetTopicAttributesInput struct {
	TopicArn string
}

func (i *GetTopicAttributesInput) topicARN() string { return i.TopicArn }

// AttributesOutput is the result of the Get...Attributes calls.
type AttributesOutput struct {
	Attributes []entry `xml:"Attributes>entry"`
}

func (s *Service) getTopicAttributes(ctx context.Context, c *catalog.Call, in *GetTopicAttributesInput) (*AttributesOutput, error) {
	if err := checkTopicARN("TopicArn", in.TopicArn, c.Region); err != nil {
		return nil, err
	}
	t, err := loadTopic(ctx, c.Tx, in.TopicArn)
	if err != nil {
		return nil, err
	}
	var confirmed, pending int64
	err = c.Tx.QueryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = $3 THEN 1 ELSE 0 END), 0)
		FROM sns_subscriptions WHERE topic_arn = $1`, t.ARN, statusConfirmed, statusPending).Scan(&confirmed, &pending)
	if err != nil {
		return nil, err
	}
	eff, err := parseDeliveryPolicy(t.Attrs.DeliveryPolicy)
	if err != nil {
		return nil, awserr.Internal(err)
	}
	m := map[string]string{
		"TopicArn":                t.ARN,
		"Owner":                   t.AccountID,
		"Policy":                  t.effectivePolicy(),
		"DisplayName":             t.Attrs.DisplayName,
		"SubscriptionsConfirmed":  strconv.FormatInt(confirmed, 10),
		"SubscriptionsPending":    strconv.FormatInt(pending, 10),
		"SubscriptionsDeleted":    "0", // Unsubscribe deletes at once: none awaits deletion
		"EffectiveDeliveryPolicy": eff.effectiveJSON(),
	}
	if t.Attrs.DeliveryPolicy != "" {
		m["DeliveryPolicy"] = t.Attrs.DeliveryPolicy
	}
	if t.Attrs.SignatureVersion != "" {
		m["SignatureVersion"] = t.Attrs.SignatureVersion
	}
	return &AttributesOutput{Attributes: entries(m)}, nil
}

// SetTopicAttributesInput is SetTopicAttributes' input.
type SetTopicAttributesInput struct {
	TopicArn       string
	AttributeName  string
	AttributeValue *string
}

func (i *SetTopicAttributesInput) topicARN() string { return i.TopicArn }

// SetTopicAttributesOutput has no members.
type SetTopicAttributesOutput struct{}

func (s *Service) setTopicAttributes(ctx context.Context, c *catalog.Call, in *SetTopicAttributesInput) (*SetTopicAttributesOutput, error) {
	if err := checkTopicARN("TopicArn", in.TopicArn, c.Region); err != nil {
		return nil, err
	}
	if in.AttributeName == "" {
		return nil, invalidParameter("Invalid parameter: AttributeName")
	}
	t, err := loadTopic(ctx, c.Tx, in.TopicArn)
	if err != nil {
		return nil, err
	}
	value := ""
	if in.AttributeValue != nil {
		value = *in.AttributeValue
	}
	if in.AttributeName == "FifoTopic" {
		return nil, invalidParameter("Invalid parameter: AttributeName")
	}
	if err := setTopicAttr(&t.Attrs, in.AttributeName, value); err != nil {
		var ae *awserr.Error
		if errors.As(err, &ae) && strings.HasPrefix(ae.Message, "Invalid parameter: Attributes Reason: Unknown") {
			return nil, invalidParameter("Invalid parameter: AttributeName Reason: Unknown or unsupported attribute %s; lextrail supports %s", trunc(in.AttributeName), supportedTopicAttrs)
		}
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `UPDATE sns_topics SET attributes = $1 WHERE arn = $2`, marshalJSON(t.Attrs), t.ARN); err != nil {
		return nil, err
	}
	return &SetTopicAttributesOutput{}, nil
}

// Tags.

// TagResourceInput is TagResource's input.
type TagResourceInput struct {
	ResourceArn string
	Tags        []Tag
}

func (i *TagResourceInput) topicARN() string { return i.ResourceArn }

// TagResourceOutput has no members.
type TagResourceOutput struct{}

// UntagResourceInput is UntagResource's input.
type UntagResourceInput struct {
	ResourceArn string
	TagKeys     []string
}

func (i *UntagResourceInput) topicARN() string { return i.ResourceArn }

// UntagResourceOutput has no members.
type UntagResourceOutput struct{}

// ListTagsForResourceInput is ListTagsForResource's input.
type ListTagsForResourceInput struct {
	ResourceArn string
}

func (i *ListTagsForResourceInput) topicARN() string { return i.ResourceArn }

// ListTagsForResourceOutput is ListTagsForResource's result.
type ListTagsForResourceOutput struct {
	Tags []Tag `xml:"Tags>member"`
}

// taggedTopic loads the topic a tagging call names.
func taggedTopic(ctx context.Context, c *catalog.Call, arn string) (*topic, error) {
	if r, _, _, ok := parseTopicARN(arn); !ok || r != c.Region {
		return nil, invalidParameter("Invalid parameter: ResourceArn")
	}
	t, err := loadTopic(ctx, c.Tx, arn)
	var ae *awserr.Error
	if errors.As(err, &ae) && ae.Code == "NotFound" {
		return nil, awserr.New(http.StatusNotFound, "ResourceNotFound", "Resource does not exist")
	}
	return t, err
}

func (s *Service) tagResource(ctx context.Context, c *catalog.Call, in *TagResourceInput) (*TagResourceOutput, error) {
	t, err := taggedTopic(ctx, c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	for _, nt := range in.Tags {
		found := false
		for i := range t.Tags {
			if t.Tags[i].Key == nt.Key {
				t.Tags[i].Value, found = nt.Value, true
			}
		}
		if !found {
			t.Tags = append(t.Tags, nt)
		}
	}
	if len(t.Tags) > 50 {
		return nil, tagLimit()
	}
	return &TagResourceOutput{}, saveTags(ctx, c.Tx, t)
}

func (s *Service) untagResource(ctx context.Context, c *catalog.Call, in *UntagResourceInput) (*UntagResourceOutput, error) {
	t, err := taggedTopic(ctx, c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	kept := []Tag{}
	for _, tg := range t.Tags {
		if !drop[tg.Key] {
			kept = append(kept, tg)
		}
	}
	t.Tags = kept
	return &UntagResourceOutput{}, saveTags(ctx, c.Tx, t)
}

func saveTags(ctx context.Context, tx *store.Tx, t *topic) error {
	_, err := tx.Exec(ctx, `UPDATE sns_topics SET tags = $1 WHERE arn = $2`, marshalJSON(t.Tags), t.ARN)
	return err
}

func (s *Service) listTagsForResource(ctx context.Context, c *catalog.Call, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	t, err := taggedTopic(ctx, c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags := t.Tags
	if tags == nil {
		tags = []Tag{}
	}
	return &ListTagsForResourceOutput{Tags: tags}, nil
}

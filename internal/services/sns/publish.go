package sns

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// MessageAttributeValue is a message attribute as Publish takes it.
type MessageAttributeValue struct {
	DataType    string
	StringValue *string
	BinaryValue []byte
}

// PublishInput is Publish's input. The message, subject and attributes
// are recorded hidden in the data event.
type PublishInput struct {
	TopicArn               *string
	TargetArn              *string
	PhoneNumber            *string `audit:"hidden"`
	Message                string  `audit:"hidden"`
	Subject                *string `audit:"hidden"`
	MessageStructure       *string
	MessageAttributes      map[string]MessageAttributeValue `query:"MessageAttributes,key=Name,value=Value" audit:"hidden"`
	MessageGroupId         *string
	MessageDeduplicationId *string
}

func (i *PublishInput) topicARN() string {
	switch {
	case i.TopicArn != nil:
		return *i.TopicArn
	case i.TargetArn != nil:
		return *i.TargetArn
	}
	return ""
}

// PublishOutput is Publish's result.
type PublishOutput struct {
	MessageId string `xml:"MessageId"`
}

// storedAttr is a message attribute as sns_messages keeps it.
type storedAttr struct {
	Type  string `json:"Type"`
	Value string `json:"Value"` // binary values base64
}

// outgoing is a validated message.
type outgoing struct {
	Subject   *string
	Message   string
	Structure string // "" or "json"
	Attrs     map[string]storedAttr
}

var (
	attrNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)
	attrTypeRe = regexp.MustCompile(`^(String|Number|Binary)(\.[^\x00-\x1f]{1,255})?$`)
)

// checkMessage validates a message, its subject, structure and
// attributes, and applies the 256 KiB limit to the message with its
// attributes.
func checkMessage(message string, subject, structure *string, attrs map[string]MessageAttributeValue) (*outgoing, error) {
	o := &outgoing{Message: message}
	if message == "" {
		return nil, invalidParameter("Invalid parameter: Empty message")
	}
	if !utf8.ValidString(message) {
		return nil, invalidParameter("Invalid parameter: Message Reason: the message is not valid UTF-8")
	}
	if subject != nil {
		if !validSubject(*subject) {
			return nil, invalidParameter("Invalid parameter: Subject")
		}
		o.Subject = subject
	}
	if structure != nil && *structure != "" {
		if *structure != "json" {
			return nil, invalidParameter("Invalid parameter: MessageStructure")
		}
		if err := checkStructured(message); err != nil {
			return nil, err
		}
		o.Structure = "json"
	}
	size := len(message)
	if len(attrs) > 10 {
		return nil, invalidParameter("Invalid parameter: MessageAttributes Reason: Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	for _, name := range sortedNames(attrs) {
		v := attrs[name]
		if !validAttrName(name) {
			return nil, invalidParameterValue("The message attribute name '%s' is invalid: names have up to 256 of the characters A-Z, a-z, 0-9, '_', '-' and '.', must not start or end with '.' or contain '..', and must not start with 'AWS.' or 'Amazon.'", trunc(name))
		}
		if !attrTypeRe.MatchString(v.DataType) {
			return nil, invalidParameterValue("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		base := v.DataType
		if i := strings.IndexByte(base, '.'); i > 0 {
			base = base[:i]
		}
		var value string
		switch base {
		case "Binary":
			if len(v.BinaryValue) == 0 {
				return nil, invalidParameterValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, v.DataType)
			}
			value = base64.StdEncoding.EncodeToString(v.BinaryValue)
			size += len(v.BinaryValue)
		default:
			if v.StringValue == nil || *v.StringValue == "" {
				return nil, invalidParameterValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, v.DataType)
			}
			value = *v.StringValue
			if !utf8.ValidString(value) {
				return nil, invalidParameterValue("The message attribute '%s' has a value that is not valid UTF-8.", name)
			}
			if base == "Number" {
				if f, err := strconv.ParseFloat(value, 64); err != nil || f > 1e9 || f < -1e9 {
					return nil, invalidParameterValue("The message attribute '%s' has an invalid number value: numbers are between -10^9 and 10^9.", name)
				}
			}
			size += len(value)
		}
		size += len(name) + len(v.DataType)
		if o.Attrs == nil {
			o.Attrs = map[string]storedAttr{}
		}
		o.Attrs[name] = storedAttr{Type: v.DataType, Value: value}
	}
	if size > MaxMessageBytes {
		return nil, invalidParameter("Invalid parameter: Message too long")
	}
	return o, nil
}

func sortedNames(m map[string]MessageAttributeValue) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

func validAttrName(n string) bool {
	if !attrNameRe.MatchString(n) || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") || strings.Contains(n, "..") {
		return false
	}
	l := strings.ToLower(n)
	return !strings.HasPrefix(l, "aws.") && !strings.HasPrefix(l, "amazon.")
}

// validSubject: ASCII, starting with a letter, number or punctuation, no
// line breaks or control characters, under 100 characters (AWS's rule).
func validSubject(s string) bool {
	if s == "" || len(s) >= 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s[0] != ' '
}

// checkStructured validates a MessageStructure=json message: a JSON
// object of strings with a "default" member.
func checkStructured(message string) error {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(message))
	if err := dec.Decode(&m); err != nil || dec.More() || m == nil {
		return invalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse")
	}
	d, ok := m["default"]
	if !ok {
		return invalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
	}
	if _, ok := d.(string); !ok {
		return invalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse")
	}
	return nil
}

// forProtocol is the text a subscription of protocol receives.
func forProtocol(message, structure, protocol string) string {
	if structure != "json" {
		return message
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(message), &m); err != nil {
		return message
	}
	if v, ok := m[protocol].(string); ok {
		return v
	}
	v, _ := m["default"].(string)
	return v
}

func (s *Service) publish(ctx context.Context, c *catalog.Call, in *PublishInput) (*PublishOutput, error) {
	if in.PhoneNumber != nil && *in.PhoneNumber != "" {
		return nil, invalidParameter("Invalid parameter: PhoneNumber Reason: lextrail publishes to topics only; it does not send SMS")
	}
	var arn string
	switch {
	case in.TopicArn != nil && in.TargetArn != nil:
		return nil, invalidParameter("Invalid parameter: TopicArn or TargetArn Reason: Only one of TopicArn and TargetArn may be specified")
	case in.TopicArn != nil:
		arn = *in.TopicArn
		if err := checkTopicARN("TopicArn", arn, c.Region); err != nil {
			return nil, err
		}
	case in.TargetArn != nil:
		arn = *in.TargetArn
		if err := checkTopicARN("TargetArn", arn, c.Region); err != nil {
			return nil, invalidParameter("Invalid parameter: TargetArn Reason: lextrail publishes to topics only")
		}
	default:
		return nil, invalidParameter("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	if in.MessageGroupId != nil {
		return nil, invalidParameter("Invalid parameter: The request includes MessageGroupId parameter that is not valid for this topic type")
	}
	if in.MessageDeduplicationId != nil {
		return nil, invalidParameter("Invalid parameter: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	}
	m, err := checkMessage(in.Message, in.Subject, in.MessageStructure, in.MessageAttributes)
	if err != nil {
		return nil, err
	}
	id, err := s.enqueue(ctx, c.Tx, arn, m, c.Now)
	if err != nil {
		return nil, err
	}
	return &PublishOutput{MessageId: id}, nil
}

// enqueue appends m to the topic's message log in tx and returns its
// message ID; NotFound when the topic does not exist. A topic without
// confirmed subscriptions keeps nothing.
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, topicARN string, m *outgoing, now time.Time) (string, error) {
	id := uuid.NewString()
	var confirmed int
	err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM sns_subscriptions s WHERE s.topic_arn = t.arn AND s.status = $2 LIMIT 1)
		FROM sns_topics t WHERE t.arn = $1`, topicARN, statusConfirmed).Scan(&confirmed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errTopicNotFound()
	}
	if err != nil {
		return "", err
	}
	if confirmed == 0 {
		return id, nil
	}
	var seq int64
	if err := tx.QueryRow(ctx, `UPDATE sns_topics SET msg_seq = msg_seq + 1 WHERE arn = $1 RETURNING msg_seq`, topicARN).Scan(&seq); err != nil {
		return "", err
	}
	var subject any // NULL when absent
	if m.Subject != nil {
		subject = *m.Subject
	}
	attrs := "{}"
	if len(m.Attrs) > 0 {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(m.Attrs)
		attrs = strings.TrimSpace(b.String())
	}
	_, err = tx.Exec(ctx, `INSERT INTO sns_messages (topic_arn, seq, message_id, published_ms, subject, message, structure, attributes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, topicARN, seq, id, store.Millis(now), subject, m.Message, m.Structure, attrs)
	if err != nil {
		return "", err
	}
	tx.AfterCommit(s.Wake)
	return id, nil
}

// ServiceMessage is what a service publishes through PublishAs.
type ServiceMessage struct {
	// Subject is optional (ASCII, under 100 characters, no line breaks).
	Subject string
	// Message is the text, up to 256 KiB.
	Message string
}

// PublishAs publishes a message to topicARN on behalf of an AWS service
// (CloudTrail telling a topic about a delivered log file). The topic's
// policy must allow the service caller sns:Publish (as CheckPublishAccess
// decides). With a non-nil tx the message is queued in that transaction
// and delivered only if it commits (so a trail can advance its cursor and
// notify atomically); with nil, PublishAs commits on its own. It returns
// the message ID, or an *awserr.Error: NotFound, AuthorizationError,
// InvalidParameter. No CloudTrail event is recorded: it is not an API call.
// Queuing takes the topic's row lock (message numbers commit in order), so
// keep tx short: other publishers to the topic wait for its commit.
func (s *Service) PublishAs(ctx context.Context, tx *store.Tx, topicARN string, from ServiceCaller, msg ServiceMessage) (string, error) {
	var subject *string
	if msg.Subject != "" {
		subject = &msg.Subject
	}
	m, err := checkMessage(msg.Message, subject, nil, nil)
	if err != nil {
		return "", err
	}
	run := func(tx *store.Tx) (string, error) {
		if _, err := s.publishAccess(ctx, tx, topicARN, from); err != nil {
			return "", err
		}
		return s.enqueue(ctx, tx, topicARN, m, s.cfg.Now())
	}
	if tx != nil {
		return run(tx)
	}
	var id string
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		id, err = run(tx)
		return err
	})
	return id, err
}

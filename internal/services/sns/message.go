package sns

import (
	"bytes"
	"encoding/json"
	"net/url"
	"time"
)

// Message types (the JSON Type and the x-amz-sns-message-type header).
const (
	typeNotification = "Notification"
	typeConfirmation = "SubscriptionConfirmation"
)

// TimestampLayout is the Timestamp of messages: UTC with milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// wireMessage is the JSON document SNS posts to http/https endpoints, its
// members in SNS's order.
type wireMessage struct {
	Type              string                   `json:"Type"`
	MessageID         string                   `json:"MessageId"`
	Token             string                   `json:"Token,omitempty"`
	TopicArn          string                   `json:"TopicArn"`
	Subject           *string                  `json:"Subject,omitempty"`
	Message           string                   `json:"Message"`
	SubscribeURL      string                   `json:"SubscribeURL,omitempty"`
	Timestamp         string                   `json:"Timestamp"`
	SignatureVersion  string                   `json:"SignatureVersion"`
	Signature         string                   `json:"Signature"`
	SigningCertURL    string                   `json:"SigningCertURL"`
	UnsubscribeURL    string                   `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]wireAttribute `json:"MessageAttributes,omitempty"`
}

// wireAttribute is a message attribute as notifications carry it
// (binary values base64-encoded).
type wireAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

func (m *wireMessage) encode() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(m)
	return bytes.TrimRight(b.Bytes(), "\n")
}

func timestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// subscribeURL is where the endpoint owner confirms (an unsigned GET).
func subscribeURL(base, topicARN, token string) string {
	return base + HTTPPathPrefix + "?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(topicARN) + "&Token=" + url.QueryEscape(token)
}

// unsubscribeURL is where the endpoint owner unsubscribes (an unsigned GET).
func unsubscribeURL(base, subARN string) string {
	return base + HTTPPathPrefix + "?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(subARN)
}

func certURL(base, certID string) string { return base + HTTPPathPrefix + certFile(certID) }

// confirmationText is the Message of a SubscriptionConfirmation.
func confirmationText(topicARN string) string {
	return "You have chosen to subscribe to the topic " + topicARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message."
}

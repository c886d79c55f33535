package audit

import (
	"encoding/json"
	"strconv"

	"lextrail/internal/jsonenc"
)

// EventVersion is the eventVersion of every record lextrail writes.
const EventVersion = "1.08"

// Hidden replaces secret request members, as CloudTrail does.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// Record is one CloudTrail event record (spec §1). Its JSON encoding, by
// encoding/json or by AppendJSON (the fast path the recorder uses; a test
// keeps the two identical), has exactly CloudTrail's field names, order
// and JSON types.
type Record struct {
	EventVersion        string          `json:"eventVersion"`
	UserIdentity        UserIdentity    `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent,omitempty"`
	ErrorCode           string          `json:"errorCode,omitempty"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID           string          `json:"requestID"`
	EventID             string          `json:"eventID"`
	ReadOnly            bool            `json:"readOnly"`
	Resources           []Resource      `json:"resources,omitempty"`
	EventType           string          `json:"eventType"`
	ManagementEvent     bool            `json:"managementEvent"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	EventCategory       string          `json:"eventCategory"`
	TLSDetails          *TLSDetails     `json:"tlsDetails,omitempty"`
}

// UserIdentity is the record's userIdentity (spec §1.3).
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
}

// SessionContext describes temporary credentials.
type SessionContext struct {
	SessionIssuer       *SessionIssuer    `json:"sessionIssuer,omitempty"`
	WebIDFederationData *struct{}         `json:"webIdFederationData,omitempty"`
	Attributes          SessionAttributes `json:"attributes"`
	SourceIdentity      string            `json:"sourceIdentity,omitempty"`
}

// SessionIssuer is the role (or user) that issued a session.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// SessionAttributes: creationDate whole-second UTC, mfaAuthenticated the
// string "true" or "false".
type SessionAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// Resource is an entry of the record's resources (note "ARN" upper-case).
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
}

// TLSDetails describes the client's TLS connection.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// sizeHint is about the length of the record's JSON (at least it, unless
// strings need escapes): the capacity its buffer starts with, so that
// encoding it does not grow the buffer again.
func (r *Record) sizeHint() int {
	n := 420 + len(r.UserIdentity.PrincipalID) + len(r.UserIdentity.ARN) + len(r.UserIdentity.AccountID) +
		len(r.UserIdentity.AccessKeyID) + len(r.UserIdentity.UserName) + len(r.UserIdentity.InvokedBy) +
		len(r.EventTime) + len(r.EventSource) + len(r.EventName) + len(r.AWSRegion) + len(r.SourceIPAddress) + len(r.UserAgent) +
		len(r.ErrorCode) + len(r.ErrorMessage) + len(r.RequestParameters) + len(r.ResponseElements) + len(r.AdditionalEventData) +
		len(r.RequestID) + len(r.EventID) + len(r.RecipientAccountID) + len(r.EventCategory)
	if s := r.UserIdentity.SessionContext; s != nil {
		n += 200 + len(s.SourceIdentity)
		if i := s.SessionIssuer; i != nil {
			n += len(i.Type) + len(i.PrincipalID) + len(i.ARN) + len(i.AccountID) + len(i.UserName)
		}
	}
	for _, res := range r.Resources {
		n += 40 + len(res.ARN) + len(res.AccountID) + len(res.Type)
	}
	if t := r.TLSDetails; t != nil {
		n += 80 + len(t.TLSVersion) + len(t.CipherSuite) + len(t.ClientProvidedHostHeader)
	}
	return n
}

// AppendJSON appends the record's compact JSON encoding to b. It equals
// json.Marshal's (without HTML escaping) and allocates nothing beyond b's
// growth.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, r.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = r.UserIdentity.appendJSON(b)
	b = appendField(b, "eventTime", r.EventTime)
	b = appendField(b, "eventSource", r.EventSource)
	b = appendField(b, "eventName", r.EventName)
	b = appendField(b, "awsRegion", r.AWSRegion)
	b = appendField(b, "sourceIPAddress", r.SourceIPAddress)
	b = appendOpt(b, "userAgent", r.UserAgent)
	b = appendOpt(b, "errorCode", r.ErrorCode)
	b = appendOpt(b, "errorMessage", r.ErrorMessage)
	b = append(b, `,"requestParameters":`...)
	b = appendRaw(b, r.RequestParameters)
	b = append(b, `,"responseElements":`...)
	b = appendRaw(b, r.ResponseElements)
	if len(r.AdditionalEventData) > 0 {
		b = append(b, `,"additionalEventData":`...)
		b = append(b, r.AdditionalEventData...)
	}
	b = appendField(b, "requestID", r.RequestID)
	b = appendField(b, "eventID", r.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, r.ReadOnly)
	if len(r.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i, res := range r.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"ARN":`...)
			b = appendString(b, res.ARN)
			b = appendField(b, "accountId", res.AccountID)
			b = appendField(b, "type", res.Type)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendField(b, "eventType", r.EventType)
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, r.ManagementEvent)
	b = appendField(b, "recipientAccountId", r.RecipientAccountID)
	b = appendField(b, "eventCategory", r.EventCategory)
	if t := r.TLSDetails; t != nil {
		b = append(b, `,"tlsDetails":{"tlsVersion":`...)
		b = appendString(b, t.TLSVersion)
		b = appendField(b, "cipherSuite", t.CipherSuite)
		b = appendField(b, "clientProvidedHostHeader", t.ClientProvidedHostHeader)
		b = append(b, '}')
	}
	return append(b, '}')
}

func (u *UserIdentity) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, u.Type)
	b = appendOpt(b, "principalId", u.PrincipalID)
	b = appendOpt(b, "arn", u.ARN)
	b = appendOpt(b, "accountId", u.AccountID)
	b = appendOpt(b, "accessKeyId", u.AccessKeyID)
	b = appendOpt(b, "userName", u.UserName)
	if s := u.SessionContext; s != nil {
		b = append(b, `,"sessionContext":{`...)
		if i := s.SessionIssuer; i != nil {
			b = append(b, `"sessionIssuer":{"type":`...)
			b = appendString(b, i.Type)
			b = appendField(b, "principalId", i.PrincipalID)
			b = appendField(b, "arn", i.ARN)
			b = appendField(b, "accountId", i.AccountID)
			b = appendField(b, "userName", i.UserName)
			b = append(b, "},"...)
		}
		if s.WebIDFederationData != nil {
			b = append(b, `"webIdFederationData":{},`...)
		}
		b = append(b, `"attributes":{"creationDate":`...)
		b = appendString(b, s.Attributes.CreationDate)
		b = appendField(b, "mfaAuthenticated", s.Attributes.MFAAuthenticated)
		b = append(b, '}')
		b = appendOpt(b, "sourceIdentity", s.SourceIdentity)
		b = append(b, '}')
	}
	b = appendOpt(b, "invokedBy", u.InvokedBy)
	return append(b, '}')
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendOpt(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendField(b, name, v)
}

func appendRaw(b []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

// appendString appends s as a JSON string (jsonenc.AppendString).
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s) }

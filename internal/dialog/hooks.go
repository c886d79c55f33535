package dialog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"lextrail/internal/awserr"
)

// Invoker calls a code hook: the function named by an intent's code hook
// URI (a Lambda function ARN) with the messageVersion 1.0 event, returning
// the function's JSON answer. The runtime supplies one (AWS Lambda Invoke
// API, or plain HTTP URLs mapped from ARNs).
//
// An error means the function could not answer: the engine reports it as
// 424 DependencyFailedException, or 502 BadGatewayException when the error
// is a *ServiceError (the Lambda service itself failed).
type Invoker interface {
	Invoke(ctx context.Context, functionARN string, event []byte) ([]byte, error)
}

// ServiceError is a failure of the function service rather than of the
// function (Lambda answering 5xx, a transport failure).
type ServiceError struct{ Err error }

func (e *ServiceError) Error() string { return e.Err.Error() }
func (e *ServiceError) Unwrap() error { return e.Err }

// Hook limits (spec §5.6).
const (
	DefaultHookTimeout = 30 * time.Second
	MaxHookResponse    = 25 << 10
	MaxHookAttributes  = 12 << 10
)

// Event is the messageVersion 1.0 event sent to code hooks (spec §5.8).
type Event struct {
	MessageVersion          string            `json:"messageVersion"`
	InvocationSource        string            `json:"invocationSource"`
	UserID                  string            `json:"userId"`
	InputTranscript         string            `json:"inputTranscript"`
	SessionAttributes       map[string]string `json:"sessionAttributes"`
	RequestAttributes       map[string]string `json:"requestAttributes"`
	Bot                     EventBot          `json:"bot"`
	OutputDialogMode        string            `json:"outputDialogMode"`
	CurrentIntent           EventIntent       `json:"currentIntent"`
	AlternativeIntents      []EventIntent     `json:"alternativeIntents,omitempty"`
	RecentIntentSummaryView []IntentSummary   `json:"recentIntentSummaryView"`
	SentimentResponse       *Sentiment        `json:"sentimentResponse,omitempty"`
	ActiveContexts          []ActiveContext   `json:"activeContexts"`
}

// EventBot names the bot in an Event.
type EventBot struct {
	Name    string `json:"name"`
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// EventIntent is currentIntent / an alternative intent of an Event.
type EventIntent struct {
	Name                     string                 `json:"name"`
	NluIntentConfidenceScore *float64               `json:"nluIntentConfidenceScore"`
	Slots                    map[string]*string     `json:"slots"`
	SlotDetails              map[string]*SlotDetail `json:"slotDetails"`
	ConfirmationStatus       string                 `json:"confirmationStatus"`
}

// hookResponse is a code hook's answer.
type hookResponse struct {
	SessionAttributes       json.RawMessage `json:"sessionAttributes"`
	RecentIntentSummaryView json.RawMessage `json:"recentIntentSummaryView"`
	ActiveContexts          json.RawMessage `json:"activeContexts"`
	DialogAction            *hookAction     `json:"dialogAction"`
}

type hookAction struct {
	Type             string                     `json:"type"`
	FulfillmentState string                     `json:"fulfillmentState"`
	Message          *hookMessage               `json:"message"`
	ResponseCard     json.RawMessage            `json:"responseCard"`
	IntentName       string                     `json:"intentName"`
	Slots            map[string]json.RawMessage `json:"slots"`
	SlotToElicit     string                     `json:"slotToElicit"`
}

type hookMessage struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// dependencyFailed is 424 DependencyFailedException (its message member
// is "Message" on the wire; the codec knows).
func dependencyFailed(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusFailedDependency, "DependencyFailedException", format, args...)
}

func badGateway(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadGateway, "BadGatewayException", format, args...)
}

// invoke calls a code hook and decodes its answer.
func (t *turn) invoke(hook *CodeHook, source string) (*hookResponse, error) {
	if t.e.cfg.Hooks == nil {
		return nil, dependencyFailed("Lex is unable to access the Lambda function %s in the context of intent %s: no code hook invoker is configured.", hook.URI, t.s.Intent.Name)
	}
	t.hookCalls++
	if t.hookCalls > maxHookCalls {
		return nil, awserr.New(http.StatusLoopDetected, "LoopDetectedException", "The code hooks of this turn were invoked %d times; the dialog is looping.", maxHookCalls)
	}
	ev := t.event(source)
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(t.ctx, t.e.cfg.HookTimeout)
	defer cancel()
	start := time.Now()
	out, err := t.e.cfg.Hooks.Invoke(ctx, hook.URI, body)
	if t.e.cfg.OnHook != nil {
		t.e.cfg.OnHook(hook.URI, source, time.Since(start), err)
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, dependencyFailed("Invalid Lambda Response: The Lambda function %s did not answer within %v.", hook.URI, t.e.cfg.HookTimeout)
		}
		var se *ServiceError
		if errors.As(err, &se) {
			return nil, badGateway("The Lambda service failed invoking %s: %v", hook.URI, se.Err)
		}
		return nil, dependencyFailed("Invalid Lambda Response: %v", err)
	}
	if len(out) > MaxHookResponse {
		return nil, dependencyFailed("Invalid Lambda Response: the response is %d bytes; the limit is %d.", len(out), MaxHookResponse)
	}
	var r hookResponse
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&r); err != nil {
		return nil, dependencyFailed("Invalid Lambda Response: Received invalid response from Lambda: %v", err)
	}
	if r.DialogAction == nil {
		return nil, dependencyFailed("Invalid Lambda Response: Received invalid response from Lambda: dialogAction is missing.")
	}
	return &r, nil
}

const maxHookCalls = 10

// event builds the messageVersion 1.0 event for the current intent.
func (t *turn) event(source string) *Event {
	in := t.s.Intent
	ev := &Event{
		MessageVersion: "1.0", InvocationSource: source, UserID: t.in.UserID, InputTranscript: t.in.Text,
		SessionAttributes: t.s.Attributes, RequestAttributes: t.in.RequestAttributes,
		Bot:              EventBot{Name: t.b.Name, Alias: t.in.Alias, Version: t.b.Version},
		OutputDialogMode: t.in.OutputDialogMode, RecentIntentSummaryView: t.s.Recent, ActiveContexts: t.s.ActiveContexts(t.in.Now),
		SentimentResponse: t.sentiment,
	}
	if ev.SessionAttributes == nil {
		ev.SessionAttributes = map[string]string{}
	}
	if len(ev.RequestAttributes) == 0 {
		ev.RequestAttributes = nil
	}
	if ev.OutputDialogMode == "" {
		ev.OutputDialogMode = "Text"
	}
	if ev.RecentIntentSummaryView == nil {
		ev.RecentIntentSummaryView = []IntentSummary{}
	}
	details := make(map[string]*SlotDetail, len(in.Slots))
	for k, v := range in.Slots {
		if d, ok := in.Details[k]; ok {
			details[k] = d
		} else if v != nil {
			details[k] = &SlotDetail{Resolutions: []Resolution{{Value: *v}}, OriginalValue: new(*v)}
		}
	}
	ev.CurrentIntent = EventIntent{Name: in.Name, NluIntentConfidenceScore: in.Confidence, Slots: in.Slots, SlotDetails: details, ConfirmationStatus: in.Confirmation}
	if t.b.EnableModelImprovements {
		for _, a := range t.alternatives(in.Name) {
			ei := EventIntent{Name: a.IntentName, Slots: a.Slots, SlotDetails: map[string]*SlotDetail{}, ConfirmationStatus: ConfirmNone}
			if a.NluIntentConfidence != nil {
				ei.NluIntentConfidenceScore = &a.NluIntentConfidence.Score
			}
			ev.AlternativeIntents = append(ev.AlternativeIntents, ei)
		}
	}
	return ev
}

// applyHookState applies a hook answer's sessionAttributes (replace),
// recentIntentSummaryView (replace) and activeContexts (set by name).
func (t *turn) applyHookState(r *hookResponse) error {
	if len(r.SessionAttributes) > 0 && string(r.SessionAttributes) != "null" {
		m, err := stringMap(r.SessionAttributes)
		if err != nil {
			return dependencyFailed("Invalid Lambda Response: sessionAttributes: %v", err)
		}
		if n := attrSize(m); n > MaxHookAttributes {
			return dependencyFailed("Invalid Lambda Response: the session attributes are %d bytes; the limit is %d.", n, MaxHookAttributes)
		}
		t.s.Attributes = m
	}
	if len(r.RecentIntentSummaryView) > 0 && string(r.RecentIntentSummaryView) != "null" {
		var v []IntentSummary
		if err := json.Unmarshal(r.RecentIntentSummaryView, &v); err != nil {
			return dependencyFailed("Invalid Lambda Response: recentIntentSummaryView: %v", err)
		}
		if len(v) > maxRecent {
			v = v[:maxRecent]
		}
		t.s.Recent = v
		t.recentSet = true
	}
	if len(r.ActiveContexts) > 0 && string(r.ActiveContexts) != "null" {
		var acs []ActiveContext
		if err := json.Unmarshal(r.ActiveContexts, &acs); err != nil {
			return dependencyFailed("Invalid Lambda Response: activeContexts: %v", err)
		}
		for _, ac := range acs {
			if err := CheckContext(ac); err != nil {
				return dependencyFailed("Invalid Lambda Response: activeContexts: %s", err.Message)
			}
			t.s.putContext(ac, t.in.Now)
			t.fresh[ac.Name] = true
		}
	}
	return nil
}

// stringMap decodes a JSON object of scalars into strings (numbers and
// booleans are kept as their JSON text; null values are dropped).
func stringMap(raw json.RawMessage) (map[string]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok, err := scalar(v)
		if err != nil {
			return nil, fmt.Errorf("value of %q: %v", k, err)
		}
		if ok {
			out[k] = s
		}
	}
	return out, nil
}

func scalar(v json.RawMessage) (string, bool, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", false, nil
	case v[0] == '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err == nil, err
	case v[0] == '{' || v[0] == '[':
		return "", false, errors.New("must be a string")
	}
	if _, err := strconv.ParseFloat(string(v), 64); err == nil || string(v) == "true" || string(v) == "false" {
		return string(v), true, nil
	}
	return "", false, errors.New("must be a string")
}

func attrSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

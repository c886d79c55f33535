package sns

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// RetryPolicy is SNS's healthyRetryPolicy: how often and how far apart a
// failed delivery is retried. Retries go through four phases, as SNS
// documents them: numNoDelayRetries immediately, numMinDelayRetries
// minDelayTarget seconds apart, a backoff phase whose delays grow from
// minDelayTarget to maxDelayTarget (linearly or exponentially), then
// numMaxDelayRetries maxDelayTarget apart; numRetries counts them all.
// lextrail adds no jitter, so the schedule is exact.
type RetryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// DefaultRetryPolicy is lextrail's retry policy for topics without a
// DeliveryPolicy: 10 retries with exponential backoff from 1 s to 60 s
// (about 2.7 minutes in all). AWS's own default is 3 retries 20 s apart;
// set a topic DeliveryPolicy to get that.
var DefaultRetryPolicy = RetryPolicy{MinDelayTarget: 1, MaxDelayTarget: 60, NumRetries: 10, BackoffFunction: "exponential"}

// Limits of a retry policy (AWS's).
const (
	maxRetries        = 100
	maxDelaySeconds   = 3600
	maxTotalRetryTime = 3600 * time.Second
)

// deliveryPolicy is a topic's DeliveryPolicy document (only its "http"
// part applies: lextrail delivers to http and https endpoints).
type deliveryPolicy struct {
	HTTP *httpDeliveryPolicy `json:"http,omitempty"`
}

type httpDeliveryPolicy struct {
	DefaultHealthyRetryPolicy    *RetryPolicy    `json:"defaultHealthyRetryPolicy,omitempty"`
	DisableSubscriptionOverrides bool            `json:"disableSubscriptionOverrides"`
	DefaultThrottlePolicy        *throttlePolicy `json:"defaultThrottlePolicy,omitempty"`
	DefaultRequestPolicy         *requestPolicy  `json:"defaultRequestPolicy,omitempty"`
}

type throttlePolicy struct {
	MaxReceivesPerSecond int `json:"maxReceivesPerSecond"`
}

type requestPolicy struct {
	HeaderContentType string `json:"headerContentType"`
}

// defaultContentType is the Content-Type of deliveries (SNS's).
const defaultContentType = "text/plain; charset=UTF-8"

// effective is what deliveries use: the topic's policy with lextrail's
// defaults filled in.
type effective struct {
	Retry       RetryPolicy
	MaxPerSec   int // 0: unthrottled
	ContentType string
}

// parseDeliveryPolicy validates a DeliveryPolicy attribute value; the
// empty string is the default policy.
func parseDeliveryPolicy(doc string) (effective, error) {
	e := effective{Retry: DefaultRetryPolicy, ContentType: defaultContentType}
	if doc == "" {
		return e, nil
	}
	bad := func(format string, args ...any) (effective, error) {
		return effective{}, invalidParameter("Invalid parameter: DeliveryPolicy: "+format, args...)
	}
	var dp deliveryPolicy
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&dp); err != nil {
		return bad("%s", describeJSON(err))
	}
	if dec.More() {
		return bad("unexpected data after the JSON object")
	}
	if dp.HTTP == nil {
		return e, nil
	}
	if r := dp.HTTP.DefaultHealthyRetryPolicy; r != nil {
		if err := checkRetryPolicy(r); err != nil {
			return bad("%s", err.Error())
		}
		e.Retry = *r
		if e.Retry.BackoffFunction == "" {
			e.Retry.BackoffFunction = "linear"
		}
	}
	if t := dp.HTTP.DefaultThrottlePolicy; t != nil {
		if t.MaxReceivesPerSecond < 1 {
			return bad("maxReceivesPerSecond must be at least 1")
		}
		e.MaxPerSec = t.MaxReceivesPerSecond
	}
	if r := dp.HTTP.DefaultRequestPolicy; r != nil && r.HeaderContentType != "" {
		ct := r.HeaderContentType
		if i := strings.IndexByte(ct, '/'); i <= 0 || i == len(ct)-1 || len(ct) > 256 || strings.ContainsAny(ct, "\r\n") {
			return bad("headerContentType %q is not a media type", ct)
		}
		e.ContentType = ct
	}
	return e, nil
}

func describeJSON(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "the document is not valid JSON"
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be a JSON %s", te.Field, jsonKind(te.Type.Kind().String()))
	}
	s := err.Error()
	if strings.HasPrefix(s, "json: unknown field ") {
		return "unknown field " + strings.TrimPrefix(s, "json: unknown field ")
	}
	return "the document is not valid JSON"
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "string":
		return "string"
	}
	return "object"
}

func checkRetryPolicy(r *RetryPolicy) error {
	switch {
	case r.MinDelayTarget < 1:
		return fmt.Errorf("minDelayTarget must be at least 1")
	case r.MaxDelayTarget < r.MinDelayTarget:
		return fmt.Errorf("maxDelayTarget must be greater than or equal to minDelayTarget")
	case r.MaxDelayTarget > maxDelaySeconds:
		return fmt.Errorf("maxDelayTarget must be at most %d", maxDelaySeconds)
	case r.NumRetries < 0 || r.NumRetries > maxRetries:
		return fmt.Errorf("numRetries must be between 0 and %d", maxRetries)
	case r.NumNoDelayRetries < 0 || r.NumMinDelayRetries < 0 || r.NumMaxDelayRetries < 0:
		return fmt.Errorf("retry counts must not be negative")
	case r.NumNoDelayRetries+r.NumMinDelayRetries+r.NumMaxDelayRetries > r.NumRetries:
		return fmt.Errorf("numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries must not add up to more than numRetries")
	}
	switch r.BackoffFunction {
	case "", "linear", "exponential":
	case "arithmetic", "geometric":
		return fmt.Errorf("backoffFunction %s is not supported by lextrail (linear and exponential are)", r.BackoffFunction)
	default:
		return fmt.Errorf("backoffFunction must be linear or exponential")
	}
	if total := r.Total(); total > maxTotalRetryTime {
		return fmt.Errorf("the total retry time %s exceeds %s", total, maxTotalRetryTime)
	}
	return nil
}

// Delay is the wait before retry k (1-based).
func (r RetryPolicy) Delay(k int) time.Duration {
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	min, max := float64(r.MinDelayTarget), float64(r.MaxDelayTarget)
	switch {
	case k <= r.NumNoDelayRetries:
		return 0
	case k <= r.NumNoDelayRetries+r.NumMinDelayRetries:
		return sec(min)
	case k > r.NumRetries-r.NumMaxDelayRetries:
		return sec(max)
	}
	n := r.NumRetries - r.NumNoDelayRetries - r.NumMinDelayRetries - r.NumMaxDelayRetries
	i := k - r.NumNoDelayRetries - r.NumMinDelayRetries - 1 // 0 .. n-1
	frac := 0.0
	if n > 1 {
		frac = float64(i) / float64(n-1)
	}
	var d float64
	if r.BackoffFunction == "exponential" {
		d = min * math.Pow(max/min, frac)
	} else {
		d = min + (max-min)*frac
	}
	return sec(math.Round(d*1000) / 1000)
}

// Total is the sum of the policy's retry delays.
func (r RetryPolicy) Total() time.Duration {
	var total time.Duration
	for k := 1; k <= r.NumRetries; k++ {
		total += r.Delay(k)
	}
	return total
}

// effectiveJSON is EffectiveDeliveryPolicy: the policy deliveries follow.
func (e effective) effectiveJSON() string {
	hp := httpDeliveryPolicy{
		DefaultHealthyRetryPolicy: &e.Retry,
		DefaultRequestPolicy:      &requestPolicy{HeaderContentType: e.ContentType},
	}
	if e.MaxPerSec > 0 {
		hp.DefaultThrottlePolicy = &throttlePolicy{MaxReceivesPerSecond: e.MaxPerSec}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(deliveryPolicy{HTTP: &hp})
	return strings.TrimSpace(b.String())
}

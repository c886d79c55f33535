// Package awsjson is the awsJson1_1 wire protocol (CloudTrail, CloudWatch
// Logs): POST / with X-Amz-Target "<TargetPrefix>.<Operation>" (or only
// the prefix's last component, as aws-sdk-go-v2 sends for CloudTrail), JSON
// bodies both ways, errors as {"__type": code, "message": text}.
//
// Malformed input:
//
//   - missing or unknown X-Amz-Target: 400 UnknownOperationException (what
//     AWS JSON services answer);
//   - a method other than POST: 405 UnknownOperationException (the target
//     names no operation reachable that way);
//   - invalid JSON, a non-object body or a member of the wrong JSON type:
//     400 SerializationException, naming the member and the expected type.
//
// Unknown body keys are ignored; an empty body is {}.
package awsjson

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/protocol/internal/wire"
)

// ContentType is the media type of awsJson1_1 responses.
const ContentType = "application/x-amz-json-1.1"

// Codec implements protocol.Codec for awsJson1_1. The zero value is ready.
type Codec struct{}

var _ protocol.Codec = Codec{}

// Route finds the operation named by X-Amz-Target.
func (Codec) Route(svc *catalog.Service, r *http.Request, _ []byte) (*catalog.Operation, protocol.Labels, error) {
	target := r.Header.Get("X-Amz-Target")
	if target == "" {
		return nil, nil, awserr.New(http.StatusBadRequest, "UnknownOperationException",
			"The request lacks the X-Amz-Target header naming the operation.")
	}
	// The operation is what follows the last dot.
	var op *catalog.Operation
	name := target
	if i := strings.LastIndexByte(target, '.'); i >= 0 && PrefixMatches(svc.TargetPrefix, target[:i]) {
		name = target[i+1:]
		op = svc.Op(name)
	}
	if op == nil {
		return nil, nil, awserr.New(http.StatusBadRequest, "UnknownOperationException",
			"Unknown operation %s.", quoteTrunc(target))
	}
	if r.Method != http.MethodPost {
		return nil, nil, awserr.New(http.StatusMethodNotAllowed, "UnknownOperationException",
			"Operation %s must be called with POST, not %s.", name, quoteTrunc(r.Method))
	}
	return op, nil, nil
}

// PrefixMatches reports whether a request's target prefix names the
// service whose TargetPrefix is full. Clients disagree on the form:
// botocore sends the model's full prefix
// ("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101") while
// aws-sdk-go-v2 sends only its last component ("CloudTrail_20131101");
// both are accepted.
func PrefixMatches(full, got string) bool {
	if got == "" || full == "" {
		return false
	}
	if got == full {
		return true
	}
	return strings.HasSuffix(full, got) && full[len(full)-len(got)-1] == '.' && !strings.Contains(got, ".")
}

func quoteTrunc(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// Decode unmarshals the JSON body into in.
func (Codec) Decode(op *catalog.Operation, _ *http.Request, _ protocol.Labels, body []byte, in any) error {
	if err := wire.DecodeJSON(body, in); err != nil {
		return &awserr.Error{Code: "SerializationException", Status: http.StatusBadRequest,
			Message: wire.DescribeJSONError(err, reflect.TypeOf(in)), Err: err}
	}
	return nil
}

// Encode writes a 200 with out as the JSON body ({} for nil).
func (Codec) Encode(w http.ResponseWriter, c *catalog.Call, out any) error {
	body := []byte("{}")
	if !isNil(out) {
		b, err := wire.MarshalJSON(out)
		if err != nil {
			return err
		}
		body = b
	}
	h := w.Header()
	wire.CopyHeader(h, c.Header)
	h.Set(protocol.RequestIDHeader, c.RequestID)
	h.Set("Content-Type", ContentType)
	status := http.StatusOK
	if c.Status != 0 {
		status = c.Status
	}
	return wire.Write(w, status, ContentType, body)
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// EncodeError writes e as {"__type":code,"message":text,...Fields} with
// e's status, also naming the code in X-Amzn-ErrorType (SDKs prefer the
// header). aws-sdk-go-v2 (cloudtrail v1.56.0 deserializers) and botocore
// both read "message" or "Message", so only "message" is sent.
func (Codec) EncodeError(w http.ResponseWriter, _ *catalog.Service, requestID string, e *awserr.Error) {
	m := make(map[string]any, len(e.Fields)+2)
	for k, v := range e.Fields {
		m[k] = v
	}
	m["__type"] = e.Code
	if !e.OmitMessage {
		m["message"] = e.Message
	}
	body, err := wire.MarshalJSON(m)
	if err != nil {
		// A Fields value that cannot be marshalled: drop the fields.
		body, _ = wire.MarshalJSON(map[string]string{"__type": e.Code, "message": e.Message})
	}
	h := w.Header()
	wire.CopyHeader(h, e.Header)
	h.Set(protocol.RequestIDHeader, requestID)
	h.Set("X-Amzn-ErrorType", e.Code)
	h.Set("Content-Type", ContentType)
	_ = wire.Write(w, wire.ErrorStatus(e.Status), ContentType, body)
}

// Package restjson is the rest-json wire protocol (Lex model building and
// runtime): operations are bound to URI templates, members to URI labels,
// query parameters, headers or the JSON body (see package protocol for the
// tags); errors name their code in x-amzn-ErrorType.
//
// Routing: each operation's HTTP binding "METHOD /a/{label}/b/{greedy+}?key"
// is compiled once per service. The escaped request path is split on "/"
// and each segment percent-decoded afterwards, so %2F stays inside its
// segment and the template literal $LATEST matches $LATEST and %24LATEST;
// a trailing slash is optional (botocore sends /bots/, aws-sdk-go-v2
// /bots); "?key" requires the query key, "?key=value" that value.
//
// Malformed input (Lex's documented error for invalid input is
// BadRequestException, and it is what rest-json Lex answers for anything
// it cannot read):
//
//   - no route matches the path: 404 UnknownOperationException;
//   - the path matches but not the method: 405 MethodNotAllowedException;
//   - a path that is not valid percent-encoding: 400 BadRequestException;
//   - invalid JSON or a member of the wrong JSON type: 400
//     BadRequestException naming the member and the expected type;
//   - a label, query parameter or header that does not convert (a number,
//     boolean, timestamp, or a jsonvalue header that is not base64 JSON):
//     400 BadRequestException.
//
// The request Content-Type is ignored, an empty body is {} and unknown
// body keys are ignored; an empty query parameter value is absent.
package restjson

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/protocol/internal/wire"
)

// ContentType of JSON bodies.
const ContentType = "application/json"

// Codec implements protocol.Codec for rest-json. The zero value is ready.
type Codec struct{}

var _ protocol.Codec = Codec{}

func badRequest(msg string, err error) *awserr.Error {
	return &awserr.Error{Code: "BadRequestException", Status: http.StatusBadRequest, Message: msg, Err: err}
}

// Route matches the request against svc's URI templates.
func (Codec) Route(svc *catalog.Service, r *http.Request, _ []byte) (*catalog.Operation, protocol.Labels, error) {
	m, err := wire.RouterFor(svc).Match(r)
	switch {
	case err != nil:
		return nil, nil, awserr.Internal(err)
	case m.Route != nil:
		return m.Route.Op, m.Labels, nil
	case m.BadPath:
		return nil, nil, badRequest("The request path is not valid percent-encoding.", nil)
	case m.PathOnly:
		return nil, nil, awserr.New(http.StatusMethodNotAllowed, "MethodNotAllowedException",
			"The method %s is not allowed for this resource.", trunc(r.Method))
	}
	return nil, nil, awserr.New(http.StatusNotFound, "UnknownOperationException",
		"No operation matches %s %s.", trunc(r.Method), trunc(r.URL.EscapedPath()))
}

func trunc(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

func structValue(x any) (reflect.Value, bool) {
	v := reflect.ValueOf(x)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	return v.Elem(), true
}

// Decode fills in from the labels, query, headers and body.
func (Codec) Decode(op *catalog.Operation, r *http.Request, labels protocol.Labels, body []byte, in any) error {
	v, ok := structValue(in)
	if !ok {
		return awserr.Internal(fmt.Errorf("restjson: decode into %T", in))
	}
	info := wire.InfoOf(v.Type())
	if info.Err != nil {
		return awserr.Internal(info.Err)
	}
	if p := info.Payload; p != nil {
		if !wire.SetPayload(p, v, r, body) {
			fv := v.Field(p.Index)
			ptr := reflect.New(fv.Type())
			if err := wire.DecodeJSON(body, ptr.Interface()); err != nil {
				return badRequest(wire.DescribeJSONError(err, fv.Type()), err)
			}
			fv.Set(ptr.Elem())
		}
	} else if info.HasBody() {
		dst := info.NewBody(v)
		if err := wire.DecodeJSON(body, dst); err != nil {
			return badRequest(wire.DescribeJSONError(err, reflect.TypeOf(dst)), err)
		}
		info.Commit(v, dst)
	}
	if err := wire.DecodeLocated(info, v, r, labels); err != nil {
		var bv *wire.BadValue
		if errors.As(err, &bv) {
			return badRequest(bv.Error(), err)
		}
		return awserr.Internal(err)
	}
	return nil
}

// Encode writes out: header/headers/statusCode members into the response
// head, a payload member raw (or as JSON for a structure), or the body
// members as a JSON object. The status is a statusCode member's, else
// c.Status, else the operation's. 204 and HEAD responses have no body.
func (Codec) Encode(w http.ResponseWriter, c *catalog.Call, out any) error {
	h := w.Header()
	status := c.Op.Status
	if c.Status != 0 {
		status = c.Status
	}
	body := []byte("{}")
	ct := ContentType
	var stream io.ReadCloser
	if v, ok := structValue(out); ok {
		info := wire.InfoOf(v.Type())
		if info.Err != nil {
			return info.Err
		}
		st, err := wire.EncodeLocated(info, v, h)
		if err != nil {
			return err
		}
		if st != 0 {
			status = st
		}
		if p := info.Payload; p != nil {
			b, rc, raw := wire.RawPayload(p, v)
			switch {
			case raw:
				body, stream, ct = b, rc, "application/octet-stream"
			default:
				fv := v.Field(p.Index)
				if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Map || fv.Kind() == reflect.Slice || fv.Kind() == reflect.Interface) && fv.IsNil() {
					body = nil
				} else if body, err = wire.MarshalJSON(fv.Interface()); err != nil {
					return err
				}
			}
		} else if info.HasBody() {
			if body, err = wire.MarshalJSON(info.BodyValue(v)); err != nil {
				return err
			}
		}
	} else if out != nil && reflect.ValueOf(out).Kind() != reflect.Pointer {
		return fmt.Errorf("restjson: cannot encode %T", out)
	}
	wire.CopyHeader(h, c.Header)
	h.Set(protocol.RequestIDHeader, c.RequestID)
	if status == 0 {
		status = http.StatusOK
	}
	noBody := status == http.StatusNoContent || status == http.StatusNotModified ||
		(c.Request != nil && c.Request.Method == http.MethodHead)
	if stream != nil {
		defer stream.Close()
		if noBody {
			w.WriteHeader(status)
			return nil
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", ct)
		}
		w.WriteHeader(status)
		_, err := io.Copy(w, stream)
		return err
	}
	if noBody {
		w.WriteHeader(status)
		return nil
	}
	return wire.Write(w, status, ct, body)
}

// capitalMessage are the Lex errors whose message member is "Message"
// (lex-runtime BadGateway, DependencyFailed and LoopDetected); every other
// Lex error's is "message".
var capitalMessage = map[string]bool{
	"BadGatewayException":       true,
	"DependencyFailedException": true,
	"LoopDetectedException":     true,
}

// EncodeError writes e with x-amzn-ErrorType: <code>, x-amzn-RequestId,
// e.Header, and a JSON body {"message": text} (omitted with OmitMessage;
// "Message" for the codes in capitalMessage) merged with e.Fields.
func (Codec) EncodeError(w http.ResponseWriter, _ *catalog.Service, requestID string, e *awserr.Error) {
	m := make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		m[k] = v
	}
	if !e.OmitMessage {
		key := "message"
		if capitalMessage[e.Code] {
			key = "Message"
		}
		m[key] = e.Message
	}
	body, err := wire.MarshalJSON(m)
	if err != nil {
		body, _ = wire.MarshalJSON(map[string]string{"message": e.Message})
	}
	h := w.Header()
	wire.CopyHeader(h, e.Header)
	h.Set(protocol.RequestIDHeader, requestID)
	h.Set("X-Amzn-ErrorType", e.Code)
	h.Set("Content-Type", ContentType)
	_ = wire.Write(w, wire.ErrorStatus(e.Status), ContentType, body)
}

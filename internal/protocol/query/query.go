// Package query is the AWS query wire protocol (STS, IAM, SNS): requests
// are URL-encoded forms (a POST body merged with the URL query; GET works
// too) naming the operation in Action=, responses are XML
// <{Op}Response><{Op}Result>…</{Op}Result><ResponseMetadata>…</…>.
//
// Input members are named by their Go field name or a `query:"Name"` tag.
// Scalars are string, bool, integers, floats, []byte (base64),
// protocol.Time / time.Time (ISO 8601), encoding.TextUnmarshaler and
// pointers to those; lists are Name.member.N (1-based, ending at the
// first missing N; a bare "Name=" is an empty list); maps are
// Name.entry.N.key / Name.entry.N.value; nested structures Name.Field.
// Tag options: `query:"Name,flattened"` drops the .member / .entry step
// (Name.N, Name.N.key); `key=K` and `value=V` rename a map entry's key and
// value members (SNS MessageAttributes use key=Name,value=Value);
// `query:"-"` skips a field. Unknown parameters are ignored.
//
// Malformed input (codes from the AWS query common errors):
//
//   - no Action: 400 MissingAction;
//   - an unknown Action, or a Version other than the service's APIVersion:
//     400 InvalidAction "Could not find operation X for version Y" (what
//     STS/IAM/SNS answer);
//   - a method other than GET or POST: 405 InvalidAction;
//   - a form that is not valid URL encoding: 400 MalformedQueryString;
//   - a value that does not convert (a number, boolean, timestamp or
//     base64 member): 400 InvalidParameterValue ("An invalid or
//     out-of-range value was supplied for the input parameter"). Model
//     constraint failures (length, pattern, range) are the operations'
//     business and use ValidationError there.
package query

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"reflect"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/protocol/internal/wire"
)

// ContentType of query responses.
const ContentType = "text/xml"

// Codec implements protocol.Codec for the query protocol. The zero value
// is ready.
type Codec struct{}

var _ protocol.Codec = Codec{}

// Form parses the request's parameters: the URL query plus, for POST, the
// body (whatever its declared content type).
func Form(r *http.Request, body []byte) (url.Values, error) {
	form, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return form, err
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		b, err := url.ParseQuery(string(body))
		for k, vs := range b {
			form[k] = append(form[k], vs...)
		}
		if err != nil {
			return form, err
		}
	}
	return form, nil
}

func malformed(err error) *awserr.Error {
	return &awserr.Error{Code: "MalformedQueryString", Status: http.StatusBadRequest,
		Message: "The request parameters are not a valid URL-encoded form.", Err: err}
}

// Route finds the operation named by Action=.
func (Codec) Route(svc *catalog.Service, r *http.Request, body []byte) (*catalog.Operation, protocol.Labels, error) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, nil, awserr.New(http.StatusMethodNotAllowed, "InvalidAction",
			"Query API operations are called with GET or POST, not %s.", trunc(r.Method))
	}
	form, err := Form(r, body)
	if err != nil {
		return nil, nil, malformed(err)
	}
	action := form.Get("Action")
	if action == "" {
		return nil, nil, awserr.New(http.StatusBadRequest, "MissingAction", "Missing Action")
	}
	version := form.Get("Version")
	if version == "" {
		version = svc.APIVersion
	}
	op := svc.Op(action)
	if op == nil || version != svc.APIVersion {
		return nil, nil, awserr.New(http.StatusBadRequest, "InvalidAction",
			"Could not find operation %s for version %s", trunc(action), trunc(version))
	}
	return op, nil, nil
}

func trunc(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}

// Decode fills in from the form.
func (Codec) Decode(op *catalog.Operation, r *http.Request, _ protocol.Labels, body []byte, in any) error {
	form, err := Form(r, body)
	if err != nil {
		return malformed(err)
	}
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return awserr.Internal(fmt.Errorf("query: decode into %T", in))
	}
	d := decoder{form: form}
	if err := d.structure(v.Elem(), ""); err != nil {
		return err
	}
	return nil
}

// Encode writes <{Op}Response xmlns=…><{Op}Result>out</{Op}Result>
// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
// </{Op}Response>; the Result element is left out when out is nil. out's
// fields are marshalled with encoding/xml under the Result element.
func (Codec) Encode(w http.ResponseWriter, c *catalog.Call, out any) error {
	name := c.Op.Name
	ns := ""
	if svc := c.Op.Service(); svc != nil {
		ns = svc.XMLNamespace
	}
	var buf bytes.Buffer
	buf.WriteString("<")
	buf.WriteString(name)
	buf.WriteString("Response")
	writeXMLNS(&buf, ns)
	buf.WriteString(">")
	if !isNil(out) {
		enc := xml.NewEncoder(&buf)
		if err := enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: name + "Result"}}); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
	}
	buf.WriteString("<ResponseMetadata><RequestId>")
	xml.EscapeText(&buf, []byte(c.RequestID))
	buf.WriteString("</RequestId></ResponseMetadata></")
	buf.WriteString(name)
	buf.WriteString("Response>")
	h := w.Header()
	wire.CopyHeader(h, c.Header)
	h.Set(protocol.RequestIDHeader, c.RequestID)
	h.Set("Content-Type", ContentType)
	status := http.StatusOK
	if c.Status != 0 {
		status = c.Status
	}
	return wire.Write(w, status, ContentType, buf.Bytes())
}

func writeXMLNS(buf *bytes.Buffer, ns string) {
	if ns == "" {
		return
	}
	buf.WriteString(` xmlns="`)
	xml.EscapeText(buf, []byte(ns))
	buf.WriteString(`"`)
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// EncodeError writes
//
//	<ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code>…</Code>
//	<Message>…</Message>[Fields…]</Error><RequestId>…</RequestId></ErrorResponse>
//
// (Receiver for 5xx), the shape botocore's query parser and
// aws-sdk-go-v2's awsxml.GetErrorResponseComponents read.
func (Codec) EncodeError(w http.ResponseWriter, svc *catalog.Service, requestID string, e *awserr.Error) {
	status := wire.ErrorStatus(e.Status)
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	var buf bytes.Buffer
	buf.WriteString("<ErrorResponse")
	if svc != nil {
		writeXMLNS(&buf, svc.XMLNamespace)
	}
	buf.WriteString("><Error><Type>")
	buf.WriteString(typ)
	buf.WriteString("</Type><Code>")
	xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString("</Code><Message>")
	xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString("</Message>")
	wire.WriteXMLFields(&buf, e.Fields)
	buf.WriteString("</Error><RequestId>")
	xml.EscapeText(&buf, []byte(requestID))
	buf.WriteString("</RequestId></ErrorResponse>")
	h := w.Header()
	wire.CopyHeader(h, e.Header)
	h.Set(protocol.RequestIDHeader, requestID)
	h.Set("Content-Type", ContentType)
	_ = wire.Write(w, status, ContentType, buf.Bytes())
}

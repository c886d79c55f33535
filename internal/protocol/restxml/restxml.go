// Package restxml is the rest-xml wire protocol as S3 speaks it,
// path-style only: GET /{Bucket}?policy, PUT /{Bucket}/{Key+}, GET /.
//
// Routing: bindings are compiled once per service. The bucket is the first
// path segment (percent-decoded); a greedy label {Key+} takes the rest of
// the escaped path percent-decoded once, with nothing cleaned ("//", "."
// and a trailing "/" are part of S3 keys). "?x" requires query key x,
// "?x=v" that value; among matching routes the one with the most required
// keys wins, then non-greedy over greedy, then more literal segments.
//
// Members bind as in restjson (uri, querystring, header, headers,
// statusCode, payload). A payload member that is a structure is the XML
// request/response document; so are body members (untagged fields) when
// there is no payload member (the output struct's XMLName names the root
// element, e.g. ListBucketResult).
//
// Malformed input, with S3's codes:
//
//   - a path that is not valid percent-encoding: 400 InvalidURI;
//   - the path matches a route but not the method: 405 MethodNotAllowed;
//   - nothing matches: 501 NotImplemented (an S3 feature lextrail does not
//     serve);
//   - a query parameter, header or label that does not convert: 400
//     InvalidArgument with ArgumentName/ArgumentValue fields, like S3;
//   - an XML body that does not parse: 400 MalformedXML.
//
// Responses carry x-amz-request-id and x-amz-id-2; errors are
// <Error><Code/><Message/>[Fields…]<RequestId/><HostId/></Error>.
package restxml

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
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

// ContentType of XML documents.
const ContentType = "application/xml"

// XMLHeader starts every XML document lextrail sends for S3.
const XMLHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// Codec implements protocol.Codec for S3's rest-xml. The zero value is
// ready.
type Codec struct{}

var _ protocol.Codec = Codec{}

// Route matches the request against svc's bindings.
func (Codec) Route(svc *catalog.Service, r *http.Request, _ []byte) (*catalog.Operation, protocol.Labels, error) {
	m, err := wire.RouterFor(svc).Match(r)
	switch {
	case err != nil:
		return nil, nil, awserr.Internal(err)
	case m.Route != nil:
		return m.Route.Op, m.Labels, nil
	case m.BadPath:
		return nil, nil, awserr.New(http.StatusBadRequest, "InvalidURI", "Couldn't parse the specified URI.")
	case m.PathOnly:
		return nil, nil, awserr.New(http.StatusMethodNotAllowed, "MethodNotAllowed",
			"The specified method is not allowed against this resource.").With("Method", trunc(r.Method))
	}
	return nil, nil, awserr.New(http.StatusNotImplemented, "NotImplemented",
		"A header or query parameter you provided implies functionality that is not implemented.")
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

func malformedXML(err error) *awserr.Error {
	return &awserr.Error{Code: "MalformedXML", Status: http.StatusBadRequest,
		Message: "The XML you provided was not well-formed or did not validate against our published schema.", Err: err}
}

func decodeXML(body []byte, ptr any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := xml.Unmarshal(body, ptr); err != nil {
		return malformedXML(err)
	}
	return nil
}

// Decode fills in from the labels, query, headers and body.
func (Codec) Decode(op *catalog.Operation, r *http.Request, labels protocol.Labels, body []byte, in any) error {
	v, ok := structValue(in)
	if !ok {
		return awserr.Internal(fmt.Errorf("restxml: decode into %T", in))
	}
	info := wire.InfoOf(v.Type())
	if info.Err != nil {
		return awserr.Internal(info.Err)
	}
	if p := info.Payload; p != nil {
		if !wire.SetPayload(p, v, r, body) && len(bytes.TrimSpace(body)) > 0 {
			fv := v.Field(p.Index)
			ptr := reflect.New(fv.Type())
			if err := decodeXML(body, ptr.Interface()); err != nil {
				return err
			}
			fv.Set(ptr.Elem())
		}
	} else if info.XMLBody {
		dst := info.NewBody(v)
		if err := decodeXML(body, dst); err != nil {
			return err
		}
		info.Commit(v, dst)
	}
	if err := wire.DecodeLocated(info, v, r, labels); err != nil {
		var bv *wire.BadValue
		if errors.As(err, &bv) {
			return (&awserr.Error{Code: "InvalidArgument", Status: http.StatusBadRequest, Message: bv.Error(), Err: err}).
				With("ArgumentName", bv.Name).With("ArgumentValue", trunc(bv.Value))
		}
		return awserr.Internal(err)
	}
	return nil
}

// HostID is the x-amz-id-2 / HostId lextrail sends with a request ID.
func HostID(requestID string) string {
	sum := sha256.Sum256([]byte("lextrail-host-id:" + requestID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func marshalDoc(v any, root string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(XMLHeader)
	enc := xml.NewEncoder(&buf)
	var err error
	if root != "" {
		err = enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: root}})
	} else {
		err = enc.Encode(v)
	}
	if err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rootName is the element name for a body document of t when t has no
// XMLName field (then a shadow struct would have no name of its own).
func rootName(t reflect.Type) string {
	if _, ok := t.FieldByName("XMLName"); ok {
		return ""
	}
	return t.Name()
}

// Encode writes out: header/headers/statusCode members into the response
// head, then the payload member (raw bytes, a streamed io.ReadCloser, or
// a structure as an XML document), else the body members as an XML
// document, else nothing. HEAD, 204 and 304 responses have no body.
func (Codec) Encode(w http.ResponseWriter, c *catalog.Call, out any) error {
	h := w.Header()
	status := c.Op.Status
	if c.Status != 0 {
		status = c.Status
	}
	var body []byte
	var stream io.ReadCloser
	ct := ""
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
			if raw {
				body, stream = b, rc
			} else {
				fv := v.Field(p.Index)
				nilable := fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface
				if !(nilable && fv.IsNil()) {
					if body, err = marshalDoc(fv.Interface(), rootName(reflect.Indirect(fv).Type())); err != nil {
						return err
					}
					ct = ContentType
				}
			}
		} else if info.XMLBody {
			if body, err = marshalDoc(info.BodyValue(v), rootName(info.Type)); err != nil {
				return err
			}
			ct = ContentType
		}
	}
	wire.CopyHeader(h, c.Header)
	h.Set("x-amz-request-id", c.RequestID)
	h.Set("x-amz-id-2", HostID(c.RequestID))
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

// EncodeError writes
//
//	<?xml version="1.0" encoding="UTF-8"?>
//	<Error><Code>…</Code><Message>…</Message>[Fields…]<RequestId>…</RequestId><HostId>…</HostId></Error>
//
// with e's status and headers (the message is always sent: OmitMessage is
// for JSON bodies).
func (Codec) EncodeError(w http.ResponseWriter, _ *catalog.Service, requestID string, e *awserr.Error) {
	hostID := HostID(requestID)
	var buf bytes.Buffer
	buf.WriteString(XMLHeader)
	buf.WriteString("<Error><Code>")
	xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString("</Code><Message>")
	xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString("</Message>")
	wire.WriteXMLFields(&buf, e.Fields)
	buf.WriteString("<RequestId>")
	xml.EscapeText(&buf, []byte(requestID))
	buf.WriteString("</RequestId><HostId>")
	buf.WriteString(hostID)
	buf.WriteString("</HostId></Error>")
	h := w.Header()
	wire.CopyHeader(h, e.Header)
	h.Set("x-amz-request-id", requestID)
	h.Set("x-amz-id-2", hostID)
	h.Set("Content-Type", ContentType)
	_ = wire.Write(w, wire.ErrorStatus(e.Status), ContentType, buf.Bytes())
}

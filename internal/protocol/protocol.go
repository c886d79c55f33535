// Package protocol owns what the wire protocols share: the Codec interface
// the gateway dispatches through, the struct-tag conventions operation
// inputs and outputs use, and wire value types (timestamps, blobs). Each
// protocol lives in a subpackage: awsjson (JSON 1.1), restjson, query and
// restxml.
//
// Struct tags on operation input/output structs:
//
//	json:"name,omitempty"              JSON body member (awsjson, restjson)
//	location:"uri" locationName:"botName"            URI label ({botName} or greedy {Key+})
//	location:"querystring" locationName:"maxResults" query parameter ([]string repeats the key;
//	                                   an empty value is absent)
//	location:"header" locationName:"x-amz-lex-session-attributes"
//	jsonvalue:"true"                   with location:"header": the header is base64 of JSON,
//	                                   decoded into the member (map, slice, any; a string
//	                                   member receives the JSON text)
//	location:"headers" locationName:"x-amz-meta-"    prefix headers (map[string]string;
//	                                   keys are lower-cased and stripped of the prefix)
//	location:"statusCode"              output only: an int that sets the status
//	location:"payload"                 the whole body ([]byte, string, io.ReadCloser or a
//	                                   struct: JSON in restjson, an XML document in restxml)
//	query:"UserName"                   query protocol member name (default: the Go field name);
//	                                   lists use Name.member.N, maps Name.entry.N.key/value;
//	                                   options ",flattened" (Name.N), ",key=K,value=V" (map
//	                                   entry member names); query:"-" skips the field
//	xml:"..."                          XML output (encoding/xml)
//
// Members without a location tag are body members. Located members are
// never read from or written to the body, whatever their json/xml tags
// (the codecs (un)marshal the body members only), so they need no
// json:"-". Scalar located members may be string (or a string type),
// bool, integers, floats, []byte (base64), Time or time.Time (ISO 8601 in
// labels and query strings, HTTP dates in headers), or pointers to those;
// when encoding headers, nil pointers, empty strings and non-pointer zero
// numbers, booleans and times are omitted (use a pointer to send a zero).
//
// Timestamps in bodies use Time (epoch seconds in JSON, ISO 8601 in XML).
package protocol

import (
	"net/http"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
)

// Codec is one wire protocol. Implementations are stateless and safe for
// concurrent use.
type Codec interface {
	// Route picks the operation of svc that the request names. body is the
	// buffered request body (nil for operations that read it raw; the
	// codec only needs it for query's Action=). It returns a *awserr.Error
	// with the protocol's unknown-operation code when nothing matches, and
	// the URI labels of rest protocols.
	Route(svc *catalog.Service, r *http.Request, body []byte) (*catalog.Operation, Labels, error)
	// Decode fills in, a pointer to op's input struct, from the request.
	// Malformed input is a 400-class *awserr.Error; never a panic.
	Decode(op *catalog.Operation, r *http.Request, labels Labels, body []byte, in any) error
	// Encode writes a successful response for out (a pointer to op's output
	// struct, possibly nil), including the request ID header.
	Encode(w http.ResponseWriter, c *catalog.Call, out any) error
	// EncodeError writes e in the protocol's error shape, including the
	// request ID.
	EncodeError(w http.ResponseWriter, svc *catalog.Service, requestID string, e *awserr.Error)
}

// Labels are decoded URI label values by label name.
type Labels map[string]string

// MaxBodyBytes is the largest request body any buffered operation accepts
// (S3 object uploads stream and are not buffered). Larger bodies get a 413
// in the protocol's error shape. 10 MiB covers Lex StartImport payloads
// (the largest buffered input).
const MaxBodyBytes = 10 << 20

// TooLarge is the error for a request body over MaxBodyBytes, in the shape
// svc's protocol uses: 413 with code "EntityTooLarge" for S3 (rest-xml)
// and "RequestEntityTooLarge" for every other protocol. (Real S3 sends
// EntityTooLarge with status 400; SDKs key on the code, and 413 is what
// lextrail uses everywhere so proxies and logs agree.) svc may be nil.
func TooLarge(svc *catalog.Service) *awserr.Error {
	code := "RequestEntityTooLarge"
	if svc != nil && svc.Protocol == catalog.RestXML {
		code = "EntityTooLarge"
	}
	return awserr.New(http.StatusRequestEntityTooLarge, code,
		"Request body exceeds the limit of %d bytes.", MaxBodyBytes)
}

// RequestIDHeader is the response header carrying the request ID for
// every protocol except S3's (which uses x-amz-request-id).
const RequestIDHeader = "x-amzn-RequestId"

// Package awserr owns lextrail's one error type: an error that carries the AWS
// error code, the HTTP status and the message a client sees. Every layer
// (protocol decoding, SigV4, authorization, the operations themselves) returns
// *Error for anything the caller did wrong; the protocol encoders turn it into
// the wire shape of their protocol. Any other error reaching a protocol
// encoder is an internal failure and is reported as such, never leaked.
//
// awserr must not import any other lextrail package.
package awserr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS-shaped error.
type Error struct {
	// Code is the AWS error code, e.g. "NotFoundException" or "NoSuchBucket".
	Code string
	// Message is the human-readable message sent to the client.
	Message string
	// Status is the HTTP status code.
	Status int
	// Fields are extra members of the error body, for the few AWS errors that
	// carry structured data (Lex ResourceInUseException's referenceType, S3's
	// BucketName, ...). Encoders add them beside the message.
	Fields map[string]any
	// OmitMessage drops the message member from JSON bodies (Lex
	// ResourceInUseException has none). The message still reaches the audit
	// record.
	OmitMessage bool
	// Header holds extra response headers (e.g. Retry-After).
	Header http.Header
	// Err is the underlying cause, kept for logs; never sent to clients.
	Err error
}

// New returns an error with the given status and code and a formatted message.
func New(status int, code, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Message: msg, Status: status}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// With returns a copy of e with an extra body field.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Fields = make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	c.Fields[key] = value
	return &c
}

// Client reports whether the error is the caller's fault (4xx).
func (e *Error) Client() bool { return e.Status < 500 }

// Internal wraps an unexpected error as a 500 InternalFailure without
// exposing its text to the client.
func Internal(err error) *Error {
	return &Error{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError, Err: err}
}

// As returns err as an *Error; errors of any other type become Internal.
// It returns nil for a nil err.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// Common constructors shared by several services.

// Validation is the generic 400 ValidationException used by JSON services.
func Validation(format string, args ...any) *Error {
	return New(http.StatusBadRequest, "ValidationException", format, args...)
}

// Serialization reports a body that could not be parsed.
func Serialization(format string, args ...any) *Error {
	return New(http.StatusBadRequest, "SerializationException", format, args...)
}

// AccessDenied is the authorization failure. Services whose code differs
// (S3 "AccessDenied", JSON "AccessDeniedException") set code explicitly.
func AccessDenied(code, format string, args ...any) *Error {
	return New(http.StatusForbidden, code, format, args...)
}

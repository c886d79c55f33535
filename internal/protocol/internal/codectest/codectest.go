// Package codectest runs a codec the way the gateway does, for tests:
// route, decode, invoke the handler, encode the answer or the error.
package codectest

import (
	"context"
	"io"
	"net/http"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/protocol"
)

// Handler serves svc through codec without authentication.
func Handler(codec protocol.Codec, svc *catalog.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const reqID = "11111111-2222-3333-4444-555555555555"
		var body []byte
		if svc.Protocol == catalog.Query || svc.Protocol == catalog.JSON {
			body, _ = io.ReadAll(r.Body)
		}
		op, labels, err := codec.Route(svc, r, body)
		if err != nil {
			codec.EncodeError(w, svc, reqID, awserr.As(err))
			return
		}
		if body == nil && !op.RawBody {
			body, _ = io.ReadAll(r.Body)
			if body == nil {
				body = []byte{}
			}
		}
		in := op.NewInput()
		if err := codec.Decode(op, r, labels, body, in); err != nil {
			codec.EncodeError(w, svc, reqID, awserr.As(err))
			return
		}
		c := &catalog.Call{RequestID: reqID, Op: op, Region: "us-east-1", Request: r, Header: http.Header{},
			Now: time.Now(), Principal: &identity.Principal{AccountID: "123456789012"}}
		out, err := op.Invoke(context.Background(), c, in)
		if err != nil {
			codec.EncodeError(w, svc, reqID, awserr.As(err))
			return
		}
		if err := codec.Encode(w, c, out); err != nil {
			panic(err)
		}
	})
}

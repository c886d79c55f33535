package sns

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol/query"
	"lextrail/internal/store"
)

// HTTPHandler serves HTTPPathPrefix without SigV4, as SNS serves these
// URLs to endpoint owners:
//
//   - GET SimpleNotificationService-<id>.pem: the certificate messages are
//     signed with (SigningCertURL);
//   - GET ?Action=ConfirmSubscription&TopicArn=…&Token=…: confirms a
//     subscription (SubscribeURL);
//   - GET ?Action=Unsubscribe&SubscriptionArn=…: deletes it
//     (UnsubscribeURL), unless it was confirmed with
//     AuthenticateOnUnsubscribe, which then needs the signed API call.
//
// Answers are SNS's query-protocol XML. As with SNS, these unauthenticated
// calls are not recorded in CloudTrail.
func (s *Service) HTTPHandler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

var errorShape = &catalog.Service{Name: "sns", Protocol: catalog.Query, XMLNamespace: Namespace}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	fail := func(err error) {
		e := awserr.As(err)
		if e.Status >= 500 {
			s.log.Error("sns public endpoint", "path", r.URL.Path, "err", err)
		}
		query.Codec{}.EncodeError(w, errorShape, reqID, e)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		fail(awserr.New(http.StatusMethodNotAllowed, "InvalidAction", "Only GET is served here."))
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, HTTPPathPrefix)
	if rest != "" {
		_, certID, pemBytes, err := s.keys.load(r.Context())
		if err != nil {
			fail(awserr.Internal(err))
			return
		}
		if rest != certFile(certID) {
			fail(awserr.New(http.StatusNotFound, "NotFound", "No such certificate"))
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(pemBytes)
		}
		return
	}
	if r.Method != http.MethodGet { // HEAD must not confirm or unsubscribe
		w.Header().Set("Allow", "GET")
		fail(awserr.New(http.StatusMethodNotAllowed, "InvalidAction", "Only GET is served here."))
		return
	}
	q := r.URL.Query()
	ctx := r.Context()
	switch action := q.Get("Action"); action {
	case "ConfirmSubscription":
		topicARN := q.Get("TopicArn")
		if _, _, _, ok := parseTopicARN(topicARN); !ok {
			fail(invalidParameter("Invalid parameter: TopicArn"))
			return
		}
		var arn string
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			arn, err = s.confirm(ctx, tx, topicARN, q.Get("Token"), false, false, s.cfg.Now())
			return err
		})
		if err != nil {
			fail(err)
			return
		}
		writeResult(w, "ConfirmSubscription", reqID, &ConfirmSubscriptionOutput{SubscriptionArn: arn})
	case "Unsubscribe":
		arn := q.Get("SubscriptionArn")
		if _, ok := parseSubscriptionARN(arn); !ok {
			fail(invalidParameter("Invalid parameter: SubscriptionArn"))
			return
		}
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			sub, err := loadSubscription(ctx, tx, arn)
			if err != nil {
				return err
			}
			if sub.AuthUnsubscribe {
				return authorizationError("This subscription was confirmed with AuthenticateOnUnsubscribe: unsubscribing needs a signed Unsubscribe call by the topic or subscription owner.")
			}
			return deleteSubscription(ctx, tx, arn)
		})
		if err != nil {
			fail(err)
			return
		}
		writeResult(w, "Unsubscribe", reqID, nil)
	case "":
		fail(awserr.New(http.StatusBadRequest, "MissingAction", "Missing Action"))
	default:
		fail(awserr.New(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", trunc(action), APIVersion))
	}
}

// writeResult writes a query-protocol answer for op.
func writeResult(w http.ResponseWriter, op, reqID string, out any) {
	var b bytes.Buffer
	b.WriteString(`<` + op + `Response xmlns="` + Namespace + `">`)
	if out != nil {
		enc := xml.NewEncoder(&b)
		_ = enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: op + "Result"}})
		_ = enc.Close()
	}
	b.WriteString(`<ResponseMetadata><RequestId>` + reqID + `</RequestId></ResponseMetadata></` + op + `Response>`)
	w.Header().Set("Content-Type", query.ContentType)
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

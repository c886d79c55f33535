package audit

import (
	"crypto/rand"
	"crypto/tls"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/store"
)

// Event categories.
const (
	CategoryManagement = "Management"
	CategoryData       = "Data"
)

// EventTimeLayout is eventTime's format.
const EventTimeLayout = "2006-01-02T15:04:05Z"

// Event is a built record with what storage indexes it by.
type Event struct {
	Seq         int64 // assigned when stored
	EventID     string
	RequestID   string
	AccountID   string // recipientAccountId
	Region      string // awsRegion
	TimeMs      int64  // eventTime in epoch ms (whole seconds)
	Category    string
	ReadOnly    bool
	EventName   string
	EventSource string
	Username    string
	AccessKeyID string
	Resources   []catalog.Resource
	// Record is the compact JSON record.
	Record []byte
}

// Build builds the record of a call: a success when e is nil (out is the
// handler's output), else a failure. now is the event time.
func Build(c *catalog.Call, in, out any, e *awserr.Error, now time.Time) *Event {
	op := c.Op
	svc := op.Service()
	p := c.Principal
	if p == nil {
		p = &identity.Principal{}
	}
	now = now.UTC().Truncate(time.Second)
	ev := &Event{
		EventID:     newEventID(),
		RequestID:   c.RequestID,
		AccountID:   p.AccountID,
		Region:      c.EventRegion(),
		TimeMs:      now.UnixMilli(),
		Category:    CategoryManagement,
		ReadOnly:    op.ReadOnly,
		EventName:   op.Name,
		EventSource: svc.EventSource,
		Username:    Username(p),
		AccessKeyID: p.AccessKeyID,
	}
	if op.DataEvent {
		ev.Category = CategoryData
	}

	rec := recordPool.Get().(*Record)
	defer func() { *rec = Record{}; recordPool.Put(rec) }()
	*rec = Record{
		EventVersion:       EventVersion,
		UserIdentity:       userIdentity(p),
		EventSource:        svc.EventSource,
		EventName:          op.Name,
		AWSRegion:          ev.Region,
		SourceIPAddress:    c.SourceIP,
		UserAgent:          truncate(c.UserAgent, 1024),
		RequestID:          c.RequestID,
		EventID:            ev.EventID,
		ReadOnly:           op.ReadOnly,
		EventType:          "AwsApiCall",
		ManagementEvent:    !op.DataEvent,
		RecipientAccountID: p.AccountID,
		EventCategory:      ev.Category,
	}
	var tb [20]byte
	rec.EventTime = string(appendEventTime(tb[:0], now))
	if e != nil {
		rec.ErrorCode = truncate(e.Code, 1024)
		rec.ErrorMessage = truncate(e.Message, 1024)
	}

	bp := bufPool.Get().(*[]byte)
	scratch := (*bp)[:0]
	// requestParameters
	if c.Audit.RequestParameters != nil {
		scratch = appendElements(scratch, c.Audit.RequestParameters)
	} else {
		scratch = appendElements(scratch, in)
	}
	reqEnd := len(scratch)
	// responseElements: only for recorded, successful, mutating calls.
	if e == nil && !op.ReadOnly && (op.RecordResponse || c.Audit.ResponseElements != nil) {
		if c.Audit.ResponseElements != nil {
			scratch = appendElements(scratch, c.Audit.ResponseElements)
		} else {
			scratch = appendElements(scratch, out)
		}
	} else {
		scratch = append(scratch, "null"...)
	}
	respEnd := len(scratch)
	if c.Audit.AdditionalEventData != nil {
		scratch = appendElements(scratch, c.Audit.AdditionalEventData)
	}
	rec.RequestParameters = scratch[:reqEnd]
	rec.ResponseElements = scratch[reqEnd:respEnd]
	if len(scratch) > respEnd {
		rec.AdditionalEventData = scratch[respEnd:]
	}

	// resources
	res := c.Audit.Resources
	if res == nil && op.Resources != nil && in != nil {
		res = op.Resources(c, in)
	}
	if len(res) > 0 {
		ev.Resources = res
		rec.Resources = make([]Resource, len(res))
		for i, r := range res {
			acct := r.AccountID
			if acct == "" {
				acct = p.AccountID
			}
			rec.Resources[i] = Resource{ARN: r.ARN, AccountID: acct, Type: r.Type}
		}
	}
	if c.Request != nil && c.Request.TLS != nil {
		rec.TLSDetails = tlsDetails(c.Request.TLS, c.Request.Host)
	}

	ev.Record = rec.AppendJSON(make([]byte, 0, rec.sizeHint()))
	*bp = scratch
	bufPool.Put(bp)
	return ev
}

var (
	recordPool = sync.Pool{New: func() any { return new(Record) }}
	bufPool    = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
)

// appendEventTime appends t (UTC, whole seconds) in EventTimeLayout, as
// t.AppendFormat would for years 0-9999, without parsing the layout.
func appendEventTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, EventTimeLayout)
	}
	two := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = two(two(b, y/100), y%100)
	b = two(append(b, '-'), int(mo))
	b = two(append(b, '-'), d)
	b = two(append(b, 'T'), h)
	b = two(append(b, ':'), mi)
	b = two(append(b, ':'), sec)
	return append(b, 'Z')
}

// newEventID returns a version 7 UUID: as unique as CloudTrail's, and
// time-ordered, so the unique index on event_id grows at its right edge
// instead of touching a random page per event.
func newEventID() string {
	if id, err := uuid.NewV7FromReader(&eventIDRand); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// eventIDRand is crypto/rand read ahead in blocks: an event ID's random
// bits cost a copy instead of a getrandom call each.
var eventIDRand lockedRand

type lockedRand struct {
	mu  sync.Mutex
	buf [4096]byte
	off int // buf[off:] is unread; the zero value has nothing read
}

func (r *lockedRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(p) > len(r.buf) {
		return rand.Read(p)
	}
	if r.off == 0 || len(r.buf)-r.off < len(p) {
		if _, err := rand.Read(r.buf[:]); err != nil {
			return 0, err
		}
		r.off = 0
	}
	n := copy(p, r.buf[r.off:])
	clear(r.buf[r.off : r.off+n]) // read bytes are not kept
	r.off += n
	if r.off == len(r.buf) {
		r.off = 0
	}
	return n, nil
}

// Username is LookupEvents' Username of a principal: the IAM user name,
// "root" for the root user, the role session name for assumed roles.
func Username(p *identity.Principal) string {
	switch p.Type {
	case identity.TypeRoot:
		return "root"
	case identity.TypeAssumedRole:
		if p.Session != nil {
			return p.Session.SessionName
		}
		if i := strings.LastIndexByte(p.ARN, '/'); i >= 0 {
			return p.ARN[i+1:]
		}
	}
	return p.UserName
}

func userIdentity(p *identity.Principal) UserIdentity {
	if p.Type == identity.TypeAWSService {
		return UserIdentity{Type: p.Type, InvokedBy: p.InvokedBy}
	}
	u := UserIdentity{
		Type:        p.Type,
		PrincipalID: p.PrincipalID,
		ARN:         p.ARN,
		AccountID:   p.AccountID,
		AccessKeyID: p.AccessKeyID,
		InvokedBy:   p.InvokedBy,
	}
	if p.Type == identity.TypeIAMUser {
		u.UserName = p.UserName
	}
	if s := p.Session; s != nil && p.Type != identity.TypeRoot {
		sc := &SessionContext{
			SessionIssuer: &SessionIssuer{Type: s.IssuerType, PrincipalID: s.IssuerPrincipalID,
				ARN: s.IssuerARN, AccountID: s.IssuerAccountID, UserName: s.IssuerUserName},
			WebIDFederationData: &struct{}{},
			Attributes: SessionAttributes{
				CreationDate:     s.CreationDate.UTC().Format(EventTimeLayout),
				MFAAuthenticated: boolString(p.MFA),
			},
			SourceIdentity: s.SourceIdentity,
		}
		if sc.SessionIssuer.Type == "" {
			sc.SessionIssuer.Type = "Role"
		}
		u.SessionContext = sc
	}
	return u
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func tlsDetails(cs *tls.ConnectionState, host string) *TLSDetails {
	v := ""
	switch cs.Version {
	case tls.VersionTLS10:
		v = "TLSv1"
	case tls.VersionTLS11:
		v = "TLSv1.1"
	case tls.VersionTLS12:
		v = "TLSv1.2"
	case tls.VersionTLS13:
		v = "TLSv1.3"
	}
	return &TLSDetails{TLSVersion: v, CipherSuite: CipherSuiteName(cs.CipherSuite), ClientProvidedHostHeader: host}
}

// CipherSuiteName is a cipher suite as CloudTrail's tlsDetails names it:
// OpenSSL's name for the TLS 1.0-1.2 suites ("ECDHE-RSA-AES128-GCM-SHA256"),
// the standard name for the TLS 1.3 ones ("TLS_AES_128_GCM_SHA256", which
// OpenSSL uses too).
func CipherSuiteName(id uint16) string {
	if n, ok := openSSLNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}

var openSSLNames = map[uint16]string{
	tls.TLS_RSA_WITH_RC4_128_SHA:                      "RC4-SHA",
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA:                 "DES-CBC3-SHA",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:                  "AES128-SHA",
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:                  "AES256-SHA",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:               "AES128-SHA256",
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:               "AES128-GCM-SHA256",
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:               "AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA:              "ECDHE-ECDSA-RC4-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          "ECDHE-ECDSA-AES128-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          "ECDHE-ECDSA-AES256-SHA",
	tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA:                "ECDHE-RSA-RC4-SHA",
	tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA:           "ECDHE-RSA-DES-CBC3-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            "ECDHE-RSA-AES128-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            "ECDHE-RSA-AES256-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:       "ECDHE-ECDSA-AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:         "ECDHE-RSA-AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
}

// truncate cuts s to at most n bytes at a character boundary (CloudTrail
// keeps userAgent, errorCode and errorMessage to 1 KB).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// readOnlyValue is the stored/looked-up form of readOnly.
func readOnlyValue(b bool) string { return boolString(b) }

var _ = store.Millis

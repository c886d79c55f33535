package logs

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/store"
)

// This file is the Go API for lextrail's own log writers (Lex
// conversation logs): they append documents to log groups as a principal
// (the Lex service's session of the role an alias names), with the same
// authorization, limits, retention, encryption and CloudTrail records as
// the HTTP API, without an HTTP round trip.

// Authorizer decides whether a principal may perform an action on
// resources (authz.Authorizer implements it). It returns an *awserr.Error
// (AccessDeniedException) to refuse.
type Authorizer interface {
	Check(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource, extra map[string][]string) error
}

// Auditor records a management event inside a write transaction
// (audit.Recorder implements it).
type Auditor interface {
	Success(ctx context.Context, tx *store.Tx, c *catalog.Call, in, out any) error
}

// Event is one log event to append.
type Event struct {
	Timestamp time.Time
	Message   string
}

// AppendInput is what Append writes.
type AppendInput struct {
	// Principal writes the events: the assumed-role session of the
	// configured role (with InvokedBy "lex.amazonaws.com" for Lex). Its
	// identity and session policies must allow logs:PutLogEvents (and
	// logs:CreateLogStream when the stream is created) on the stream's ARN.
	// Nil means lextrail itself: no authorization, nothing audited.
	Principal *identity.Principal
	// Region of the log group. Required.
	Region string
	// Group is the log group's name or ARN ("arn:aws:logs:R:A:log-group:G",
	// a trailing ":*" allowed); a name is looked up in the principal's
	// account.
	Group string
	// Stream is the log stream's name.
	Stream string
	// CreateStream creates the stream when it does not exist (recorded as
	// a CreateLogStream management event by Principal).
	CreateStream bool
	// Events in any order; Append sorts them and splits them into batches
	// within PutLogEvents' limits.
	Events []Event
	// SourceIP and UserAgent of the CloudTrail record (default: the
	// principal's InvokedBy, as AWS records calls services make).
	SourceIP, UserAgent string
	// Tx, when set, is the caller's write transaction: the events commit
	// (or roll back) with it, so a durable delivery queue can remove what
	// it delivered in the same commit (exactly once, even across a crash).
	Tx *store.Tx
}

// Rejection reasons.
const (
	RejectedTooOld   = "TooOld"   // more than 14 days old
	RejectedExpired  = "Expired"  // older than the group's retention
	RejectedTooNew   = "TooNew"   // more than 2 hours in the future
	RejectedTooLarge = "TooLarge" // message over 1 MiB minus 26 bytes
)

// Rejected is an event Append did not store.
type Rejected struct {
	Index  int // in AppendInput.Events
	Reason string
}

// AppendOutput says what Append did.
type AppendOutput struct {
	Accepted      int
	Rejected      []Rejected
	Batches       int
	StreamCreated bool
	// NextSequenceToken is the stream's sequence token after the append.
	NextSequenceToken string
}

// Append stores events in one transaction (its own, or AppendInput.Tx):
// all accepted events or none (so a caller's retry after an error never
// duplicates). Errors are
// *awserr.Error values for what the caller can fix or must surface: the
// group or stream does not exist (ResourceNotFoundException), the
// principal is not allowed (AccessDeniedException), the group's KMS key
// cannot be used (InvalidParameterException).
func (s *Service) Append(ctx context.Context, in AppendInput) (*AppendOutput, error) {
	if in.Region == "" || in.Group == "" || in.Stream == "" {
		return nil, errors.New("logs: Append needs Region, Group and Stream")
	}
	now := s.cfg.Now()
	account := ""
	if in.Principal != nil {
		account = in.Principal.AccountID
	}
	name := strings.TrimSuffix(in.Group, ":*")
	if strings.HasPrefix(name, "arn:") {
		p := strings.SplitN(name, ":", 7)
		if len(p) != 7 || p[2] != "logs" || p[5] != "log-group" || p[3] != in.Region {
			return nil, errGroupNotFound()
		}
		account, name = p[4], p[6]
	}
	if account == "" {
		return nil, errors.New("logs: Append needs a group ARN when there is no principal")
	}
	var v validator
	v.groupName("logGroupName", &name)
	v.streamName("logStreamName", &in.Stream)
	if err := v.err(); err != nil {
		return nil, err
	}
	streamARN := StreamARN(in.Region, account, name, in.Stream)
	call := func(op string) *catalog.Call {
		c := &catalog.Call{RequestID: uuid.NewString(), Op: s.cat.Op(op), Region: in.Region, Principal: in.Principal, Now: now,
			SourceIP: in.SourceIP, UserAgent: in.UserAgent}
		if in.Principal != nil && in.Principal.InvokedBy != "" {
			if c.SourceIP == "" {
				c.SourceIP = in.Principal.InvokedBy
			}
			if c.UserAgent == "" {
				c.UserAgent = in.Principal.InvokedBy
			}
		}
		return c
	}
	res := []catalog.Resource{{ARN: streamARN, AccountID: account, Type: "AWS::Logs::LogStream"}}
	if in.Principal != nil {
		if s.cfg.Authorizer == nil {
			return nil, errors.New("logs: Append with a principal needs Config.Authorizer")
		}
		if err := s.cfg.Authorizer.Check(ctx, call("PutLogEvents"), "logs:PutLogEvents", res, nil); err != nil {
			return nil, err
		}
	}

	// Sort (stably) and split, remembering each event's input index.
	idx := make([]int, len(in.Events))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return in.Events[idx[a]].Timestamp.Before(in.Events[idx[b]].Timestamp) })
	out := &AppendOutput{}
	sorted := make([]event, 0, len(in.Events))
	sortedIdx := make([]int, 0, len(in.Events))
	for _, i := range idx {
		e := in.Events[i]
		if len(e.Message)+EventOverhead > MaxBatchBytes || e.Message == "" {
			out.Rejected = append(out.Rejected, Rejected{Index: i, Reason: RejectedTooLarge})
			continue
		}
		// The message's bytes, not a copy (as PutLogEvents does): ingest
		// only reads them.
		sorted = append(sorted, event{ts: e.Timestamp.UnixMilli(), msg: unsafe.Slice(unsafe.StringData(e.Message), len(e.Message))})
		sortedIdx = append(sortedIdx, i)
	}
	batches := splitEvents(sorted)

	write := func(tx *store.Tx) error {
		g, err := loadGroupByName(ctx, tx, account, in.Region, name)
		if err != nil {
			return err
		}
		st, err := loadStream(ctx, tx, g.ID, in.Stream)
		var nf *awserr.Error
		if errors.As(err, &nf) && nf.Code == "ResourceNotFoundException" && in.CreateStream {
			c := call("CreateLogStream")
			if in.Principal != nil {
				if err := s.cfg.Authorizer.Check(ctx, c, "logs:CreateLogStream", res, nil); err != nil {
					return err
				}
			}
			if st, err = createStream(ctx, tx, g.ID, in.Stream, now); err != nil {
				return err
			}
			out.StreamCreated = true
			if in.Principal != nil && s.cfg.Auditor != nil {
				req := &StreamInput{LogGroupName: &name, LogStreamName: &in.Stream}
				if err := s.cfg.Auditor.Success(ctx, tx, c, req, &Empty{}); err != nil {
					return err
				}
			}
		} else if err != nil {
			return err
		}
		base := 0
		out.NextSequenceToken = seqToken(st.NextSeq)
		for _, b := range batches {
			r, err := s.ingest(ctx, tx, g, st, b, now)
			if err != nil {
				return err
			}
			for i := range b {
				reason := ""
				switch {
				case i < r.tooOldEnd:
					reason = RejectedTooOld
				case i < r.expiredEnd:
					reason = RejectedExpired
				case i >= r.tooNewStart:
					reason = RejectedTooNew
				}
				if reason != "" {
					out.Rejected = append(out.Rejected, Rejected{Index: sortedIdx[base+i], Reason: reason})
				}
			}
			out.Accepted += r.accepted
			out.NextSequenceToken = seqToken(r.nextSeq)
			base += len(b)
		}
		out.Batches = len(batches)
		return nil
	}
	var err error
	if in.Tx != nil {
		if in.Tx.ReadOnly() {
			return nil, errors.New("logs: AppendInput.Tx must be a write transaction")
		}
		err = write(in.Tx)
	} else {
		err = s.db.Write(ctx, write)
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(out.Rejected, func(a, b int) bool { return out.Rejected[a].Index < out.Rejected[b].Index })
	return out, nil
}

// SplitBatches sorts events by timestamp (stably) and splits them into
// batches PutLogEvents accepts: at most 10,000 events, 1,048,576 bytes
// counting 26 bytes per event, and 24 hours from first to last. Callers
// sending through the AWS API (or AppendInput) use it; Append does it
// itself. Events too large for any batch are dropped.
func SplitBatches(events []Event) [][]Event {
	sorted := append([]Event(nil), events...)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].Timestamp.Before(sorted[b].Timestamp) })
	var out [][]Event
	var cur []Event
	size := 0
	for _, e := range sorted {
		n := len(e.Message) + EventOverhead
		if n > MaxBatchBytes || e.Message == "" {
			continue
		}
		if len(cur) > 0 && (len(cur) == MaxBatchEvents || size+n > MaxBatchBytes || e.Timestamp.Sub(cur[0].Timestamp) > MaxBatchSpan) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// splitEvents is SplitBatches for sorted internal events.
func splitEvents(sorted []event) [][]event {
	var out [][]event
	start, size := 0, 0
	for i, e := range sorted {
		n := len(e.msg) + EventOverhead
		if i > start && (i-start == MaxBatchEvents || size+n > MaxBatchBytes || e.ts-sorted[start].ts > MaxBatchSpan.Milliseconds()) {
			out = append(out, sorted[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(sorted) {
		out = append(out, sorted[start:])
	}
	return out
}

// GroupExists reports whether the log group name exists in the account
// and region (for services that are configured with a log group, such as
// Lex conversation logs). tx, when set, is the caller's transaction.
func (s *Service) GroupExists(ctx context.Context, tx *store.Tx, accountID, region, name string) (bool, error) {
	var g *group
	find := func(tx *store.Tx) error {
		var err error
		g, err = loadGroupByName(ctx, tx, accountID, region, name)
		return err
	}
	var err error
	if tx != nil {
		err = find(tx)
	} else {
		err = s.db.Read(ctx, find)
	}
	var nf *awserr.Error
	if errors.As(err, &nf) && nf.Code == "ResourceNotFoundException" {
		return false, nil
	}
	return g != nil && err == nil, err
}

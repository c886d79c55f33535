package cloudtrail_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	lex "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lextypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"lextrail/internal/accounts"
	"lextrail/internal/audit/audittest"
	"lextrail/internal/identity"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/testenv"
)

var ctx = context.Background()

func clients(e *testenv.Env) (*cloudtrail.Client, *sts.Client, *lex.Client) {
	cfg := e.Config()
	return cloudtrail.NewFromConfig(cfg), sts.NewFromConfig(cfg), lex.NewFromConfig(cfg)
}

func attr(k types.LookupAttributeKey, v string) []types.LookupAttribute {
	return []types.LookupAttribute{{AttributeKey: k, AttributeValue: aws.String(v)}}
}

// lookupAll pages through a lookup and returns every event.
func lookupAll(t *testing.T, ct *cloudtrail.Client, in *cloudtrail.LookupEventsInput) []types.Event {
	t.Helper()
	var all []types.Event
	p := cloudtrail.NewLookupEventsPaginator(ct, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Events...)
	}
	return all
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}

// record finds the event with the given request ID and returns its
// CloudTrailEvent.
func record(t *testing.T, ct *cloudtrail.Client, name, requestID string) []byte {
	t.Helper()
	for _, ev := range lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: attr(types.LookupAttributeKeyEventName, name)}) {
		var r struct {
			RequestID string `json:"requestID"`
			EventID   string `json:"eventID"`
		}
		if err := json.Unmarshal([]byte(*ev.CloudTrailEvent), &r); err != nil {
			t.Fatal(err)
		}
		if r.EventID != *ev.EventId {
			t.Errorf("EventId %s but record eventID %s", *ev.EventId, r.EventID)
		}
		if r.RequestID == requestID {
			return []byte(*ev.CloudTrailEvent)
		}
	}
	t.Fatalf("no %s event with request ID %s", name, requestID)
	return nil
}

func requestID(t *testing.T, err error) string {
	t.Helper()
	var re interface{ ServiceRequestID() string }
	if err != nil && errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	t.Fatalf("no request ID (err %v)", err)
	return ""
}

// addPrincipal gives the env a key for a non-root principal (IAM users and
// roles are not served yet: the test registers the principal type itself).
func addPrincipal(t *testing.T, e *testenv.Env, p identity.Principal, prefix, token string) aws.Credentials {
	t.Helper()
	c := accounts.Credentials{AccessKeyID: accounts.NewKeyID(prefix), SecretAccessKey: accounts.NewSecret()}
	p.AccessKeyID = c.AccessKeyID
	e.Server.Accounts.RegisterPrincipalType(p.Type, func(_ context.Context, _ *store.Tx, _ accounts.Row, key *accounts.Key) error {
		pp := p
		key.Principal = &pp
		key.SessionToken = token
		return nil
	})
	err := e.Server.DB.Write(ctx, func(tx *store.Tx) error {
		return e.Server.Accounts.InsertKey(ctx, tx, e.AccountID, p.Type, p.UserName, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: token}
}

// TestGoldenEndToEnd: for each identity type (Root, IAMUser, AssumedRole
// with sessionContext), a success (STS GetCallerIdentity), a failed call
// (LookupEvents with two attributes) and an access-denied call (Lex
// GetBots, refused to non-root principals by the root-only authorizer
// until IAM policies land) each produce one record matching its golden
// file field by field and type by type.
func TestGoldenEndToEnd(t *testing.T) {
	e := testenv.New(t)
	ct, _, _ := clients(e)
	acct := e.AccountID
	creds := map[string]aws.Credentials{
		"root": e.Creds(),
		"iamuser": addPrincipal(t, e, identity.Principal{Type: identity.TypeIAMUser, AccountID: acct,
			ARN: "arn:aws:iam::" + acct + ":user/alice", PrincipalID: "AIDAEXAMPLE000000001", UserName: "alice",
			UserID: "AIDAEXAMPLE000000001"}, "AKIA", ""),
		"assumedrole": addPrincipal(t, e, identity.Principal{Type: identity.TypeAssumedRole, AccountID: acct,
			ARN: "arn:aws:sts::" + acct + ":assumed-role/Deployer/deploy", PrincipalID: "AROAEXAMPLE000000001:deploy",
			UserID: "AROAEXAMPLE000000001:deploy", Session: &identity.Session{IssuerType: "Role",
				IssuerPrincipalID: "AROAEXAMPLE000000001", IssuerARN: "arn:aws:iam::" + acct + ":role/Deployer",
				IssuerAccountID: acct, IssuerUserName: "Deployer", SessionName: "deploy",
				CreationDate: time.Now().Add(-time.Hour)}}, "ASIA", "session-token-secret"),
	}
	for who, c := range creds {
		cfg := e.Config(c)
		st, ctc, lx := sts.NewFromConfig(cfg), cloudtrail.NewFromConfig(cfg), lex.NewFromConfig(cfg)

		out, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		okID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
		audittest.Check(t, "testdata/"+who+"_sts_getcalleridentity.json", record(t, ct, "GetCallerIdentity", okID))

		_, err = ctc.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
			{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("a")},
			{AttributeKey: types.LookupAttributeKeyUsername, AttributeValue: aws.String("b")}}})
		// Root fails validation; the others are refused before validation.
		want, file := "InvalidLookupAttributesException", "_cloudtrail_lookupevents_failure.json"
		if who != "root" {
			want, file = "AccessDeniedException", "_cloudtrail_lookupevents_denied.json"
		}
		if errorCode(err) != want {
			t.Fatalf("%s: two attributes: %v", who, err)
		}
		audittest.Check(t, "testdata/"+who+file, record(t, ct, "LookupEvents", requestID(t, err)))

		_, err = lx.GetBots(ctx, &lex.GetBotsInput{NameContains: aws.String("Order")})
		if who == "root" {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if errorCode(err) != "AccessDeniedException" {
			t.Fatalf("%s: GetBots: %v", who, err)
		}
		audittest.Check(t, "testdata/"+who+"_lex_getbots_denied.json", record(t, ct, "GetBots", requestID(t, err)))
	}
	// No secret in any stored record.
	scanSecrets(t, e, e.Root.SecretAccessKey, creds["iamuser"].SecretAccessKey, creds["assumedrole"].SecretAccessKey, "session-token-secret")
}

// scanSecrets fails if any stored event contains one of the secrets.
func scanSecrets(t *testing.T, e *testenv.Env, secrets ...string) {
	t.Helper()
	n := 0
	err := e.Server.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT record FROM events`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rec string
			if err := rows.Scan(&rec); err != nil {
				return err
			}
			n++
			for _, s := range secrets {
				if strings.Contains(rec, s) {
					t.Errorf("secret %.4s... in stored event %s", s, rec)
				}
			}
		}
		return rows.Err()
	})
	if err != nil || n == 0 {
		t.Fatalf("scanning events: %v (%d events)", err, n)
	}
}

func putSlotType(t *testing.T, lx *lex.Client, name string) {
	t.Helper()
	_, err := lx.PutSlotType(ctx, &lex.PutSlotTypeInput{Name: aws.String(name),
		EnumerationValues: []lextypes.EnumerationValue{{Value: aws.String("roses")}}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLookupAttributes looks events up by every attribute.
func TestLookupAttributes(t *testing.T) {
	e := testenv.New(t)
	ct, st, lx := clients(e)
	for i := 0; i < 3; i++ {
		if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	putSlotType(t, lx, "Flowers")
	putSlotType(t, lx, "Colors")

	all := lookupAll(t, ct, &cloudtrail.LookupEventsInput{})
	// 3 GetCallerIdentity (us-east-1, STS is global), 2 PutSlotType, and
	// this lookup is not yet visible to itself.
	if len(all) != 5 {
		t.Fatalf("unfiltered: %d events, want 5: %v", len(all), names(all))
	}
	for i, ev := range all {
		if *ev.ReadOnly != "true" && *ev.ReadOnly != "false" {
			t.Errorf("ReadOnly %q", *ev.ReadOnly)
		}
		if *ev.Username != "root" || *ev.AccessKeyId != e.Root.AccessKeyID || ev.EventTime == nil {
			t.Errorf("item %d: %+v", i, ev)
		}
		if i > 0 && ev.EventTime.After(*all[i-1].EventTime) {
			t.Errorf("not newest first")
		}
	}
	if *all[0].EventName != "PutSlotType" || *all[4].EventName != "GetCallerIdentity" {
		t.Errorf("order: %v", names(all))
	}
	slot := all[0]
	if len(slot.Resources) != 1 || *slot.Resources[0].ResourceType != "AWS::Lex::SlotType" || *slot.Resources[0].ResourceName != "Colors" {
		t.Errorf("resources: %+v", slot.Resources)
	}

	cases := []struct {
		key   types.LookupAttributeKey
		value string
		want  int
	}{
		{types.LookupAttributeKeyEventId, *slot.EventId, 1},
		{types.LookupAttributeKeyEventName, "GetCallerIdentity", 3},
		{types.LookupAttributeKeyEventName, "PutSlotType", 2},
		{types.LookupAttributeKeyReadOnly, "true", -1}, // 3 + the lookups so far
		{types.LookupAttributeKeyReadOnly, "false", 2},
		{types.LookupAttributeKeyUsername, "root", -1},
		{types.LookupAttributeKeyUsername, "alice", 0},
		{types.LookupAttributeKeyResourceType, "AWS::Lex::SlotType", 2},
		{types.LookupAttributeKeyResourceName, "Flowers", 1},
		{types.LookupAttributeKeyResourceName, "arn:aws:lex:us-east-1:" + e.AccountID + ":slottype:Flowers", 1},
		{types.LookupAttributeKeyEventSource, "sts.amazonaws.com", 3},
		{types.LookupAttributeKeyEventSource, "lex.amazonaws.com", 2},
		{types.LookupAttributeKeyAccessKeyId, e.Root.AccessKeyID, -1},
		{types.LookupAttributeKeyAccessKeyId, "AKIANOBODY", 0},
	}
	for _, tc := range cases {
		got := lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: attr(tc.key, tc.value)})
		if tc.want >= 0 && len(got) != tc.want {
			t.Errorf("%s=%s: %d events %v, want %d", tc.key, tc.value, len(got), names(got), tc.want)
		}
		if tc.want < 0 && len(got) < 6 {
			t.Errorf("%s=%s: %d events, want all", tc.key, tc.value, len(got))
		}
		for _, ev := range got {
			if (tc.key == types.LookupAttributeKeyEventName && *ev.EventName != tc.value) ||
				(tc.key == types.LookupAttributeKeyReadOnly && *ev.ReadOnly != tc.value) {
				t.Errorf("%s=%s returned %s (readOnly %s)", tc.key, tc.value, *ev.EventName, *ev.ReadOnly)
			}
		}
	}

	// Another region sees only its own (non-global) events.
	cfg := e.Config()
	cfg.Region = "eu-west-1"
	west := cloudtrail.NewFromConfig(cfg)
	if got := lookupAll(t, west, &cloudtrail.LookupEventsInput{}); len(got) != 0 {
		t.Errorf("eu-west-1 sees %v", names(got))
	}
}

func names(evs []types.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, *ev.EventName)
	}
	return out
}

// TestLookupTimeBounds: StartTime and EndTime are inclusive, whole or
// fractional seconds.
func TestLookupTimeBounds(t *testing.T) {
	e := testenv.New(t)
	ct, _, lx := clients(e)
	base := time.Now().UTC().Truncate(time.Second).Add(-5 * time.Minute)
	for i, name := range []string{"A", "B", "C"} {
		e.Clock.Set(base.Add(time.Duration(i) * time.Minute))
		putSlotType(t, lx, name)
	}
	e.Clock.Set(base.Add(4 * time.Minute))
	t1, t2 := base.Add(time.Minute), base.Add(2*time.Minute)
	for _, tc := range []struct {
		start, end *time.Time
		want       string
	}{
		{&t1, &t1, "B"},
		{&t1, nil, "CB"},
		{nil, &t1, "BA"},
		{&t1, &t2, "CB"},
		{aws.Time(t1.Add(500 * time.Millisecond)), nil, "C"},
		{nil, aws.Time(t1.Add(-time.Millisecond)), "A"},
		{aws.Time(t2.Add(time.Second)), nil, ""},
	} {
		got := lookupAll(t, ct, &cloudtrail.LookupEventsInput{StartTime: tc.start, EndTime: tc.end,
			LookupAttributes: attr(types.LookupAttributeKeyEventName, "PutSlotType")})
		s := ""
		for _, ev := range got {
			var r struct {
				RequestParameters struct {
					Name string `json:"name"`
				} `json:"requestParameters"`
			}
			json.Unmarshal([]byte(*ev.CloudTrailEvent), &r)
			s += r.RequestParameters.Name
		}
		if s != tc.want {
			t.Errorf("start %v end %v: %q, want %q", tc.start, tc.end, s, tc.want)
		}
	}
}

// TestLookupPagingWhileWriting pages through 120 events with MaxResults 7
// while other events are being written: no duplicates, none missed.
func TestLookupPagingWhileWriting(t *testing.T) {
	e := testenv.New(t)
	ct, st, _ := clients(e)
	want := map[string]bool{}
	for i := 0; i < 120; i++ {
		out, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
		want[id] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
					written.Add(1)
				}
			}
		}()
	}
	seen := map[string]bool{}
	var last *time.Time
	pages := 0
	in := &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(7), LookupAttributes: attr(types.LookupAttributeKeyEventName, "GetCallerIdentity")}
	for {
		out, err := ct.LookupEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Events) > 7 {
			t.Fatalf("page of %d", len(out.Events))
		}
		for _, ev := range out.Events {
			var r struct {
				RequestID string `json:"requestID"`
			}
			json.Unmarshal([]byte(*ev.CloudTrailEvent), &r)
			if seen[r.RequestID] {
				t.Errorf("duplicate %s", r.RequestID)
			}
			seen[r.RequestID] = true
			if last != nil && ev.EventTime.After(*last) {
				t.Errorf("not newest first")
			}
			last = ev.EventTime
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	for id := range want {
		if !seen[id] {
			t.Errorf("missed %s", id)
		}
	}
	if written.Load() == 0 || pages < 120/7 {
		t.Errorf("written concurrently %d, pages %d", written.Load(), pages)
	}
}

// TestLookupErrors: every documented error.
func TestLookupErrors(t *testing.T) {
	e := testenv.New(t)
	ct, st, _ := clients(e)
	for i := 0; i < 3; i++ {
		st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	}
	first, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1),
		LookupAttributes: attr(types.LookupAttributeKeyEventName, "GetCallerIdentity")})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v %v", err, first)
	}
	now := time.Now()
	for name, tc := range map[string]struct {
		in   *cloudtrail.LookupEventsInput
		code string
	}{
		"two attributes": {&cloudtrail.LookupEventsInput{LookupAttributes: append(attr("EventName", "a"), attr("Username", "b")...)}, "InvalidLookupAttributesException"},
		"bad key":        {&cloudtrail.LookupEventsInput{LookupAttributes: attr("eventname", "a")}, "InvalidLookupAttributesException"},
		"empty value":    {&cloudtrail.LookupEventsInput{LookupAttributes: attr("EventName", "")}, "InvalidLookupAttributesException"},
		"start > end":    {&cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Second))}, "InvalidTimeRangeException"},
		"max 51":         {&cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		"max 0":          {&cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
		"category":       {&cloudtrail.LookupEventsInput{EventCategory: "foo"}, "InvalidEventCategoryException"},
		"garbage token":  {&cloudtrail.LookupEventsInput{NextToken: aws.String("not-a-token")}, "InvalidNextTokenException"},
		"token, other attribute": {&cloudtrail.LookupEventsInput{NextToken: first.NextToken, MaxResults: aws.Int32(1),
			LookupAttributes: attr(types.LookupAttributeKeyEventName, "LookupEvents")}, "InvalidNextTokenException"},
		"token, no attribute": {&cloudtrail.LookupEventsInput{NextToken: first.NextToken}, "InvalidNextTokenException"},
	} {
		_, err := ct.LookupEvents(ctx, tc.in)
		if got := errorCode(err); got != tc.code {
			t.Errorf("%s: %s, want %s", name, got, tc.code)
		}
	}
	// The same token with the same parameters works.
	if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1), NextToken: first.NextToken,
		LookupAttributes: attr(types.LookupAttributeKeyEventName, "GetCallerIdentity")}); err != nil {
		t.Errorf("replayed token: %v", err)
	}
	// insight category: accepted, empty.
	out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{EventCategory: types.EventCategoryInsight})
	if err != nil || len(out.Events) != 0 {
		t.Errorf("insight: %v %v", err, out)
	}
}

// TestLookupThrottling: with a per-account rate configured, a burst gets
// ThrottlingException; off by default.
func TestLookupThrottling(t *testing.T) {
	e := testenv.New(t, testenv.Options{Configure: func(c *server.Config) { c.LookupEventsRate = 2 }})
	ct, _, _ := clients(e)
	throttled := 0
	for i := 0; i < 6; i++ {
		_, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if errorCode(err) == "ThrottlingException" {
			throttled++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if throttled == 0 {
		t.Error("no ThrottlingException at 6 requests in a burst with rate 2/s")
	}
	e2 := testenv.New(t)
	ct2, _, _ := clients(e2)
	for i := 0; i < 10; i++ {
		if _, err := ct2.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("default config throttled: %v", err)
		}
	}
}

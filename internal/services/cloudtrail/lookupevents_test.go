package cloudtrail_test

import (
	"context"
	"database/sql"
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
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lex "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lextypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"lextrail/internal/audit"
	"lextrail/internal/audit/audittest"
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

// identities sets up, with IAM and STS through the Go SDK, the three
// identity types the golden records cover: the account root, an IAM user
// (alice, with an access key) and an assumed-role session (alice's
// session "deploy" of role Deployer). alice and Deployer may create and
// read IAM users, assume roles and look events up; nothing else. Role
// Other trusts only a service, so assuming it is denied to everyone.
// It returns the credentials and a replacer that names the run-dependent
// IDs (user and role IDs, access key IDs).
func identities(t *testing.T, e *testenv.Env) (map[string]aws.Credentials, *strings.Replacer) {
	t.Helper()
	acct := e.AccountID
	im := iam.NewFromConfig(e.Config())
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:GetUser","cloudtrail:LookupEvents"],"Resource":"*"},` +
		`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	u, err := im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("work"), PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	k, err := im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	alice := aws.Credentials{AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey}
	trust := func(p string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + p + `,"Action":"sts:AssumeRole"}]}`)
	}
	dep, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Deployer"), AssumeRolePolicyDocument: trust(`{"AWS":["arn:aws:iam::` + acct + `:user/alice","arn:aws:iam::` + acct + `:role/Deployer"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("work"), PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	other, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Other"), AssumeRolePolicyDocument: trust(`{"Service":"lex.amazonaws.com"}`)})
	if err != nil {
		t.Fatal(err)
	}
	as, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: dep.Role.Arn, RoleSessionName: aws.String("deploy")})
	if err != nil {
		t.Fatal(err)
	}
	deploy := aws.Credentials{AccessKeyID: *as.Credentials.AccessKeyId, SecretAccessKey: *as.Credentials.SecretAccessKey, SessionToken: *as.Credentials.SessionToken}
	ids := strings.NewReplacer(*u.User.UserId, "<alice-user-id>", *dep.Role.RoleId, "<deployer-role-id>", *other.Role.RoleId, "<other-role-id>",
		alice.AccessKeyID, "<alice-key>", deploy.AccessKeyID, "<deploy-key>", e.Root.AccessKeyID, "<root-key>")
	return map[string]aws.Credentials{"root": e.Creds(), "iamuser": alice, "assumedrole": deploy}, ids
}

// TestGoldenEndToEnd: for STS and IAM (query protocol, global services) a
// successful call, a failed call and an access-denied call by each
// identity type — Root, IAMUser and AssumedRole (sessionContext included)
// — each produce exactly one record, which matches its golden file field
// by field, in order and type by type (audittest). CloudTrail (JSON 1.1)
// and Lex (rest-json) add a failure and a denial. Run-dependent IDs are
// replaced by named placeholders first, so every other value is compared
// exactly.
//
// Root is never denied an IAM call in its own account (AWS cannot refuse
// it without Organizations SCPs, which lextrail does not have), so that
// cell does not exist; root's STS denial is AssumeRole ("Roles may not be
// assumed by root accounts."), and its STS failure is GetSessionToken with
// too short a duration (which the IAM user and the session fail too; a
// session is refused GetSessionToken, and both fail AssumeRole with one).
func TestGoldenEndToEnd(t *testing.T) {
	e := testenv.New(t)
	ct, _, _ := clients(e)
	creds, ids := identities(t, e)
	otherRole := aws.String("arn:aws:iam::" + e.AccountID + ":role/Other")
	deployerRole := aws.String("arn:aws:iam::" + e.AccountID + ":role/Deployer")
	var created string // bob's user ID (CreateUser), the new session's key (AssumeRole)
	type call struct {
		name, event string
		do          func(aws.Config) (middleware.Metadata, error)
		want        string // error code; "" for success
		skip        string // the identity this call is not made by
	}
	calls := []call{
		{"sts_getcalleridentity", "GetCallerIdentity", func(c aws.Config) (middleware.Metadata, error) {
			out, err := sts.NewFromConfig(c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return middleware.Metadata{}, err
			}
			return out.ResultMetadata, nil
		}, "", ""},
		{"sts_assumerole", "AssumeRole", func(c aws.Config) (middleware.Metadata, error) {
			out, err := sts.NewFromConfig(c).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: deployerRole, RoleSessionName: aws.String("again")})
			if err != nil {
				return middleware.Metadata{}, err
			}
			created = *out.Credentials.AccessKeyId
			return out.ResultMetadata, nil
		}, "", "root"},
		{"sts_getsessiontoken_failure", "GetSessionToken", func(c aws.Config) (middleware.Metadata, error) {
			_, err := sts.NewFromConfig(c).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(100)})
			return middleware.Metadata{}, err
		}, "ValidationError", "assumedrole"},
		{"sts_assumerole_failure", "AssumeRole", func(c aws.Config) (middleware.Metadata, error) {
			_, err := sts.NewFromConfig(c).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: deployerRole, RoleSessionName: aws.String("again"), DurationSeconds: aws.Int32(10)})
			return middleware.Metadata{}, err
		}, "ValidationError", "root"},
		{"sts_assumerole_denied", "AssumeRole", func(c aws.Config) (middleware.Metadata, error) {
			_, err := sts.NewFromConfig(c).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: otherRole, RoleSessionName: aws.String("nope")})
			return middleware.Metadata{}, err
		}, "AccessDenied", ""},
		{"iam_createuser", "CreateUser", func(c aws.Config) (middleware.Metadata, error) {
			out, err := iam.NewFromConfig(c).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/team/")})
			if err != nil {
				return middleware.Metadata{}, err
			}
			created = *out.User.UserId
			return out.ResultMetadata, nil
		}, "", ""},
		{"iam_getuser_failure", "GetUser", func(c aws.Config) (middleware.Metadata, error) {
			_, err := iam.NewFromConfig(c).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nosuch")})
			return middleware.Metadata{}, err
		}, "NoSuchEntity", ""},
		{"iam_deleterole_denied", "DeleteRole", func(c aws.Config) (middleware.Metadata, error) {
			_, err := iam.NewFromConfig(c).DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Other")})
			return middleware.Metadata{}, err
		}, "AccessDenied", "root"},
		{"cloudtrail_lookupevents_failure", "LookupEvents", func(c aws.Config) (middleware.Metadata, error) {
			_, err := cloudtrail.NewFromConfig(c).LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
				{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("a")},
				{AttributeKey: types.LookupAttributeKeyUsername, AttributeValue: aws.String("b")}}})
			return middleware.Metadata{}, err
		}, "InvalidLookupAttributesException", ""},
		{"lex_getbots_denied", "GetBots", func(c aws.Config) (middleware.Metadata, error) {
			_, err := lex.NewFromConfig(c).GetBots(ctx, &lex.GetBotsInput{NameContains: aws.String("Order")})
			return middleware.Metadata{}, err
		}, "AccessDeniedException", "root"},
	}
	for _, who := range []string{"root", "iamuser", "assumedrole"} {
		cfg := e.Config(creds[who])
		for _, cl := range calls {
			if cl.skip == who {
				continue
			}
			created = ""
			md, err := cl.do(cfg)
			if got := errorCode(err); (cl.want == "" && err != nil) || (cl.want != "" && got != cl.want) {
				t.Fatalf("%s %s: %v, want %q", who, cl.name, err, cl.want)
			}
			reqID, _ := awsmiddleware.GetRequestIDMetadata(md)
			if err != nil {
				reqID = requestID(t, err)
			}
			rec := ids.Replace(string(record(t, ct, cl.event, reqID)))
			if created != "" && cl.name == "sts_assumerole" {
				rec = strings.ReplaceAll(rec, created, "<new-session-key>")
			}
			if created != "" && cl.name == "iam_createuser" {
				rec = strings.ReplaceAll(rec, created, "<bob-user-id>")
				// The next identity creates bob again.
				if _, err := iam.NewFromConfig(e.Config()).DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); err != nil {
					t.Fatal(err)
				}
			}
			audittest.Check(t, "testdata/"+who+"_"+cl.name+".json", []byte(rec))
		}
	}
	// LookupEvents' Username is the user name, "root", and the session
	// name for an assumed role; AccessKeyId is the key the call was
	// signed with.
	for who, name := range map[string]string{"root": "root", "iamuser": "alice", "assumedrole": "deploy"} {
		evs := lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: attr(types.LookupAttributeKeyUsername, name)})
		if len(evs) < len(calls)-2 {
			t.Errorf("Username=%s: %d events", name, len(evs))
		}
		for _, ev := range evs {
			if aws.ToString(ev.Username) != name || aws.ToString(ev.AccessKeyId) != creds[who].AccessKeyID {
				t.Errorf("Username=%s: item %s by %s with %s", name, aws.ToString(ev.EventName), aws.ToString(ev.Username), aws.ToString(ev.AccessKeyId))
			}
		}
	}
	// No secret in any stored record: the root's, alice's and the
	// session's secret keys and the session token (CreateAccessKey,
	// AssumeRole and CreateUser were all recorded above).
	scanSecrets(t, e, e.Root.SecretAccessKey, creds["iamuser"].SecretAccessKey, creds["assumedrole"].SecretAccessKey, creds["assumedrole"].SessionToken)
}

// scanSecrets fails if any stored event (its whole row: record and
// lookup columns, and its lookup index entries) contains one of the secrets, or
// if the events that handled them (CreateUser, CreateAccessKey,
// AssumeRole) are not among the scanned ones.
func scanSecrets(t *testing.T, e *testenv.Env, secrets ...string) {
	t.Helper()
	seen := map[string]int{}
	scan := func(tx *store.Tx, q string, named bool) error {
		rows, err := tx.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(sql.NullString)
		}
		for rows.Next() {
			if err := rows.Scan(vals...); err != nil {
				return err
			}
			var row strings.Builder
			for _, v := range vals {
				row.WriteString(v.(*sql.NullString).String + "\x00")
			}
			if named {
				seen[vals[0].(*sql.NullString).String]++
			}
			for _, s := range secrets {
				if strings.Contains(row.String(), s) {
					t.Errorf("secret %.4s... stored: %s", s, row.String())
				}
			}
		}
		return rows.Err()
	}
	err := e.Server.DB.Read(ctx, func(tx *store.Tx) error {
		if err := scan(tx, `SELECT event_name, e.* FROM events e`, true); err != nil {
			return err
		}
		// The records, wherever they are stored (the events row or, on
		// SQLite, a compressed block of them).
		stored := 0
		err := audit.StoredRecords(ctx, tx, func(seq int64, rec []byte) error {
			stored++
			for _, s := range secrets {
				if strings.Contains(string(rec), s) {
					t.Errorf("secret %.4s... stored in event %d: %s", s, seq, rec)
				}
			}
			return nil
		})
		if err != nil || stored == 0 {
			return fmt.Errorf("stored records: %d, %v", stored, err)
		}
		if err := scan(tx, `SELECT * FROM event_postings`, false); err != nil {
			return err
		}
		if err := scan(tx, `SELECT * FROM event_ids`, false); err != nil {
			return err
		}
		return scan(tx, `SELECT * FROM audit_scopes`, false)
	})
	if err != nil {
		t.Fatalf("scanning events: %v", err)
	}
	for _, name := range []string{"CreateUser", "CreateAccessKey", "AssumeRole"} {
		if seen[name] == 0 {
			t.Errorf("no %s event was scanned (%v)", name, seen)
		}
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
		"token, other start time": {&cloudtrail.LookupEventsInput{NextToken: first.NextToken, MaxResults: aws.Int32(1), StartTime: aws.Time(now.Add(-time.Hour)),
			LookupAttributes: attr(types.LookupAttributeKeyEventName, "GetCallerIdentity")}, "InvalidNextTokenException"},
		"attribute value too long": {&cloudtrail.LookupEventsInput{LookupAttributes: attr("EventName", strings.Repeat("a_", 1001))}, "InvalidLookupAttributesException"},
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

// TestDataEventsNotInHistory: S3 object reads and writes are data events:
// LookupEvents returns the bucket's management events and none of them.
func TestDataEventsNotInHistory(t *testing.T) {
	e := testenv.New(t)
	ct, _, _ := clients(e)
	s := s3.NewFromConfig(e.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("history-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("history-bucket"), Key: aws.String("a.txt"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}
	if out, err := s.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("history-bucket"), Key: aws.String("a.txt")}); err != nil {
		t.Fatal(err)
	} else {
		out.Body.Close()
	}
	if _, err := s.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("history-bucket")}); err != nil {
		t.Fatal(err)
	}
	got := names(lookupAll(t, ct, &cloudtrail.LookupEventsInput{}))
	if strings.Join(got, ",") != "CreateBucket" {
		t.Errorf("history %v, want only CreateBucket", got)
	}
	for _, n := range []string{"PutObject", "GetObject", "ListObjectsV2"} {
		if evs := lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: attr(types.LookupAttributeKeyEventName, n)}); len(evs) != 0 {
			t.Errorf("%s in history", n)
		}
	}
}

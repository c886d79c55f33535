package lexruntime_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	credv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/aws-sdk-go/aws/session"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"

	"lextrail/internal/server"
	"lextrail/internal/store/pgtest"
	"lextrail/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// eachDriver runs fn on SQLite and on PostgreSQL (skipped with the reason
// where PostgreSQL is not installed, unless LEXTRAIL_REQUIRE_POSTGRES=1).
func eachDriver(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.Start(t)) })
}

// obj is a JSON object literal.
type obj = map[string]any

func msgs(texts ...string) []any {
	var out []any
	for _, t := range texts {
		out = append(out, obj{"contentType": "PlainText", "content": t})
	}
	return out
}

func prompt(max int, texts ...string) obj { return obj{"maxAttempts": max, "messages": msgs(texts...)} }
func statement(texts ...string) obj       { return obj{"messages": msgs(texts...)} }

func slot(name, typ string, prio int, required bool, prompts ...string) obj {
	s := obj{"name": name, "slotType": typ, "priority": prio, "slotConstraint": "Optional", "sampleUtterances": []string{}}
	if required {
		s["slotConstraint"] = "Required"
	}
	if !strings.HasPrefix(typ, "AMAZON.") {
		s["slotTypeVersion"] = "1"
	}
	if len(prompts) > 0 {
		s["valueElicitationPrompt"] = prompt(2, prompts...)
	}
	return s
}

func slotType(name string, values ...[]string) obj {
	var vs []any
	for _, v := range values {
		vs = append(vs, obj{"value": v[0], "synonyms": v[1:]})
	}
	return obj{"name": name, "version": "1", "enumerationValues": vs, "valueSelectionStrategy": "ORIGINAL_VALUE"}
}

// botDoc is a bot in the LEX export format.
type botDoc struct {
	obj
}

func newBot(name, locale string, intents []obj, slotTypes []obj) botDoc {
	for _, in := range intents {
		if _, ok := in["version"]; !ok {
			in["version"] = "1"
		}
		if _, ok := in["fulfillmentActivity"]; !ok {
			in["fulfillmentActivity"] = obj{"type": "ReturnIntent"}
		}
	}
	if slotTypes == nil {
		slotTypes = []obj{}
	}
	return botDoc{obj{"name": name, "version": "1", "locale": locale, "childDirected": false, "idleSessionTTLInSeconds": 300,
		"intents": intents, "slotTypes": slotTypes}}
}

func (b botDoc) with(kv obj) botDoc {
	maps.Copy(b.obj, kv)
	return b
}

func (b botDoc) zip(t testing.TB) []byte {
	doc, err := json.Marshal(obj{"metadata": obj{"schemaVersion": "1.0", "importType": "LEX", "importFormat": "JSON"}, "resource": b.obj})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(b.obj["name"].(string) + "_Export.json")
	w.Write(doc)
	zw.Close()
	return buf.Bytes()
}

// env is a running lextrail with a model-building client and a v1
// runtime client.
type env struct {
	t   testing.TB
	e   *testenv.Env
	lm  *lm.Client
	rt  *rt.LexRuntimeService
	rec *recorder
	ctx context.Context
}

// recorder keeps the headers of the last exchange the runtime client
// made (recorded by an SDK handler: the v1 SDK insists on an
// *http.Transport).
type recorder struct {
	mu   sync.Mutex
	req  http.Header
	resp http.Header
}

func (r *recorder) record(q *request.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.req = q.HTTPRequest.Header.Clone()
	if q.HTTPResponse != nil {
		r.resp = q.HTTPResponse.Header.Clone()
	}
}

func (r *recorder) last() (req, resp http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.req, r.resp
}

type envOpts struct {
	dbURL     string
	configure func(*server.Config)
}

func newEnv(t testing.TB, o ...envOpts) *env {
	var opt envOpts
	if len(o) > 0 {
		opt = o[0]
	}
	e := testenv.New(t, testenv.Options{DatabaseURL: opt.dbURL, Configure: opt.configure})
	e.Clock.Set(time.Now().Truncate(time.Millisecond))
	rec := &recorder{}
	sess := session.Must(session.NewSession(&awsv1.Config{
		Region:      awsv1.String("us-east-1"),
		Endpoint:    awsv1.String(e.URL),
		Credentials: credv1.NewStaticCredentials(e.Root.AccessKeyID, e.Root.SecretAccessKey, ""),
		HTTPClient:  e.HTTP.Client(),
		MaxRetries:  awsv1.Int(0),
	}))
	client := rt.New(sess)
	client.Handlers.Complete.PushBack(rec.record)
	return &env{t: t, e: e, lm: lm.NewFromConfig(e.Config()), rt: client, rec: rec, ctx: context.Background()}
}

// deploy imports the bot, builds it, publishes version 1 and points alias
// prod at it.
func (v *env) deploy(b botDoc) {
	v.t.Helper()
	name := b.obj["name"].(string)
	imp, err := v.lm.StartImport(v.ctx, &lm.StartImportInput{Payload: b.zip(v.t), ResourceType: lmtypes.ResourceTypeBot, MergeStrategy: lmtypes.MergeStrategyOverwriteLatest})
	if err != nil {
		v.t.Fatalf("StartImport %s: %v", name, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		g, err := v.lm.GetImport(v.ctx, &lm.GetImportInput{ImportId: imp.ImportId})
		if err != nil {
			v.t.Fatal(err)
		}
		if g.ImportStatus == lmtypes.ImportStatusFailed {
			v.t.Fatalf("import of %s failed: %v", name, g.FailureReason)
		}
		if g.ImportStatus == lmtypes.ImportStatusComplete {
			break
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("import of %s still %s", name, g.ImportStatus)
		}
		time.Sleep(5 * time.Millisecond)
	}
	v.waitBuilt(name, "$LATEST")
	cv, err := v.lm.CreateBotVersion(v.ctx, &lm.CreateBotVersionInput{Name: aws.String(name)})
	if err != nil {
		v.t.Fatalf("CreateBotVersion %s: %v", name, err)
	}
	v.waitBuilt(name, aws.ToString(cv.Version))
	v.alias(name, "prod", aws.ToString(cv.Version))
}

func (v *env) alias(bot, alias, version string) {
	v.t.Helper()
	var checksum *string
	if a, err := v.lm.GetBotAlias(v.ctx, &lm.GetBotAliasInput{BotName: aws.String(bot), Name: aws.String(alias)}); err == nil {
		checksum = a.Checksum
	}
	if _, err := v.lm.PutBotAlias(v.ctx, &lm.PutBotAliasInput{BotName: aws.String(bot), Name: aws.String(alias), BotVersion: aws.String(version), Checksum: checksum}); err != nil {
		v.t.Fatalf("PutBotAlias: %v", err)
	}
}

func (v *env) waitBuilt(name, version string) {
	v.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		g, err := v.lm.GetBot(v.ctx, &lm.GetBotInput{Name: aws.String(name), VersionOrAlias: aws.String(version)})
		if err != nil {
			v.t.Fatal(err)
		}
		switch g.Status {
		case lmtypes.StatusReady:
			return
		case lmtypes.StatusFailed, lmtypes.StatusNotBuilt:
			v.t.Fatalf("bot %s:%s is %s: %s", name, version, g.Status, aws.ToString(g.FailureReason))
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("bot %s:%s still %s", name, version, g.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// user is one conversation through the v1 SDK.
type user struct {
	v          *env
	bot, alias string
	id         string
	// attrs, when set, are sent with the next turn.
	reqAttrs map[string]*string
}

func (v *env) user(bot, alias, id string) *user { return &user{v: v, bot: bot, alias: alias, id: id} }

func (u *user) post(text string) (*rt.PostTextOutput, error) {
	return u.v.rt.PostText(&rt.PostTextInput{BotName: &u.bot, BotAlias: &u.alias, UserId: &u.id, InputText: &text, RequestAttributes: u.reqAttrs})
}

func (u *user) say(text string) *rt.PostTextOutput {
	u.v.t.Helper()
	out, err := u.post(text)
	if err != nil {
		u.v.t.Fatalf("PostText %q: %v", text, err)
	}
	return out
}

// turn is an expectation for one PostText answer ("" = don't care, "-"
// = absent).
type turn struct {
	say, state, intent, slot, msg string
	slots                         map[string]string
}

func (u *user) expect(steps ...turn) *rt.PostTextOutput {
	u.v.t.Helper()
	var last *rt.PostTextOutput
	for _, st := range steps {
		out := u.say(st.say)
		last = out
		check := func(what, got, want string) {
			u.v.t.Helper()
			if want == "" {
				return
			}
			if want == "-" {
				want = ""
			}
			if got != want {
				u.v.t.Errorf("%q: %s = %q, want %q (whole answer %s)", st.say, what, got, want, out)
			}
		}
		check("dialogState", awsv1.StringValue(out.DialogState), st.state)
		check("intentName", awsv1.StringValue(out.IntentName), st.intent)
		check("slotToElicit", awsv1.StringValue(out.SlotToElicit), st.slot)
		check("message", awsv1.StringValue(out.Message), st.msg)
		for k, want := range st.slots {
			got := "<absent>"
			if p, ok := out.Slots[k]; ok {
				got = awsv1.StringValue(p)
				if p == nil {
					got = "null"
				}
			}
			if got != want {
				u.v.t.Errorf("%q: slot %s = %q, want %q (slots %v)", st.say, k, got, want, awsv1.StringValueMap(out.Slots))
			}
		}
	}
	return last
}

// code is the AWS error code of a v1 SDK error.
func code(err error) string {
	var ae awserr.Error
	if errors.As(err, &ae) {
		return ae.Code()
	}
	if err != nil {
		return "non-AWS error: " + err.Error()
	}
	return ""
}

func status(err error) int {
	var rf awserr.RequestFailure
	if errors.As(err, &rf) {
		return rf.StatusCode()
	}
	return 0
}

func wantErr(t testing.TB, err error, wantCode string, wantStatus int) {
	t.Helper()
	if code(err) != wantCode || status(err) != wantStatus {
		t.Fatalf("error = %v (code %q, status %d), want %s %d", err, code(err), status(err), wantCode, wantStatus)
	}
}

// date renders a date in the bot's zone as Lex does.
func date(t time.Time) string { return t.Format("2006-01-02") }

// nextWeekday is the first day on or after from (in its zone) that is wd.
func nextWeekday(from time.Time, wd time.Weekday) time.Time {
	d := (int(wd) - int(from.Weekday()) + 7) % 7
	return from.AddDate(0, 0, d)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

// raw sends a SigV4-signed request (service lex) and returns the status,
// headers and body as they came.
func (v *env) raw(method, path, body string) (int, http.Header, []byte) {
	v.t.Helper()
	req, err := http.NewRequest(method, v.e.URL+path, strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(v.ctx, v.e.Creds(), req, hex.EncodeToString(sum[:]), "lex", "us-east-1", time.Now()); err != nil {
		v.t.Fatal(err)
	}
	resp, err := v.e.HTTP.Client().Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

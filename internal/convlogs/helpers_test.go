package convlogs_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	credv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/aws-sdk-go/aws/session"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"

	"lextrail/internal/accounts"
	"lextrail/internal/convlogs"
	"lextrail/internal/objstore"
	"lextrail/internal/server"
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/store/pgtest"
	"lextrail/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) { pgtest.Main(m) }

// eachDriver runs fn on SQLite and on PostgreSQL (skipped with the reason
// where PostgreSQL is not installed, unless LEXTRAIL_REQUIRE_POSTGRES=1).
func eachDriver(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.Start(t)) })
}

const acct = testenv.AccountID

// fakeSpeech is a speech recogniser for tests: the "audio" carries its
// transcript after a marker, behind bytes that look like PCM.
type fakeSpeech struct{}

const transcriptMarker = "\x00TRANSCRIPT:"

// audioOf makes the audio of an utterance: 3200 bytes of a 16-bit
// sawtooth (0.1 s at 16 kHz) and the transcript.
func audioOf(text string) []byte {
	b := make([]byte, 0, 3200+len(transcriptMarker)+len(text))
	for i := 0; i < 1600; i++ {
		v := uint16(i * 97)
		b = append(b, byte(v), byte(v>>8))
	}
	return append(append(b, transcriptMarker...), text...)
}

func (fakeSpeech) Recognize(ctx context.Context, r lexruntime.RecognizeRequest) (string, error) {
	b, err := io.ReadAll(r.Audio)
	if err != nil {
		return "", err
	}
	i := bytes.Index(b, []byte(transcriptMarker))
	if i < 0 {
		return "", lexruntime.ErrUnsupportedAudio
	}
	return string(b[i+len(transcriptMarker):]), nil
}

func (fakeSpeech) Synthesize(ctx context.Context, r lexruntime.SynthesizeRequest) (io.ReadCloser, string, error) {
	return nil, "", lexruntime.ErrUnsupportedAudio
}

// logBuffer collects the server's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// node is one running lextrail process (in-process server behind
// httptest) on a data dir and database that may outlive it.
type node struct {
	*testenv.Env
	stop func()
}

// cluster is a data dir and database several nodes can run on, one after
// the other (a restart) or at once (several processes).
type cluster struct {
	t testing.TB
	// t0 is the injected clock's first reading (the real time, as
	// clients sign with it, truncated to a second).
	t0    time.Time
	dir   string
	db    string
	clock *testenv.Clock
	root  accounts.Credentials
	logs  *logBuffer
	opts  convlogs.Config
	// objects, when set, is the object store every node shares (the data
	// dir's localdir store belongs to one process at a time).
	objects objstore.Store
}

func newCluster(t testing.TB, db string) *cluster {
	c := &cluster{t: t, t0: time.Now().UTC().Truncate(time.Second), dir: t.TempDir(), db: db, clock: &testenv.Clock{}, root: accounts.NewRootCredentials(), logs: &logBuffer{},
		opts: convlogs.Config{PollInterval: 10 * time.Millisecond, BatchDelay: time.Millisecond}}
	c.clock.Set(c.t0)
	return c
}

// start starts a node; it is stopped when the test ends (or by stop).
func (c *cluster) node() *node {
	t := c.t
	t.Helper()
	dir := c.dir
	cfg := server.Config{
		DataDir:        dir,
		DatabaseURL:    c.db,
		Bootstrap:      accounts.Bootstrap{AccountID: acct, AccessKeyID: c.root.AccessKeyID, SecretAccessKey: c.root.SecretAccessKey},
		Logger:         slog.New(slog.NewTextHandler(c.logs, nil)),
		Now:            c.clock.Now,
		CredentialsOut: io.Discard,
		KeyCacheTTL:    -1,
		ConvLogs:       c.opts,
		LexRuntime:     func(rc *lexruntime.Config) { rc.Speech = fakeSpeech{} },
		ObjectStore:    c.objects,
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.RunWorkers(ctx); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			hs.Close()
			cancel()
			<-done
			srv.Close()
		})
	}
	t.Cleanup(stop)
	return &node{Env: &testenv.Env{Server: srv, HTTP: hs, URL: hs.URL, AccountID: acct, Root: c.root, Clock: c.clock, DataDir: dir}, stop: stop}
}

// clients are the SDK clients of one node.
type clients struct {
	t    testing.TB
	n    *node
	ctx  context.Context
	lm   *lm.Client
	iam  *iam.Client
	logs *cloudwatchlogs.Client
	s3   *s3.Client
	kms  *kms.Client
	ct   *cloudtrail.Client
	rt   *rt.LexRuntimeService
	// reqIDs are the request IDs of the runtime calls, in order.
	mu     sync.Mutex
	reqIDs []string
}

func (n *node) clients(t testing.TB, creds ...aws.Credentials) *clients {
	cfg := n.Config(creds...)
	cfg.HTTPClient = &http.Client{Transport: testenv.BufferBodies(n.HTTP.Client().Transport)}
	c := &clients{t: t, n: n, ctx: context.Background(), lm: lm.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg),
		logs: cloudwatchlogs.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		kms: kms.NewFromConfig(cfg), ct: cloudtrail.NewFromConfig(cfg)}
	ak, sk := n.Root.AccessKeyID, n.Root.SecretAccessKey
	if len(creds) > 0 {
		ak, sk = creds[0].AccessKeyID, creds[0].SecretAccessKey
	}
	sess := session.Must(session.NewSession(&awsv1.Config{
		Region: awsv1.String("us-east-1"), Endpoint: awsv1.String(n.URL), Credentials: credv1.NewStaticCredentials(ak, sk, ""),
		HTTPClient: n.HTTP.Client(), MaxRetries: awsv1.Int(0),
	}))
	c.rt = rt.New(sess)
	c.rt.Handlers.Complete.PushBack(func(r *request.Request) {
		c.mu.Lock()
		c.reqIDs = append(c.reqIDs, r.RequestID)
		c.mu.Unlock()
	})
	return c
}

func (c *clients) lastRequestID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reqIDs[len(c.reqIDs)-1]
}

// ---- bots ----

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

func slot(name, typ string, prio int, prompts ...string) obj {
	s := obj{"name": name, "slotType": typ, "priority": prio, "slotConstraint": "Required", "sampleUtterances": []string{},
		"valueElicitationPrompt": prompt(2, prompts...)}
	if !strings.HasPrefix(typ, "AMAZON.") {
		s["slotTypeVersion"] = "1"
	}
	return s
}

func slotType(name, strategy string, values ...[]string) obj {
	var vs []any
	for _, v := range values {
		vs = append(vs, obj{"value": v[0], "synonyms": v[1:]})
	}
	return obj{"name": name, "version": "1", "enumerationValues": vs, "valueSelectionStrategy": strategy}
}

// flowersBot is the OrderFlowers blueprint.
func flowersBot(name string) obj {
	flowerType := slot("FlowerType", "FlowerTypes", 1, "What type of flowers would you like to order?")
	flowerType["valueElicitationPrompt"].(obj)["responseCard"] = `{"version":1,"contentType":"application/vnd.amazonaws.card.generic",` +
		`"genericAttachments":[{"title":"Flowers","subTitle":"Pick one","buttons":[{"text":"Roses","value":"roses"},{"text":"Tulips","value":"tulips"}]}]}`
	status := obj{"name": "OrderStatus", "version": "1", "fulfillmentActivity": obj{"type": "ReturnIntent"},
		"sampleUtterances": []string{"where is my order", "what is the status of my order", "track my flowers"}}
	intent := obj{
		"name": "OrderFlowers", "version": "1", "fulfillmentActivity": obj{"type": "ReturnIntent"},
		"sampleUtterances": []string{"I would like to pick up flowers", "I would like to order some flowers", "I want to order {FlowerType}",
			"order flowers", "can I get some {FlowerType}", "send flowers", "I want {FlowerType} on {PickupDate}"},
		"slots": []any{
			flowerType,
			slot("PickupDate", "AMAZON.DATE", 2, "What day do you want the {FlowerType} to be picked up?"),
			slot("PickupTime", "AMAZON.TIME", 3, "At what time do you want the {FlowerType} to be picked up?"),
		},
		"confirmationPrompt": prompt(2, "Okay, your {FlowerType} will be ready for pickup by {PickupTime} on {PickupDate}.  Does this sound okay?"),
		"rejectionStatement": statement("Okay, I will not place your order."),
	}
	return obj{"name": name, "version": "1", "locale": "en-US", "childDirected": false, "idleSessionTTLInSeconds": 300,
		"intents":                 []obj{intent, status},
		"slotTypes":               []obj{slotType("FlowerTypes", "ORIGINAL_VALUE", []string{"roses", "rose"}, []string{"tulips", "tulip"}, []string{"lilies", "lily"})},
		"clarificationPrompt":     prompt(2, "I didn't understand you, what would you like to do?"),
		"abortStatement":          statement("Sorry, I am not able to assist at this time"),
		"voiceId":                 "Salli",
		"enableModelImprovements": true, "nluIntentConfidenceThreshold": 0.6, "detectSentiment": true}
}

func botZip(t testing.TB, bot obj) []byte {
	doc, err := json.Marshal(obj{"metadata": obj{"schemaVersion": "1.0", "importType": "LEX", "importFormat": "JSON"}, "resource": bot})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(bot["name"].(string) + "_Export.json")
	w.Write(doc)
	zw.Close()
	return buf.Bytes()
}

// deploy imports the bot, builds it and publishes version 1 (no alias).
func (c *clients) deploy(bot obj) {
	c.t.Helper()
	name := bot["name"].(string)
	imp, err := c.lm.StartImport(c.ctx, &lm.StartImportInput{Payload: botZip(c.t, bot), ResourceType: lmtypes.ResourceTypeBot, MergeStrategy: lmtypes.MergeStrategyOverwriteLatest})
	if err != nil {
		c.t.Fatalf("StartImport %s: %v", name, err)
	}
	c.eventually("import "+name, func() (bool, error) {
		g, err := c.lm.GetImport(c.ctx, &lm.GetImportInput{ImportId: imp.ImportId})
		if err == nil && g.ImportStatus == lmtypes.ImportStatusFailed {
			return false, fmt.Errorf("import failed: %v", g.FailureReason)
		}
		return err == nil && g.ImportStatus == lmtypes.ImportStatusComplete, err
	})
	c.waitBuilt(name, "$LATEST")
	v, err := c.lm.CreateBotVersion(c.ctx, &lm.CreateBotVersionInput{Name: aws.String(name)})
	if err != nil {
		c.t.Fatalf("CreateBotVersion %s: %v", name, err)
	}
	c.waitBuilt(name, aws.ToString(v.Version))
}

func (c *clients) waitBuilt(name, version string) {
	c.t.Helper()
	c.eventually("build "+name+":"+version, func() (bool, error) {
		g, err := c.lm.GetBot(c.ctx, &lm.GetBotInput{Name: aws.String(name), VersionOrAlias: aws.String(version)})
		if err == nil && (g.Status == lmtypes.StatusFailed || g.Status == lmtypes.StatusNotBuilt) {
			return false, fmt.Errorf("%s: %s", g.Status, aws.ToString(g.FailureReason))
		}
		return err == nil && g.Status == lmtypes.StatusReady, err
	})
}

// eventually polls cond (real time, up to 30 s).
func (c *clients) eventually(what string, cond func() (bool, error)) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := cond()
		if err != nil {
			c.t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: timed out", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// putAlias points alias at version with the given conversation logs (nil:
// none), passing the current checksum.
func (c *clients) putAlias(bot, alias, version string, logs *lmtypes.ConversationLogsRequest) (*lm.PutBotAliasOutput, error) {
	var checksum *string
	if a, err := c.lm.GetBotAlias(c.ctx, &lm.GetBotAliasInput{BotName: aws.String(bot), Name: aws.String(alias)}); err == nil {
		checksum = a.Checksum
	}
	return c.lm.PutBotAlias(c.ctx, &lm.PutBotAliasInput{BotName: aws.String(bot), Name: aws.String(alias), BotVersion: aws.String(version),
		Checksum: checksum, ConversationLogs: logs})
}

func (c *clients) mustAlias(bot, alias, version string, logs *lmtypes.ConversationLogsRequest) *lm.PutBotAliasOutput {
	c.t.Helper()
	out, err := c.putAlias(bot, alias, version, logs)
	if err != nil {
		c.t.Fatalf("PutBotAlias %s/%s: %v", bot, alias, err)
	}
	return out
}

// ---- destinations ----

const trustLex = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// writerPolicy is what a customer role needs for conversation logs into
// group and bucket, with the audio key.
func writerPolicy(group, bucket, keyARN string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:%s:log-group:%s:*"},
		{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/*"},
		{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"%s"}]}`, acct, group, bucket, keyARN)
}

// dests creates a log group, a bucket and a KMS key, and a customer role
// LexConvLogs trusting Lex with writerPolicy. It returns the key ARN.
func (c *clients) dests(group, bucket string) string {
	c.t.Helper()
	if _, err := c.logs.CreateLogGroup(c.ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.s3.CreateBucket(c.ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		c.t.Fatal(err)
	}
	k, err := c.kms.CreateKey(c.ctx, &kms.CreateKeyInput{Description: aws.String("lex audio logs")})
	if err != nil {
		c.t.Fatal(err)
	}
	keyARN := aws.ToString(k.KeyMetadata.Arn)
	if _, err := c.iam.CreateRole(c.ctx, &iam.CreateRoleInput{RoleName: aws.String("LexConvLogs"), AssumeRolePolicyDocument: aws.String(trustLex)}); err != nil {
		c.t.Fatal(err)
	}
	c.putRolePolicy("LexConvLogs", writerPolicy(group, bucket, keyARN))
	return keyARN
}

func (c *clients) putRolePolicy(role, doc string) {
	c.t.Helper()
	if _, err := c.iam.PutRolePolicy(c.ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("conversation-logs"),
		PolicyDocument: aws.String(doc)}); err != nil {
		c.t.Fatal(err)
	}
}

func roleARN(name string) string { return "arn:aws:iam::" + acct + ":role/" + name }
func groupARN(name string) string {
	return "arn:aws:logs:us-east-1:" + acct + ":log-group:" + name
}

// logsConfig is a conversationLogs request: text into group (when not
// ""), audio into bucket (when not "") with key (when not "").
func logsConfig(role, group, bucket, key string) *lmtypes.ConversationLogsRequest {
	l := &lmtypes.ConversationLogsRequest{IamRoleArn: aws.String(role)}
	if group != "" {
		l.LogSettings = append(l.LogSettings, lmtypes.LogSettingsRequest{LogType: lmtypes.LogTypeText, Destination: lmtypes.DestinationCloudwatchLogs,
			ResourceArn: aws.String(groupARN(group))})
	}
	if bucket != "" {
		ls := lmtypes.LogSettingsRequest{LogType: lmtypes.LogTypeAudio, Destination: lmtypes.DestinationS3, ResourceArn: aws.String("arn:aws:s3:::" + bucket)}
		if key != "" {
			ls.KmsKeyArn = aws.String(key)
		}
		l.LogSettings = append(l.LogSettings, ls)
	}
	return l
}

// ---- conversations ----

type user struct {
	c          *clients
	bot, alias string
	id         string
	// session and request attributes sent with the next turn
	attrs, reqAttrs map[string]string
}

func (c *clients) user(bot, alias, id string) *user {
	return &user{c: c, bot: bot, alias: alias, id: id}
}

func (u *user) say(text string) *rt.PostTextOutput {
	u.c.t.Helper()
	out, err := u.c.rt.PostText(&rt.PostTextInput{BotName: &u.bot, BotAlias: &u.alias, UserId: &u.id, InputText: &text,
		SessionAttributes: awsv1.StringMap(u.attrs), RequestAttributes: awsv1.StringMap(u.reqAttrs)})
	if err != nil {
		u.c.t.Fatalf("PostText %q: %v", text, err)
	}
	return out
}

// speak sends an audio PostContent turn.
func (u *user) speak(text string) *rt.PostContentOutput {
	u.c.t.Helper()
	out, err := u.c.rt.PostContent(&rt.PostContentInput{BotName: &u.bot, BotAlias: &u.alias, UserId: &u.id,
		ContentType: awsv1.String("audio/l16; rate=16000; channels=1"), Accept: awsv1.String("text/plain; charset=utf-8"),
		InputStream: bytes.NewReader(audioOf(text))})
	if err != nil {
		u.c.t.Fatalf("PostContent %q: %v", text, err)
	}
	return out
}

// ---- reading logs back ----

// events returns every event of the log group, read with GetLogEvents
// stream by stream (streams listed with DescribeLogStreams), in time
// order, with the stream each came from.
func (c *clients) events(group string) []logEvent {
	c.t.Helper()
	var out []logEvent
	var token *string
	for {
		ds, err := c.logs.DescribeLogStreams(c.ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), NextToken: token})
		if err != nil {
			c.t.Fatal(err)
		}
		for _, st := range ds.LogStreams {
			var fwd *string
			for {
				ge, err := c.logs.GetLogEvents(c.ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: st.LogStreamName,
					StartFromHead: aws.Bool(true), NextToken: fwd})
				if err != nil {
					c.t.Fatal(err)
				}
				for _, e := range ge.Events {
					out = append(out, logEvent{stream: aws.ToString(st.LogStreamName), ts: aws.ToInt64(e.Timestamp), msg: aws.ToString(e.Message)})
				}
				if len(ge.Events) == 0 || aws.ToString(ge.NextForwardToken) == aws.ToString(fwd) {
					break
				}
				fwd = ge.NextForwardToken
			}
		}
		if ds.NextToken == nil {
			break
		}
		token = ds.NextToken
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].ts < out[b].ts })
	return out
}

// filter returns the messages FilterLogEvents finds for pattern.
func (c *clients) filter(group, pattern string) []string {
	c.t.Helper()
	var out []string
	var token *string
	for {
		f, err := c.logs.FilterLogEvents(c.ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(pattern), NextToken: token})
		if err != nil {
			c.t.Fatal(err)
		}
		for _, e := range f.Events {
			out = append(out, aws.ToString(e.Message))
		}
		if f.NextToken == nil {
			return out
		}
		token = f.NextToken
	}
}

type logEvent struct {
	stream string
	ts     int64
	msg    string
}

// waitEvents waits until the group holds n events (failing on more).
func (c *clients) waitEvents(group string, n int) []logEvent {
	c.t.Helper()
	var evs []logEvent
	c.eventually(fmt.Sprintf("%d events in %s", n, group), func() (bool, error) {
		_, err := c.logs.DescribeLogStreams(c.ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group)})
		var nf *cwtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return false, nil
		}
		evs = c.events(group)
		if len(evs) > n {
			return false, fmt.Errorf("%d events, want %d", len(evs), n)
		}
		return len(evs) == n, nil
	})
	return evs
}

// drained waits until nothing of the alias is queued.
func (c *clients) drained(bot, alias string) []convlogs.DeliveryStatus {
	c.t.Helper()
	var st []convlogs.DeliveryStatus
	c.eventually("queue of "+bot+"/"+alias+" drained", func() (bool, error) {
		var err error
		st, err = c.n.Server.ConvLogs.Status(c.ctx, acct, "us-east-1", bot, alias)
		for _, s := range st {
			if s.Pending > 0 {
				return false, err
			}
		}
		return true, err
	})
	return st
}

// doc decodes a text-log document.
func doc(t testing.TB, msg string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, msg)
	}
	return m
}

// golden compares a normalized document with testdata/<name>.json field
// by field, then byte for byte (member order and encoding).
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create it)", name, err)
	}
	want := strings.TrimSuffix(string(b), "\n")
	gm, wm := doc(t, got), doc(t, want)
	keys := map[string]bool{}
	for k := range maps.Keys(gm) {
		keys[k] = true
	}
	for k := range maps.Keys(wm) {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		g, gok := gm[k]
		w, wok := wm[k]
		switch {
		case !gok:
			t.Errorf("%s: field %s missing (want %v)", name, k, w)
		case !wok:
			t.Errorf("%s: unexpected field %s = %v", name, k, g)
		case !reflect.DeepEqual(g, w):
			t.Errorf("%s: field %s = %#v, want %#v", name, k, g, w)
		}
	}
	if !t.Failed() && got != want {
		t.Errorf("%s: same fields, different encoding or order:\n got %s\nwant %s", name, got, want)
	}
}

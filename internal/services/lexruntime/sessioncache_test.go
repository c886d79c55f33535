package lexruntime_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	credv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"

	"lextrail/internal/accounts"
	"lextrail/internal/server"
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/testenv"
)

// twin starts a second lextrail process on v's data dir and database
// (another node of one deployment), with v's clock and root credentials.
func twin(t *testing.T, v *env, db string) *env {
	t.Helper()
	srv, err := server.New(context.Background(), server.Config{
		DataDir: v.e.DataDir, DatabaseURL: db,
		Bootstrap: accounts.Bootstrap{AccountID: v.e.AccountID, AccessKeyID: v.e.Root.AccessKeyID, SecretAccessKey: v.e.Root.SecretAccessKey},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)), Now: v.e.Clock.Now, CredentialsOut: io.Discard, KeyCacheTTL: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	e := &testenv.Env{Server: srv, HTTP: hs, URL: hs.URL, AccountID: v.e.AccountID, Root: v.e.Root, Clock: v.e.Clock, DataDir: v.e.DataDir}
	sess := session.Must(session.NewSession(&awsv1.Config{
		Region: awsv1.String("us-east-1"), Endpoint: awsv1.String(e.URL), HTTPClient: hs.Client(), MaxRetries: awsv1.Int(0),
		Credentials: credv1.NewStaticCredentials(e.Root.AccessKeyID, e.Root.SecretAccessKey, ""),
	}))
	cfg := v.e.Config()
	cfg.BaseEndpoint, cfg.HTTPClient = aws.String(hs.URL), hs.Client()
	return &env{t: t, e: e, lm: lm.NewFromConfig(cfg), rt: rt.New(sess), rec: &recorder{}, ctx: context.Background()}
}

// TestSessionCacheSeveralProcesses: each process keeps the sessions it
// served in memory; a conversation whose turns alternate between two
// processes on one database, a session deleted or replaced by PutSession
// on the other one, and an alias deleted there, are all seen at once
// (every cached turn is checked when it commits and run again from the
// database when stale), on both drivers.
func TestSessionCacheSeveralProcesses(t *testing.T) { eachDriver(t, testSessionCacheSeveralProcesses) }

func testSessionCacheSeveralProcesses(t *testing.T, db string) {
	a := newEnv(t, envOpts{dbURL: db})
	a.deploy(orderFlowersBot("OrderFlowersBot"))
	b := twin(t, a, db)
	const bot = "OrderFlowersBot"
	ua, ub := a.user(bot, "prod", "hopper"), b.user(bot, "prod", "hopper")

	// Turns alternate: each process's cached copy is stale every time.
	first := ua.expect(turn{say: "i would like to order flowers", state: "ElicitSlot", slot: "FlowerType"})
	ub.expect(turn{say: "roses", state: "ElicitSlot", slot: "PickupDate"})
	ua.expect(turn{say: "tomorrow", state: "ElicitSlot", slot: "PickupTime"})
	last := ub.expect(turn{say: "3 pm", state: "ConfirmIntent"})
	if awsv1.StringValue(last.SessionId) != awsv1.StringValue(first.SessionId) {
		t.Fatalf("the session changed between processes: %v then %v", awsv1.StringValue(first.SessionId), awsv1.StringValue(last.SessionId))
	}
	if got := awsv1.StringValue(last.Slots["FlowerType"]); got != "roses" {
		t.Errorf("FlowerType %q after the turns on both processes", got)
	}
	staleBefore := a.e.Server.LexRuntime.StaleTurns()
	ua.expect(turn{say: "yes", state: "ReadyForFulfillment"})
	if a.e.Server.LexRuntime.StaleTurns() <= staleBefore {
		t.Error("a turn after the other process's turn was not found stale")
	}

	// A session deleted by the other process: the cached one is gone too.
	ua.expect(turn{say: "i would like to order flowers", state: "ElicitSlot", slot: "FlowerType"})
	in := &rt.DeleteSessionInput{BotName: awsv1.String(bot), BotAlias: awsv1.String("prod"), UserId: awsv1.String("hopper")}
	if _, err := b.rt.DeleteSession(in); err != nil {
		t.Fatal(err)
	}
	ua.expect(turn{say: "3 pm", state: "ElicitIntent", intent: "-", msg: clarify})

	// PutSession on the other process replaces what this one cached.
	ua.expect(turn{say: "i would like to order flowers", state: "ElicitSlot", slot: "FlowerType"})
	if _, err := b.rt.PutSession(&rt.PutSessionInput{BotName: awsv1.String(bot), BotAlias: awsv1.String("prod"), UserId: awsv1.String("hopper"),
		DialogAction: &rt.DialogAction{Type: awsv1.String("ElicitSlot"), IntentName: awsv1.String("OrderFlowers"), SlotToElicit: awsv1.String("PickupTime"),
			Slots: map[string]*string{"FlowerType": awsv1.String("tulips"), "PickupDate": awsv1.String("2030-01-02")}}}); err != nil {
		t.Fatal(err)
	}
	out := ua.expect(turn{say: "3 pm", state: "ConfirmIntent"})
	if got := awsv1.StringValue(out.Slots["FlowerType"]); got != "tulips" {
		t.Errorf("FlowerType %q after PutSession on the other process", got)
	}

	// The alias deleted on the other process: 404 here, though this
	// process cached the session in its last turn.
	if _, err := b.lm.DeleteBotAlias(b.ctx, &lm.DeleteBotAliasInput{BotName: aws.String(bot), Name: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	_, err := ua.post("yes")
	wantErr(t, err, "NotFoundException", 404)
}

// TestSessionCacheOneProcess: on one process a continuing turn is served
// from the cache (no stale turns), and turning the cache off changes no
// answer.
func TestSessionCacheOneProcess(t *testing.T) {
	for _, size := range []int{0, -1} {
		v := newEnv(t, envOpts{configure: func(c *server.Config) {
			c.LexRuntime = func(rc *lexruntime.Config) { rc.SessionCacheSize = size }
		}})
		v.deploy(orderFlowersBot("OrderFlowersBot"))
		u := v.user("OrderFlowersBot", "prod", "solo")
		u.expect(turn{say: "i would like to order flowers", state: "ElicitSlot", slot: "FlowerType"},
			turn{say: "roses", state: "ElicitSlot", slot: "PickupDate"},
			turn{say: "tomorrow", state: "ElicitSlot", slot: "PickupTime"},
			turn{say: "3 pm", state: "ConfirmIntent"},
			turn{say: "yes", state: "ReadyForFulfillment"})
		if n := v.e.Server.LexRuntime.StaleTurns(); n != 0 {
			t.Errorf("cache size %d: %d stale turns on a single process", size, n)
		}
		if got, want := v.e.Server.LexRuntime.CachedSessions(), map[int]int{0: 1, -1: 0}[size]; got != want {
			t.Errorf("cache size %d: %d sessions cached, want %d", size, got, want)
		}
	}
}

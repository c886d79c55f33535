package lexruntime_test

import (
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"

	"lextrail/internal/server"
	"lextrail/internal/services/lexruntime"
)

func postContent(v *env, user, text, contentType, accept string, attrs awsv1.JSONValue) (*rt.PostContentOutput, error) {
	in := &rt.PostContentInput{BotName: awsv1.String("OrderFlowersBot"), BotAlias: awsv1.String("prod"), UserId: awsv1.String(user),
		ContentType: awsv1.String(contentType), InputStream: strings.NewReader(text), SessionAttributes: attrs}
	if accept != "" {
		in.Accept = awsv1.String(accept)
	}
	return v.rt.PostContent(in)
}

func decode64(t *testing.T, s *string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(awsv1.StringValue(s))
	if err != nil {
		t.Fatalf("not base64: %q", awsv1.StringValue(s))
	}
	return string(b)
}

// TestPostContentText: R7 and R8 — text in through PostContent, state in
// headers (jsonvalue headers decoded by the SDK, the encoded message as
// base64 text), and the 415/406 answers for what lextrail cannot do yet.
func TestPostContentText(t *testing.T) {
	// without a speech backend (the server's is taken out): audio in and
	// out are 415/406 (internal/speech/lexvoice tests them with one)
	v := newEnv(t, envOpts{configure: func(c *server.Config) {
		c.LexRuntime = func(rc *lexruntime.Config) { rc.Speech = nil }
	}})
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	out, err := postContent(v, "user-2", "i would like to order flowers", "text/plain; charset=utf-8", "text/plain; charset=utf-8", awsv1.JSONValue{"a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	req, resp := v.rec.last()
	if got := req.Get("X-Amz-Lex-Session-Attributes"); got != "eyJhIjoiYiJ9" {
		t.Errorf("request session attributes header %q", got)
	}
	body, _ := io.ReadAll(out.AudioStream)
	if len(body) != 0 || resp.Get("Content-Type") != "text/plain;charset=utf-8" || awsv1.StringValue(out.ContentType) != "text/plain;charset=utf-8" {
		t.Errorf("body %q, content type %q", body, resp.Get("Content-Type"))
	}
	if awsv1.StringValue(out.DialogState) != "ElicitSlot" || awsv1.StringValue(out.SlotToElicit) != "FlowerType" || awsv1.StringValue(out.IntentName) != "OrderFlowers" {
		t.Errorf("answer %v", out)
	}
	if out.Slots == nil || len(out.Slots) != 3 || out.Slots["FlowerType"] != nil || out.SessionAttributes["a"] != "b" {
		t.Errorf("slots %v, session attributes %v", out.Slots, out.SessionAttributes)
	}
	if msg := decode64(t, out.EncodedMessage); msg != "What type of flowers would you like to order?" || awsv1.StringValue(out.Message) != msg {
		t.Errorf("encoded message %q, message %q", msg, awsv1.StringValue(out.Message))
	}
	if decode64(t, out.EncodedInputTranscript) != "i would like to order flowers" || awsv1.StringValue(out.BotVersion) != "1" || awsv1.StringValue(out.SessionId) == "" {
		t.Errorf("transcript/version/session %v", out)
	}
	// no Accept header: text
	if out, err = postContent(v, "user-2", "roses", "text/plain; charset=utf-8", "", nil); err != nil || awsv1.StringValue(out.SlotToElicit) != "PickupDate" {
		t.Fatalf("no Accept: %v %v", out, err)
	}
	for _, tc := range []struct{ ct, accept, code string }{
		{"audio/flac", "", "UnsupportedMediaTypeException"},
		{"audio/l16; rate=16000; channels=1", "", "UnsupportedMediaTypeException"},
		{"text/plain; charset=utf-8", "video/mp4", "NotAcceptableException"},
		{"text/plain; charset=utf-8", "audio/mpeg", "NotAcceptableException"},
	} {
		_, err := postContent(v, "user-4", "hello", tc.ct, tc.accept, nil)
		st := 415
		if tc.code == "NotAcceptableException" {
			st = 406
		}
		wantErr(t, err, tc.code, st)
	}
	// Spanish messages carry no plain x-amz-lex-message header (not
	// ASCII), only the encoded one.
}

// TestSessionAPI: R9–R12 and checkpoints.
func TestSessionAPI(t *testing.T) { eachDriver(t, testSessionAPI) }

func testSessionAPI(t *testing.T, db string) {
	v := newEnv(t, envOpts{dbURL: db})
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	bot, alias := awsv1.String("OrderFlowersBot"), awsv1.String("prod")
	u := v.user("OrderFlowersBot", "prod", "user-1")
	first := u.say("i would like to order flowers")

	// R9
	s, err := v.rt.GetSession(&rt.GetSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1")})
	if err != nil {
		t.Fatal(err)
	}
	if awsv1.StringValue(s.SessionId) != awsv1.StringValue(first.SessionId) || len(s.RecentIntentSummaryView) != 1 ||
		awsv1.StringValue(s.RecentIntentSummaryView[0].IntentName) != "OrderFlowers" || s.DialogAction == nil ||
		awsv1.StringValue(s.DialogAction.Type) != "ElicitSlot" || awsv1.StringValue(s.DialogAction.SlotToElicit) != "FlowerType" {
		t.Fatalf("GetSession = %v", s)
	}

	// R10: PutSession moves the dialog to PickupDate; the answer fills it
	// and the engine goes back to the empty FlowerType.
	ps, err := v.rt.PutSession(&rt.PutSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1"), Accept: awsv1.String("text/plain; charset=utf-8"),
		DialogAction:      &rt.DialogAction{Type: awsv1.String("ElicitSlot"), IntentName: awsv1.String("OrderFlowers"), SlotToElicit: awsv1.String("PickupDate")},
		SessionAttributes: map[string]*string{"channel": awsv1.String("web")}})
	if err != nil {
		t.Fatal(err)
	}
	_, resp := v.rec.last()
	if resp.Get("X-Amz-Lex-Dialog-State") != "ElicitSlot" || resp.Get("X-Amz-Lex-Slot-To-Elicit") != "PickupDate" ||
		awsv1.StringValue(ps.DialogState) != "ElicitSlot" || decode64(t, ps.EncodedMessage) != "What day do you want the  to be picked up?" ||
		ps.SessionAttributes["channel"] != "web" || awsv1.StringValue(ps.SessionId) != awsv1.StringValue(first.SessionId) {
		t.Errorf("PutSession = %v (headers %v)", ps, resp)
	}
	u.expect(turn{say: "tomorrow", state: "ElicitSlot", slot: "FlowerType"})

	// checkpoints: a labelled summary is found by the filter
	_, err = v.rt.PutSession(&rt.PutSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1"),
		RecentIntentSummaryView: []*rt.IntentSummary{{IntentName: awsv1.String("OrderFlowers"), CheckpointLabel: awsv1.String("before-handoff"),
			DialogActionType: awsv1.String("ElicitSlot"), SlotToElicit: awsv1.String("FlowerType"), Slots: map[string]*string{"PickupDate": awsv1.String("2030-01-01")}}},
		DialogAction: &rt.DialogAction{Type: awsv1.String("ElicitSlot"), IntentName: awsv1.String("OrderFlowers"), SlotToElicit: awsv1.String("FlowerType"),
			Message: awsv1.String("Which flowers, then?"), MessageFormat: awsv1.String("PlainText")}})
	if err != nil {
		t.Fatal(err)
	}
	s, err = v.rt.GetSession(&rt.GetSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1"), CheckpointLabelFilter: awsv1.String("before-handoff")})
	if err != nil || len(s.RecentIntentSummaryView) != 1 || awsv1.StringValue(s.RecentIntentSummaryView[0].CheckpointLabel) != "before-handoff" ||
		awsv1.StringValue(s.DialogAction.Message) != "Which flowers, then?" {
		t.Errorf("checkpoint GetSession = %v %v", s, err)
	}
	s, err = v.rt.GetSession(&rt.GetSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1"), CheckpointLabelFilter: awsv1.String("other")})
	if err != nil || len(s.RecentIntentSummaryView) != 0 {
		t.Errorf("other label: %v %v", s, err)
	}
	// bad PutSession input
	_, err = v.rt.PutSession(&rt.PutSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1"),
		DialogAction: &rt.DialogAction{Type: awsv1.String("ElicitSlot"), IntentName: awsv1.String("OrderFlowers"), SlotToElicit: awsv1.String("Colour")}})
	wantErr(t, err, "BadRequestException", 400)
	_, err = v.rt.PutSession(&rt.PutSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1"),
		DialogAction: &rt.DialogAction{Type: awsv1.String("ElicitSlot"), IntentName: awsv1.String("NoSuchIntent"), SlotToElicit: awsv1.String("X")}})
	wantErr(t, err, "BadRequestException", 400)

	// R12
	d, err := v.rt.DeleteSession(&rt.DeleteSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1")})
	if err != nil || awsv1.StringValue(d.SessionId) != awsv1.StringValue(first.SessionId) || awsv1.StringValue(d.BotName) != "OrderFlowersBot" ||
		awsv1.StringValue(d.BotAlias) != "prod" || awsv1.StringValue(d.UserId) != "user-1" {
		t.Fatalf("DeleteSession = %v %v", d, err)
	}
	_, err = v.rt.GetSession(&rt.GetSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1")})
	wantErr(t, err, "NotFoundException", 404)
	_, err = v.rt.DeleteSession(&rt.DeleteSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("user-1")})
	wantErr(t, err, "NotFoundException", 404)
	// a new conversation after the delete has a new session
	if again := u.say("order flowers"); awsv1.StringValue(again.SessionId) == awsv1.StringValue(first.SessionId) {
		t.Error("session survived DeleteSession")
	}
	// PutSession creates a session
	ps, err = v.rt.PutSession(&rt.PutSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("fresh-user"),
		DialogAction: &rt.DialogAction{Type: awsv1.String("ElicitIntent")}})
	if err != nil || awsv1.StringValue(ps.DialogState) != "ElicitIntent" || decode64(t, ps.EncodedMessage) != clarify {
		t.Fatalf("PutSession ElicitIntent = %v %v", ps, err)
	}
}

// TestRuntimeErrors: R11, R13–R15 and input validation.
func TestRuntimeErrors(t *testing.T) {
	v := newEnv(t)
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	v.deploy(newBot("NoClarify", "en-US", []obj{orderFlowersIntent()}, []obj{flowerTypes()}))

	// R11
	_, err := v.rt.PutSession(&rt.PutSessionInput{BotName: awsv1.String("NoClarify"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("user-1"),
		DialogAction: &rt.DialogAction{Type: awsv1.String("ElicitIntent")}})
	wantErr(t, err, "BadRequestException", 400)
	// no clarification prompt and no fallback: an utterance nothing matches is a 400
	_, err = v.user("NoClarify", "prod", "user-1").post("the quick brown fox")
	wantErr(t, err, "BadRequestException", 400)

	// R13
	_, err = v.user("OrderFlowersBot", "nope", "user-1").post("hello")
	wantErr(t, err, "NotFoundException", 404)
	if !strings.Contains(err.Error(), "There is no alias named nope for the bot named OrderFlowersBot") {
		t.Errorf("message: %v", err)
	}
	_, err = v.user("NoSuchBot", "prod", "user-1").post("hello")
	wantErr(t, err, "NotFoundException", 404)
	_, err = v.user("NoSuchBot", "$LATEST", "user-1").post("hello")
	wantErr(t, err, "NotFoundException", 404)

	// R14 and friends
	_, err = v.user("OrderFlowersBot", "prod", "user-1").post(strings.Repeat("a", 1025))
	wantErr(t, err, "BadRequestException", 400)
	_, err = v.user("OrderFlowersBot", "prod", "user one!").post("hello")
	wantErr(t, err, "BadRequestException", 400)
	big := strings.Repeat("x", 13<<10)
	_, err = v.rt.PostText(&rt.PostTextInput{BotName: awsv1.String("OrderFlowersBot"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("user-1"),
		InputText: awsv1.String("hi"), SessionAttributes: map[string]*string{"big": &big}})
	wantErr(t, err, "BadRequestException", 400)

	// $LATEST of a built bot works, with botVersion $LATEST
	if out := v.user("OrderFlowersBot", "$LATEST", "user-1").say("order flowers"); awsv1.StringValue(out.BotVersion) != "$LATEST" {
		t.Errorf("botVersion %v", out.BotVersion)
	}
	// R15: a $LATEST that was saved but never built
	_, err = v.lm.PutBot(v.ctx, &lm.PutBotInput{Name: aws.String("Unbuilt"), Locale: lmtypes.LocaleEnUs, ChildDirected: aws.Bool(false),
		ProcessBehavior: lmtypes.ProcessBehaviorSave, Intents: []lmtypes.Intent{{IntentName: aws.String("OrderFlowers"), IntentVersion: aws.String("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.user("Unbuilt", "$LATEST", "user-1").post("order flowers")
	wantErr(t, err, "BadRequestException", 400)
	// a bot whose build failed (no intents)
	if _, err = v.lm.PutBot(v.ctx, &lm.PutBotInput{Name: aws.String("Broken"), Locale: lmtypes.LocaleEnUs, ChildDirected: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		g, err := v.lm.GetBot(v.ctx, &lm.GetBotInput{Name: aws.String("Broken"), VersionOrAlias: aws.String("$LATEST")})
		if err != nil || g.Status == lmtypes.StatusFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Broken: %s", g.Status)
		}
	}
	_, err = v.user("Broken", "$LATEST", "user-1").post("hello")
	wantErr(t, err, "BadRequestException", 400)
	if !strings.Contains(err.Error(), "failed to build") {
		t.Errorf("message: %v", err)
	}
}

// TestSessionLifetime: the idle TTL slides with each turn and, once passed,
// the next turn starts a new session (injected clock); the alias's
// version is fixed for a session's life; a $LATEST rebuild ends $LATEST
// sessions.
func TestSessionLifetime(t *testing.T) { eachDriver(t, testSessionLifetime) }

func testSessionLifetime(t *testing.T, db string) {
	v := newEnv(t, envOpts{dbURL: db})
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	u := v.user("OrderFlowersBot", "prod", "idle")
	first := u.say("i would like to order flowers")
	v.e.Clock.Advance(200 * time.Second)
	u.expect(turn{say: "roses", state: "ElicitSlot", slot: "PickupDate"})
	v.e.Clock.Advance(200 * time.Second) // 400 s since the start, 200 s idle
	mid := u.expect(turn{say: "tomorrow", state: "ElicitSlot", slot: "PickupTime"})
	if awsv1.StringValue(mid.SessionId) != awsv1.StringValue(first.SessionId) {
		t.Fatal("the sliding TTL did not slide")
	}
	v.e.Clock.Advance(301 * time.Second)
	_, err := v.rt.GetSession(&rt.GetSessionInput{BotName: awsv1.String("OrderFlowersBot"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("idle")})
	wantErr(t, err, "NotFoundException", 404)
	after := u.expect(turn{say: "3 pm", state: "ElicitIntent", intent: "-", msg: clarify})
	if awsv1.StringValue(after.SessionId) == awsv1.StringValue(first.SessionId) {
		t.Error("expired session kept its id")
	}
	if n, err := v.e.Server.LexRuntime.Sweeper().SweepOnce(v.ctx); err != nil || n != 0 {
		t.Errorf("sweep right after a live turn: %d %v", n, err)
	}
	// the sweeper reclaims a row up to a minute after it expired (its
	// index holds expiry rounded up to the minute, migration 0851)
	v.e.Clock.Advance(361 * time.Second)
	if n, err := v.e.Server.LexRuntime.Sweeper().SweepOnce(v.ctx); err != nil || n != 1 {
		t.Errorf("sweep of the expired session: %d %v", n, err)
	}

	v.e.Clock.Set(time.Now()) // back within the SigV4 clock skew

	// version 2 of the bot, with another prompt; alias prod moves to it
	old := v.user("OrderFlowersBot", "prod", "loyal")
	old.say("i would like to order flowers")
	b := orderFlowersBot("OrderFlowersBot")
	intent := b.obj["intents"].([]obj)[0]
	intent["slots"].([]any)[0].(obj)["valueElicitationPrompt"] = prompt(2, "Which flowers (v2)?")
	v.deploy(b)
	if out := old.say("roses"); awsv1.StringValue(out.BotVersion) != "1" {
		t.Errorf("existing session moved to version %v", awsv1.StringValue(out.BotVersion))
	}
	if out := v.user("OrderFlowersBot", "prod", "newcomer").say("i would like to order flowers"); awsv1.StringValue(out.BotVersion) != "2" ||
		awsv1.StringValue(out.Message) != "Which flowers (v2)?" {
		t.Errorf("new session: version %v, message %v", awsv1.StringValue(out.BotVersion), awsv1.StringValue(out.Message))
	}

	// $LATEST: a rebuild ends the conversation
	l := v.user("OrderFlowersBot", "$LATEST", "tester")
	before := l.say("i would like to order flowers")
	intent["slots"].([]any)[0].(obj)["valueElicitationPrompt"] = prompt(2, "Which flowers (v3)?")
	v.deploy(b)
	out := l.say("i would like to order flowers")
	if awsv1.StringValue(out.SessionId) == awsv1.StringValue(before.SessionId) || awsv1.StringValue(out.Message) != "Which flowers (v3)?" {
		t.Errorf("$LATEST session after rebuild: %v", out)
	}
}

package lexruntime_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	awsv1 "github.com/aws/aws-sdk-go/aws"

	"lextrail/internal/server"
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/store"
)

// turns collects observed turns.
type turns struct {
	mu   sync.Mutex
	list []*lexruntime.Turn
}

func (o *turns) ObserveTurn(t *lexruntime.Turn) {
	o.mu.Lock()
	o.list = append(o.list, t)
	o.mu.Unlock()
}

func (o *turns) all() []*lexruntime.Turn {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*lexruntime.Turn(nil), o.list...)
}

func (v *env) utteranceRows(bot string) int {
	v.t.Helper()
	var n int
	if err := v.e.Server.LexUtterances.Flush(v.ctx); err != nil {
		v.t.Fatal(err)
	}
	err := v.e.Server.DB.Read(v.ctx, func(tx *store.Tx) error {
		return tx.QueryRow(v.ctx, `SELECT COALESCE(CAST(SUM(n) AS BIGINT), 0) FROM lex_utterance_stats WHERE bot_name=$1`, bot).Scan(&n)
	})
	if err != nil {
		v.t.Fatal(err)
	}
	return n
}

// TestRecords: utterance statistics for GetUtterancesView (not for
// child-directed bots, not for obfuscated values), the turn observer (only
// committed turns, masked transcripts, the session's log settings), and no
// CloudTrail management events for runtime calls.
func TestRecords(t *testing.T) { eachDriver(t, testRecords) }

func testRecords(t *testing.T, db string) {
	obs := &turns{}
	v := newEnv(t, envOpts{dbURL: db, configure: func(c *server.Config) {
		c.LexRuntime = func(rc *lexruntime.Config) { rc.Observer = obs }
	}})
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	logs := &lmtypes.ConversationLogsRequest{IamRoleArn: aws.String("arn:aws:iam::123456789012:role/LexLogs"), LogSettings: []lmtypes.LogSettingsRequest{{
		LogType: lmtypes.LogTypeText, Destination: lmtypes.DestinationCloudwatchLogs, ResourceArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:lex")}}}
	// PutBotAlias checks that the role and the log group exist
	if _, err := iam.NewFromConfig(v.e.Config()).CreateRole(v.ctx, &iam.CreateRoleInput{RoleName: aws.String("LexLogs"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cloudwatchlogs.NewFromConfig(v.e.Config()).CreateLogGroup(v.ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("lex")}); err != nil {
		t.Fatal(err)
	}
	a, err := v.lm.GetBotAlias(v.ctx, &lm.GetBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	early := v.user("OrderFlowersBot", "prod", "early") // starts before logging is configured
	early.say("i would like to order flowers")
	if _, err := v.lm.PutBotAlias(v.ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod"), BotVersion: aws.String("1"),
		Checksum: a.Checksum, ConversationLogs: logs}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"u1", "u2"} {
		v.user("OrderFlowersBot", "prod", u).say("i would like to order flowers")
	}
	early.say("roses")
	v.user("OrderFlowersBot", "prod", "u3").say("what is the weather on mars")
	if _, err := v.user("OrderFlowersBot", "prod", "bad user").post("x"); err == nil {
		t.Fatal("bad user id accepted")
	}

	// GetUtterancesView
	view := func(status lmtypes.StatusType) map[string]lmtypes.UtteranceData {
		out, err := v.lm.GetUtterancesView(v.ctx, &lm.GetUtterancesViewInput{BotName: aws.String("OrderFlowersBot"), BotVersions: []string{"1"}, StatusType: status})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]lmtypes.UtteranceData{}
		for _, l := range out.Utterances {
			for _, u := range l.Utterances {
				m[aws.ToString(u.UtteranceString)] = u
			}
		}
		return m
	}
	det := view(lmtypes.StatusTypeDetected)
	if u := det["i would like to order flowers"]; aws.ToInt32(u.Count) != 3 || aws.ToInt32(u.DistinctUsers) != 3 || det["roses"].Count == nil {
		t.Errorf("Detected = %v", det)
	}
	if _, ok := view(lmtypes.StatusTypeMissed)["what is the weather on mars"]; !ok {
		t.Errorf("Missed = %v", view(lmtypes.StatusTypeMissed))
	}

	// the observer saw every committed turn, none of the failed one
	got := obs.all()
	if len(got) != 5 {
		t.Fatalf("observed %d turns, want 5", len(got))
	}
	first, last := got[0], got[4]
	if first.BotVersion != "1" || first.BotAlias != "prod" || first.Operation != "PostText" || first.InputDialogMode != "Text" || first.Locale != "en-US" ||
		first.Intent != "OrderFlowers" || first.DialogState != "ElicitSlot" || first.SlotToElicit != "FlowerType" || first.SessionID == "" ||
		first.RequestID == "" || first.ConversationLogs != nil || first.BotResponse == nil || first.MissedUtterance {
		t.Errorf("first turn %+v", first)
	}
	if !last.MissedUtterance || last.Intent != "" || !strings.Contains(string(last.ConversationLogs), "log-group:lex") {
		t.Errorf("missed turn %+v", last)
	}
	if roses := got[3]; roses.UserID != "early" || roses.ConversationLogs != nil || roses.Slots["FlowerType"] == nil {
		t.Errorf("a session started before logging keeps no log settings: %+v", roses)
	}

	// runtime calls are not management events
	ct := cloudtrail.NewFromConfig(v.e.Config())
	for _, name := range []string{"PostText", "GetSession", "PutBotAlias"} {
		out, err := ct.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}})
		if err != nil {
			t.Fatal(err)
		}
		if want := name == "PutBotAlias"; (len(out.Events) > 0) != want {
			t.Errorf("%s events: %d", name, len(out.Events))
		}
	}

	// a child-directed bot records no utterances
	kid := orderFlowersBot("KidsFlowers").with(obj{"childDirected": true})
	v.deploy(kid)
	v.user("KidsFlowers", "prod", "kid").say("i would like to order flowers")
	if n := v.utteranceRows("KidsFlowers"); n != 0 {
		t.Errorf("child-directed bot stored %d utterances", n)
	}

	// obfuscated slot values are neither stored nor logged in clear
	secret := orderFlowersBot("SecretFlowers")
	secret.obj["intents"].([]obj)[0]["slots"].([]any)[0].(obj)["obfuscationSetting"] = "DEFAULT_OBFUSCATION"
	v.deploy(secret)
	su := v.user("SecretFlowers", "prod", "spy")
	su.say("order flowers")
	out := su.say("I want to order {roses}")
	if awsv1.StringValue(out.Slots["FlowerType"]) != "roses" {
		t.Fatalf("the API answer must carry the real value: %v", out.Slots)
	}
	if n := v.utteranceRows("SecretFlowers"); n != 1 {
		t.Errorf("SecretFlowers stored %d utterances, want 1 (not the one with the value)", n)
	}
	lt := obs.all()[len(obs.all())-1]
	if lt.LogTranscript != `I want to order \\{{FlowerType}\\}` || aws.ToString(lt.LogSlots["FlowerType"]) != "{FlowerType}" || aws.ToString(lt.Slots["FlowerType"]) != "roses" {
		b, _ := json.Marshal(lt)
		t.Errorf("masked turn %s", b)
	}
}

// TestUtteranceFlushOption: by default a turn's utterance statistic is
// written in its own transaction (nothing pending in memory, the row there
// at once); with server.Config.LexUtteranceFlush it waits in the Lex
// service's UtteranceStats until a flush.
func TestUtteranceFlushOption(t *testing.T) {
	for _, flush := range []time.Duration{0, time.Hour} {
		t.Run(flush.String(), func(t *testing.T) {
			v := newEnv(t, envOpts{configure: func(c *server.Config) { c.LexUtteranceFlush = flush }})
			v.deploy(orderFlowersBot("OrderFlowersBot"))
			v.user("OrderFlowersBot", "prod", "u1").say("i would like to order flowers")
			pending := v.e.Server.LexUtterances.Pending()
			var rows int
			if err := v.e.Server.DB.Read(v.ctx, func(tx *store.Tx) error {
				return tx.QueryRow(v.ctx, `SELECT COUNT(*) FROM lex_utterance_stats WHERE bot_name=$1`, "OrderFlowersBot").Scan(&rows)
			}); err != nil {
				t.Fatal(err)
			}
			if want := flush > 0; (pending == 1) != want || (rows == 1) == want {
				t.Fatalf("flush %v: %d pending, %d rows before a flush", flush, pending, rows)
			}
			if n := v.utteranceRows("OrderFlowersBot"); n != 1 {
				t.Fatalf("flush %v: %d utterances after a flush, want 1", flush, n)
			}
		})
	}
}

package lexmodels_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
)

// TestUtterancesStore fills the utterance store the way the runtime will
// (RecordUtterance) and reads it back through GetUtterancesView: Detected
// and Missed kept apart, counts and distinct users per utterance, first and
// last dates, most frequent first, per requested version, 15 days back, at
// most 100 per version; DeleteUtterances removes one user's; child-directed
// bots show nothing.
func TestUtterancesStore(t *testing.T) { lexmodels.EachDriver(t, testUtterancesStore) }

func testUtterancesStore(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	c, ctx, acct := f.c, f.ctx, f.env.AccountID
	f.orderFlowers("OrderFlowersBot")
	must(c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowersBot")})).ok(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	day := 24 * time.Hour
	type utt struct {
		bot, version, user, text string
		missed                   bool
		at                       time.Time
	}
	rows := []utt{
		{"OrderFlowersBot", "1", "user-a", "i want flowers", false, now.Add(-3 * day)},
		{"OrderFlowersBot", "1", "user-a", "i want flowers", false, now.Add(-1 * day)},
		{"OrderFlowersBot", "1", "user-b", "i want flowers", false, now.Add(-2 * day)},
		{"OrderFlowersBot", "1", "user-a", "order roses", false, now.Add(-2 * day)},
		{"OrderFlowersBot", "1", "user-c", "blah blah", true, now.Add(-1 * day)},
		{"OrderFlowersBot", "1", "user-c", "blah blah", true, now.Add(-1 * time.Hour)},
		{"OrderFlowersBot", "1", "user-d", "too old", false, now.Add(-16 * day)},
		{"OrderFlowersBot", "2", "user-a", "version two", false, now.Add(-1 * day)},
		{"OtherBot", "1", "user-a", "other bot", false, now.Add(-1 * day)},
	}
	for i := 0; i < 105; i++ { // more than the 100 GetUtterancesView returns
		rows = append(rows, utt{"OrderFlowersBot", "3", "user-e", fmt.Sprintf("utterance %03d", i), false, now.Add(-time.Hour)})
	}
	err := f.env.Server.DB.Write(ctx, func(tx *store.Tx) error {
		for _, u := range rows {
			if err := lexmodels.RecordUtterance(ctx, tx, acct, "us-east-1", u.bot, u.version, u.user, u.text, u.missed, u.at); err != nil {
				return err
			}
		}
		// Another region's utterance of the same bot stays out.
		return lexmodels.RecordUtterance(ctx, tx, acct, "eu-west-1", "OrderFlowersBot", "1", "user-a", "elsewhere", false, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	view := func(status types.StatusType, versions ...string) map[string][]types.UtteranceData {
		t.Helper()
		out := must(c.GetUtterancesView(ctx, &lm.GetUtterancesViewInput{BotName: aws.String("OrderFlowersBot"), BotVersions: versions, StatusType: status})).ok(t)
		if aws.ToString(out.BotName) != "OrderFlowersBot" || len(out.Utterances) != len(versions) {
			t.Fatalf("view %+v", out)
		}
		m := map[string][]types.UtteranceData{}
		for i, l := range out.Utterances {
			if aws.ToString(l.BotVersion) != versions[i] {
				t.Fatalf("list %d is version %s", i, aws.ToString(l.BotVersion))
			}
			m[versions[i]] = l.Utterances
		}
		return m
	}
	text := func(us []types.UtteranceData) string {
		var s []string
		for _, u := range us {
			s = append(s, fmt.Sprintf("%s:%d/%d", aws.ToString(u.UtteranceString), aws.ToInt32(u.Count), aws.ToInt32(u.DistinctUsers)))
		}
		return strings.Join(s, ",")
	}

	got := view(types.StatusTypeDetected, "1", "2", "9")
	if s := text(got["1"]); s != "i want flowers:3/2,order roses:1/1" {
		t.Errorf("version 1 detected: %s", s)
	}
	if s := text(got["2"]); s != "version two:1/1" {
		t.Errorf("version 2 detected: %s", s)
	}
	if len(got["9"]) != 0 {
		t.Errorf("version 9: %s", text(got["9"]))
	}
	first := got["1"][0]
	if !first.FirstUtteredDate.Equal(now.Add(-3*day)) || !first.LastUtteredDate.Equal(now.Add(-day)) {
		t.Errorf("dates %v .. %v, want %v .. %v", first.FirstUtteredDate, first.LastUtteredDate, now.Add(-3*day), now.Add(-day))
	}
	if s := text(view(types.StatusTypeMissed, "1")["1"]); s != "blah blah:2/1" {
		t.Errorf("version 1 missed: %s", s)
	}
	if n := len(view(types.StatusTypeDetected, "3")["3"]); n != 100 {
		t.Errorf("version 3: %d utterances, want the 100 most frequent", n)
	}

	// DeleteUtterances removes user-a's, and only for this bot.
	_, err = c.DeleteUtterances(ctx, &lm.DeleteUtterancesInput{BotName: aws.String("OrderFlowersBot"), UserId: aws.String("user-a")})
	if err != nil || f.status() != 204 {
		t.Fatalf("DeleteUtterances: %v (%d)", err, f.status())
	}
	if s := text(view(types.StatusTypeDetected, "1")["1"]); s != "i want flowers:1/1" {
		t.Errorf("after deleting user-a: %s", s)
	}
	var other int
	f.env.Server.DB.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_utterance_stats WHERE bot_name = 'OtherBot'`).Scan(&other)
	})
	if other != 1 {
		t.Errorf("DeleteUtterances touched another bot's utterances (%d left)", other)
	}
	_, err = c.DeleteUtterances(ctx, &lm.DeleteUtterancesInput{BotName: aws.String("NoSuchBot"), UserId: aws.String("user-a")})
	wantCode(t, err, "NotFoundException")

	// Counts still pending in memory (the runtime's, until its next flush)
	// are in the view at once, and DeleteUtterances removes them too.
	stats := f.env.Server.LexUtterances
	stats.Add(acct, "us-east-1", "OrderFlowersBot", "2", "user-p", "version two", false, now)
	stats.Add(acct, "us-east-1", "OrderFlowersBot", "2", "user-q", "version two", false, now)
	stats.Add(acct, "us-east-1", "OrderFlowersBot", "2", "user-q", "version two", false, now)
	if s := text(view(types.StatusTypeDetected, "2")["2"]); s != "version two:3/2" { // user-a's was deleted above
		t.Errorf("with pending counts: %s", s)
	}
	stats.Add(acct, "us-east-1", "OrderFlowersBot", "2", "user-p", "version two", false, now)
	_, err = c.DeleteUtterances(ctx, &lm.DeleteUtterancesInput{BotName: aws.String("OrderFlowersBot"), UserId: aws.String("user-p")})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Pending() != 0 {
		t.Errorf("DeleteUtterances left %d pending counts", stats.Pending())
	}
	if s := text(view(types.StatusTypeDetected, "2")["2"]); s != "version two:2/1" {
		t.Errorf("after deleting user-p with a pending count: %s", s)
	}

	// Validation: 1 to 5 versions, a known status type.
	_, err = c.GetUtterancesView(ctx, &lm.GetUtterancesViewInput{BotName: aws.String("OrderFlowersBot"), BotVersions: []string{"1", "2", "3", "4", "5", "6"}, StatusType: types.StatusTypeDetected})
	wantCode(t, err, "BadRequestException")
	_, err = c.GetUtterancesView(ctx, &lm.GetUtterancesViewInput{BotName: aws.String("OrderFlowersBot"), BotVersions: []string{"1"}, StatusType: "Sometimes"})
	wantCode(t, err, "BadRequestException")

	// A child-directed bot shows none (spec §2.14).
	b := f.waitBot("OrderFlowersBot", "$LATEST")
	must(c.PutBot(ctx, &lm.PutBotInput{Name: aws.String("OrderFlowersBot"), Checksum: b.Checksum, Locale: types.LocaleEnUs, ChildDirected: aws.Bool(true),
		Intents: b.Intents, ClarificationPrompt: b.ClarificationPrompt, AbortStatement: b.AbortStatement, ProcessBehavior: types.ProcessBehaviorSave})).ok(t)
	if got := view(types.StatusTypeMissed, "1"); len(got["1"]) != 0 {
		t.Errorf("child-directed bot shows %s", text(got["1"]))
	}
}

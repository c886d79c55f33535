package convlogs_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	awsv1 "github.com/aws/aws-sdk-go/aws"

	"lextrail/internal/store"
)

// registerBot has an obfuscated slot full_name (spec §4.3's example).
func registerBot() obj {
	name := slot("full_name", "Names", 1, "What is your name?")
	name["obfuscationSetting"] = "DEFAULT_OBFUSCATION"
	reg := obj{"name": "Register", "version": "1", "fulfillmentActivity": obj{"type": "ReturnIntent"},
		"sampleUtterances":   []string{"my name is {full_name}", "register me", "i want to register as {full_name}", "sign me up"},
		"slots":              []any{name},
		"confirmationPrompt": prompt(2, "Thanks {full_name}, shall I register you?"),
		"rejectionStatement": statement("Okay, I will not register you."),
	}
	return obj{"name": "Register", "version": "1", "locale": "en-US", "childDirected": false, "idleSessionTTLInSeconds": 300,
		"intents":             []obj{reg},
		"slotTypes":           []obj{slotType("Names", "TOP_RESOLUTION", []string{"john stiles"}, []string{"mary major"})},
		"clarificationPrompt": prompt(2, "Sorry, can you say that again?"),
		"abortStatement":      statement("Sorry, I cannot help."),
	}
}

// TestObfuscation: the masking of spec §4.3 in the text logs — a value
// recognised on the first turn, literal braces escaped with two
// backslashes, an elicited value, an unrecognised answer to an
// obfuscated slot's prompt (the whole utterance masked), a missed
// utterance (not masked) — never in the API's answers, in botResponse or
// in session attributes; stored utterances hold no value.
func TestObfuscation(t *testing.T) { eachDriver(t, testObfuscation) }

func testObfuscation(t *testing.T, db string) {
	cl := newCluster(t, db)
	n := cl.node()
	c := n.clients(t)
	c.dests("lex-text", "lex-audio")
	c.deploy(registerBot())
	c.mustAlias("Register", "prod", "1", logsConfig(roleARN("LexConvLogs"), "lex-text", "", ""))

	type step struct {
		user, say  string
		attrs      map[string]string
		transcript string // logged inputTranscript
		slot       string // logged slots.full_name ("" = null or absent)
		missed     bool
		apiSlot    string // full_name in the PostText answer
	}
	steps := []step{
		{user: "user-1", say: "my name is John Stiles", transcript: "my name is {full_name}", slot: "{full_name}", apiSlot: "john stiles"},
		{user: "user-2", say: "my name is {John Stiles}", transcript: `my name is \\{{full_name}\\}`, slot: "{full_name}", apiSlot: "john stiles"},
		{user: "user-3", say: "{hello} my name is John Stiles", transcript: `\\{hello\\} my name is {full_name}`, slot: "{full_name}", apiSlot: "john stiles"},
		{user: "user-4", say: "register me", transcript: "register me"},
		{user: "user-4", say: "Mary Major", transcript: "{full_name}", slot: "{full_name}", apiSlot: "mary major"},
		{user: "user-5", say: "register me", transcript: "register me"},
		{user: "user-5", say: "it is mary major", transcript: "it is {full_name}", slot: "{full_name}", apiSlot: "mary major"},
		{user: "user-6", say: "sign me up", transcript: "sign me up"},
		{user: "user-6", say: "banana split {now}", transcript: "{full_name}", missed: true},
		{user: "user-7", say: "can you sing about {mars}", transcript: "can you sing about {mars}", missed: true},
		{user: "user-8", say: "my name is John Stiles", attrs: map[string]string{"name": "John Stiles"}, transcript: "my name is {full_name}", slot: "{full_name}", apiSlot: "john stiles"},
	}
	var turns []spoken
	for _, st := range steps {
		c.n.Clock.Advance(1e9)
		u := c.user("Register", "prod", st.user)
		u.attrs = st.attrs
		out := u.say(st.say)
		if got := awsv1.StringValue(out.Slots["full_name"]); got != st.apiSlot {
			t.Errorf("%q: the answer's full_name = %q, want the real %q", st.say, got, st.apiSlot)
		}
		turns = append(turns, spoken{user: st.user, text: st.say, reqID: c.lastRequestID(), sessionID: awsv1.StringValue(out.SessionId)})
	}
	evs := c.waitEvents("lex-text", len(steps))
	for i, e := range evs {
		st, d := steps[i], doc(t, e.msg)
		if d["requestId"] != turns[i].reqID {
			t.Fatalf("event %d is not turn %d", i, i)
		}
		if d["inputTranscript"] != st.transcript {
			t.Errorf("%q: inputTranscript %q, want %q", st.say, d["inputTranscript"], st.transcript)
		}
		if d["missedUtterance"] != st.missed {
			t.Errorf("%q: missedUtterance %v", st.say, d["missedUtterance"])
		}
		slots, _ := d["slots"].(map[string]any)
		got, _ := slots["full_name"].(string)
		if got != st.slot {
			t.Errorf("%q: slots.full_name %q, want %q (%s)", st.say, got, st.slot, e.msg)
		}
		// the value is nowhere but in botResponse and sessionAttributes
		if st.apiSlot != "" {
			if br, _ := d["botResponse"].(string); !strings.Contains(br, st.apiSlot) {
				t.Errorf("%q: botResponse %q should carry the value (prompts are not masked)", st.say, br)
			}
		}
		if st.attrs != nil {
			if sa, _ := d["sessionAttributes"].(map[string]any); sa["name"] != "John Stiles" {
				t.Errorf("%q: sessionAttributes %v should be as sent", st.say, d["sessionAttributes"])
			}
		}
		delete(d, "botResponse")
		delete(d, "sessionAttributes")
		rest, _ := json.Marshal(d)
		for _, secret := range []string{"stiles", "major", "banana"} {
			if strings.Contains(strings.ToLower(string(rest)), secret) {
				t.Errorf("%q: the log shows %q: %s", st.say, secret, rest)
			}
		}
	}

	// stored utterances hold no value (GetUtterancesView shows none for a
	// bot that obfuscates, spec §2.14; the rows behind it are checked)
	out, err := c.lm.GetUtterancesView(c.ctx, &lm.GetUtterancesViewInput{BotName: aws.String("Register"), BotVersions: []string{"1"}, StatusType: lmtypes.StatusTypeDetected})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range out.Utterances {
		if len(l.Utterances) > 0 {
			t.Errorf("GetUtterancesView of an obfuscating bot: %v", l.Utterances)
		}
	}
	var stored []string
	if err := n.Server.LexUtterances.Flush(c.ctx); err != nil {
		t.Fatal(err)
	}
	err = n.Server.DB.Read(c.ctx, func(tx *store.Tx) error {
		rs, err := tx.Query(c.ctx, `SELECT utterance FROM lex_utterance_stats WHERE bot_name = $1`, "Register")
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var u string
			if err := rs.Scan(&u); err != nil {
				return err
			}
			stored = append(stored, u)
		}
		return rs.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.ToLower(strings.Join(stored, "|"))
	for _, secret := range []string{"stiles", "major", "banana"} {
		if strings.Contains(joined, secret) {
			t.Errorf("stored utterances show %q: %v", secret, stored)
		}
	}
	if !strings.Contains(joined, "register me") {
		t.Errorf("stored utterances %v lack the ones without values", stored)
	}
}

package dialog

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lextrail/internal/services/lexmodels/build"
)

// fixture is a bot described as in testdata/*.json: the bot definition,
// intent definitions by name and custom slot types by name (all version 1
// unless the bot names another).
type fixture struct {
	Bot       json.RawMessage            `json:"bot"`
	Intents   map[string]json.RawMessage `json:"intents"`
	SlotTypes map[string]json.RawMessage `json:"slotTypes"`
}

func loadBot(t testing.TB, file string) *Bot {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return compileFixture(t, f)
}

func compileFixture(t testing.TB, f fixture) *Bot {
	t.Helper()
	var head struct {
		Name    string `json:"name"`
		Intents []struct {
			IntentName, IntentVersion string
		} `json:"intents"`
	}
	if err := json.Unmarshal(f.Bot, &head); err != nil {
		t.Fatal(err)
	}
	in := build.Input{Bot: build.Resource{Name: head.Name, Version: "1", Def: f.Bot}}
	for _, ir := range head.Intents {
		in.Intents = append(in.Intents, build.Resource{Name: ir.IntentName, Version: ir.IntentVersion, Def: f.Intents[ir.IntentName]})
	}
	for name, def := range f.SlotTypes {
		in.SlotTypes = append(in.SlotTypes, build.Resource{Name: name, Version: "1", Def: def})
	}
	m, err := build.Compile(in)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	bot, err := NewBot(m)
	if err != nil {
		t.Fatal(err)
	}
	return bot
}

// ny is Tuesday 2017-05-09 10:00 in New York? No: a fixed reference.
var ref = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) // a Sunday

type conv struct {
	t   *testing.T
	e   *Engine
	b   *Bot
	s   *State
	now time.Time
}

func (c *conv) say(text string) *Response {
	c.t.Helper()
	r, err := c.e.Turn(context.Background(), c.b, c.s, Input{Text: text, Now: c.now, UserID: "user-1", Alias: "prod", TimeZone: "America/New_York"})
	if err != nil {
		c.t.Fatalf("turn %q: %v", text, err)
	}
	return r
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestOrderFlowersSmoke(t *testing.T) {
	b := loadBot(t, "orderflowers.json")
	c := &conv{t: t, e: New(Config{}), b: b, s: NewState("s1"), now: ref}
	for _, step := range []struct{ say, state, slot, msg string }{
		{"i would like to order flowers", ElicitSlot, "FlowerType", "What type of flowers would you like to order?"},
		{"roses", ElicitSlot, "PickupDate", "What day do you want the roses to be picked up?"},
		{"tuesday", ElicitSlot, "PickupTime", "At what time do you want the roses to be picked up?"},
		{"10:00 a.m.", ConfirmIntent, "", "Okay, your roses will be ready for pickup by 10:00 on 2026-11-24.  Does this sound okay?"},
		{"yes", ReadyForFulfillment, "", "<nil>"},
	} {
		r := c.say(step.say)
		t.Logf("%q -> %s %s %q slots %v", step.say, r.DialogState, r.SlotToElicit, str(r.Message), r.Slots)
		if r.DialogState != step.state || r.SlotToElicit != step.slot || str(r.Message) != step.msg {
			t.Errorf("%q: got %s/%s %q, want %s/%s %q", step.say, r.DialogState, r.SlotToElicit, str(r.Message), step.state, step.slot, step.msg)
		}
	}
}

// TestAnswerFillsOtherSlots: a slot answer may carry other slots' values.
func TestAnswerFillsOtherSlots(t *testing.T) {
	c := &conv{t: t, e: New(Config{}), b: loadBot(t, "orderflowers.json"), s: NewState("s2"), now: ref}
	c.say("i would like to order flowers")
	r := c.say("roses for tomorrow")
	if r.SlotToElicit != "PickupTime" || str(r.Slots["FlowerType"]) != "roses" || str(r.Slots["PickupDate"]) != "2026-11-23" {
		t.Fatalf("%s %v %v", r.SlotToElicit, str(r.Slots["FlowerType"]), str(r.Slots["PickupDate"]))
	}
}

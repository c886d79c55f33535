package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"lextrail/internal/awserr"
)

// fakeHooks answers code hooks with canned answers by function ARN.
type fakeHooks struct {
	answers map[string]func(ev Event) ([]byte, error)
	events  []Event
}

func (f *fakeHooks) Invoke(ctx context.Context, arn string, event []byte) ([]byte, error) {
	var ev Event
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	f.events = append(f.events, ev)
	fn := f.answers[arn]
	if fn == nil {
		return nil, errors.New("no such function")
	}
	return fn(ev)
}

type m = map[string]any

func jsonOf(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

func plain(texts ...string) []any {
	var out []any
	for _, t := range texts {
		out = append(out, m{"contentType": "PlainText", "content": t})
	}
	return out
}

const arn = "arn:aws:lambda:us-east-1:123456789012:function:"

// hookFixture is a pizza bot whose intent has a dialog and a fulfilment
// hook and a follow-up prompt, plus a fallback intent.
func hookFixture(clarify bool) fixture {
	bot := m{"name": "Pizza", "locale": "en-US", "intents": []any{
		m{"intentName": "OrderPizza", "intentVersion": "1"}, m{"intentName": "Fallback", "intentVersion": "1"}, m{"intentName": "Drink", "intentVersion": "1"}}}
	if clarify {
		bot["clarificationPrompt"] = m{"maxAttempts": 1, "messages": plain("Say again?")}
		bot["abortStatement"] = m{"messages": plain("Bye.")}
	}
	return fixture{
		Bot: jsonOf(bot),
		Intents: map[string]json.RawMessage{
			"OrderPizza": jsonOf(m{
				"sampleUtterances": []string{"I want a pizza", "order a {Size} pizza"},
				"slots": []any{m{"name": "Size", "slotConstraint": "Required", "slotType": "Sizes", "slotTypeVersion": "1", "priority": 1,
					"valueElicitationPrompt": m{"maxAttempts": 1, "messages": plain("What size?")}}},
				"dialogCodeHook":      m{"uri": arn + "dialog", "messageVersion": "1.0"},
				"fulfillmentActivity": m{"type": "CodeHook", "codeHook": m{"uri": arn + "fulfil", "messageVersion": "1.0"}},
				"followUpPrompt":      m{"prompt": m{"maxAttempts": 1, "messages": plain("Anything else?")}, "rejectionStatement": m{"messages": plain("Goodbye!")}},
			}),
			"Fallback": jsonOf(m{"parentIntentSignature": "AMAZON.FallbackIntent", "fulfillmentActivity": m{"type": "ReturnIntent"}}),
			"Drink":    jsonOf(m{"sampleUtterances": []string{"a cola", "I want a drink"}, "fulfillmentActivity": m{"type": "ReturnIntent"}}),
		},
		SlotTypes: map[string]json.RawMessage{"Sizes": jsonOf(m{"valueSelectionStrategy": "TOP_RESOLUTION", "enumerationValues": []any{m{"value": "small"}, m{"value": "large"}}})},
	}
}

func delegate(ev Event) ([]byte, error) {
	return jsonOf(m{"dialogAction": m{"type": "Delegate", "slots": ev.CurrentIntent.Slots}}), nil
}

func codeOf(err error) (string, int) {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e.Code, e.Status
	}
	return "", 0
}

// TestHookAnswers: every malformed code hook answer is a 424 (or the
// documented 400 / 502), never a 500 or a half-done turn.
func TestHookAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
		err    error
		code   string
		status int
		state  string
	}{
		{"empty object", `{}`, nil, "DependencyFailedException", 424, ""},
		{"not JSON", `hello`, nil, "DependencyFailedException", 424, ""},
		{"bad type", `{"dialogAction":{"type":"Bogus"}}`, nil, "DependencyFailedException", 424, ""},
		{"Close without state", `{"dialogAction":{"type":"Close"}}`, nil, "DependencyFailedException", 424, ""},
		{"Close", `{"dialogAction":{"type":"Close","fulfillmentState":"Failed","message":{"contentType":"PlainText","content":"No."}}}`, nil, "", 0, Failed},
		{"bad message type", `{"dialogAction":{"type":"Close","fulfillmentState":"Failed","message":{"contentType":"Text","content":"No."}}}`, nil, "DependencyFailedException", 424, ""},
		{"ElicitSlot without slot", `{"dialogAction":{"type":"ElicitSlot","intentName":"OrderPizza","slots":{}}}`, nil, "DependencyFailedException", 424, ""},
		{"ElicitSlot unknown slot", `{"dialogAction":{"type":"ElicitSlot","intentName":"OrderPizza","slots":{"Colour":"red"},"slotToElicit":"Size"}}`, nil, "DependencyFailedException", 424, ""},
		{"ElicitSlot other intent", `{"dialogAction":{"type":"ElicitSlot","intentName":"Nope","slots":{},"slotToElicit":"Size"}}`, nil, "DependencyFailedException", 424, ""},
		{"ElicitSlot on a built-in", `{"dialogAction":{"type":"ElicitSlot","intentName":"Fallback","slots":{},"slotToElicit":"Size"}}`, nil, "DependencyFailedException", 424, ""},
		{"ConfirmIntent without intent", `{"dialogAction":{"type":"ConfirmIntent","slots":{}}}`, nil, "DependencyFailedException", 424, ""},
		{"ConfirmIntent without prompt or message", `{"dialogAction":{"type":"ConfirmIntent","intentName":"OrderPizza","slots":{}}}`, nil, "DependencyFailedException", 424, ""},
		{"ElicitIntent without message or clarification", `{"dialogAction":{"type":"ElicitIntent"}}`, nil, "BadRequestException", 400, ""},
		{"object session attribute", `{"sessionAttributes":{"a":{"b":1}},"dialogAction":{"type":"Delegate","slots":{}}}`, nil, "DependencyFailedException", 424, ""},
		{"number session attribute", `{"sessionAttributes":{"price":12},"dialogAction":{"type":"Delegate","slots":{"Size":null}}}`, nil, "", 0, ElicitSlot},
		{"too large", `{"x":"` + strings.Repeat("a", MaxHookResponse) + `","dialogAction":{"type":"Delegate","slots":{}}}`, nil, "DependencyFailedException", 424, ""},
		{"function error", ``, errors.New("Unhandled: boom"), "DependencyFailedException", 424, ""},
		{"service error", ``, &ServiceError{Err: errors.New("503")}, "BadGatewayException", 502, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hooks := &fakeHooks{answers: map[string]func(Event) ([]byte, error){arn + "dialog": func(Event) ([]byte, error) {
				return []byte(tc.answer), tc.err
			}}}
			b := compileFixture(t, hookFixture(false))
			s := NewState("s")
			r, err := New(Config{Hooks: hooks}).Turn(context.Background(), b, s, Input{Text: "I want a pizza", Now: ref})
			c, st := codeOf(err)
			if c != tc.code || st != tc.status {
				t.Fatalf("error %v (%s %d), want %s %d", err, c, st, tc.code, tc.status)
			}
			if err == nil && r.DialogState != tc.state {
				t.Fatalf("state %s, want %s", r.DialogState, tc.state)
			}
			if tc.name == "number session attribute" && r.SessionAttributes["price"] != "12" {
				t.Errorf("attributes %v", r.SessionAttributes)
			}
		})
	}
}

// TestFulfilmentAndFollowUp: a fulfilment hook that Delegates without
// clearing a slot is a 424; Close Fulfilled with a follow-up prompt waits
// for its answer; "no" ends with the follow-up's rejection statement.
func TestFulfilmentAndFollowUp(t *testing.T) {
	b := compileFixture(t, hookFixture(true))
	fulfil := func(Event) ([]byte, error) {
		return jsonOf(m{"dialogAction": m{"type": "Close", "fulfillmentState": "Fulfilled"}}), nil
	}
	hooks := &fakeHooks{answers: map[string]func(Event) ([]byte, error){arn + "dialog": delegate, arn + "fulfil": delegate}}
	e := New(Config{Hooks: hooks})
	s := NewState("s")
	say := func(text string) (*Response, error) {
		return e.Turn(context.Background(), b, s, Input{Text: text, Now: ref, UserID: "u", Alias: "prod"})
	}
	if r, err := say("order a large pizza"); codeOf2(err) != "DependencyFailedException" {
		t.Fatalf("Delegate from fulfilment: %v %v", r, err)
	}
	s = NewState("s")
	hooks.answers[arn+"fulfil"] = fulfil
	r, err := say("order a large pizza")
	if err != nil || r.DialogState != ElicitIntent || r.IntentName != "OrderPizza" || *r.Message != "Anything else?" {
		t.Fatalf("fulfilled with follow-up: %+v %v", r, err)
	}
	if ev := hooks.events[len(hooks.events)-1]; ev.InvocationSource != "FulfillmentCodeHook" || *ev.CurrentIntent.Slots["Size"] != "large" {
		t.Errorf("fulfilment event %+v", ev)
	}
	r, err = say("no")
	if err != nil || r.DialogState != Failed || *r.Message != "Goodbye!" || r.IntentName != "OrderPizza" {
		t.Fatalf("follow-up no: %+v %v", r, err)
	}
	// again, and "yes" alone gives the clarification prompt
	say("order a large pizza")
	if r, _ = say("yes"); r.DialogState != ElicitIntent || *r.Message != "Say again?" || r.IntentName != "" {
		t.Fatalf("follow-up yes: %+v", r)
	}
	// an unanswerable slot goes to the fallback intent after maxAttempts
	s = NewState("s2")
	say("I want a pizza")
	if r, _ = say("purple"); r.DialogState != ElicitSlot || !r.Missed {
		t.Fatalf("first miss: %+v", r)
	}
	if r, _ = say("purple"); r.IntentName != "Fallback" || r.DialogState != ReadyForFulfillment {
		t.Fatalf("fallback after the slot's attempts: %+v", r)
	}
	if got := s.Recent[1]; got.IntentName != "OrderPizza" || got.FulfillmentState != Failed {
		t.Errorf("abandoned intent summary %+v", got)
	}
}

func codeOf2(err error) string { c, _ := codeOf(err); return c }

// TestPutChecks: PutSession input that does not fit the bot is a 400.
func TestPutChecks(t *testing.T) {
	b := compileFixture(t, hookFixture(false))
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name string
		p    PutInput
	}{
		{"unknown type", PutInput{DialogAction: &DialogAction{Type: "Jump"}}},
		{"ElicitIntent without message or clarification", PutInput{DialogAction: &DialogAction{Type: ElicitIntent}}},
		{"ElicitSlot without slot", PutInput{DialogAction: &DialogAction{Type: ElicitSlot, IntentName: "OrderPizza"}}},
		{"unknown intent", PutInput{DialogAction: &DialogAction{Type: ElicitSlot, IntentName: "X", SlotToElicit: "Size"}}},
		{"unknown slot", PutInput{DialogAction: &DialogAction{Type: Delegate, IntentName: "OrderPizza", Slots: map[string]*string{"Colour": str("red")}}}},
		{"ConfirmIntent without prompt", PutInput{DialogAction: &DialogAction{Type: ConfirmIntent, IntentName: "OrderPizza"}}},
		{"Close without state", PutInput{DialogAction: &DialogAction{Type: Close}}},
		{"bad format", PutInput{DialogAction: &DialogAction{Type: Close, FulfillmentState: Fulfilled, Message: str("x"), MessageFormat: "Html"}}},
		{"summary type", PutInput{RecentIntentSummaryView: []IntentSummary{{IntentName: "OrderPizza", DialogActionType: "Nope"}}}},
		{"summary label", PutInput{RecentIntentSummaryView: []IntentSummary{{IntentName: "OrderPizza", DialogActionType: Close, CheckpointLabel: "no spaces"}}}},
		{"four summaries", PutInput{RecentIntentSummaryView: make([]IntentSummary, 4)}},
	} {
		_, err := New(Config{}).Put(context.Background(), b, NewState("s"), tc.p)
		if c, st := codeOf(err); c != "BadRequestException" || st != http.StatusBadRequest {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Close with a message and a Delegate that elicits
	hooks := &fakeHooks{answers: map[string]func(Event) ([]byte, error){arn + "dialog": delegate}}
	s := NewState("s")
	r, err := New(Config{Hooks: hooks}).Put(context.Background(), b, s, PutInput{Now: ref, DialogAction: &DialogAction{Type: Delegate, IntentName: "OrderPizza"}})
	if err != nil || r.DialogState != ElicitSlot || r.SlotToElicit != "Size" || *r.Message != "What size?" {
		t.Fatalf("Delegate: %+v %v", r, err)
	}
	r, err = New(Config{}).Put(context.Background(), b, s, PutInput{Now: ref, DialogAction: &DialogAction{Type: Close, FulfillmentState: Fulfilled, Message: str("Done.")}})
	if err != nil || r.DialogState != Fulfilled || *r.Message != "Done." || r.IntentName != "OrderPizza" || s.Intent != nil {
		t.Fatalf("Close: %+v %v", r, err)
	}
}

// TestPlaceholdersAndContexts covers placeholder escapes, default value
// sources and context expiry by time.
func TestPlaceholdersAndContexts(t *testing.T) {
	tr := &turn{s: &State{Attributes: map[string]string{"name": "Ana"}, Intent: &IntentState{Slots: map[string]*string{"Size": new("large"), "Crust": nil}}},
		in: Input{RequestAttributes: map[string]string{"channel": "web"}}}
	for in, want := range map[string]string{
		"A {Size} pizza for [name] on ((channel))": "A large pizza for Ana on web",
		`literal \{Size\} and \[name\]`:            "literal {Size} and [name]",
		"{Crust} crust, {Unknown} [missing]":       " crust, {Unknown} ",
		"unclosed {Size and [name":                 "unclosed {Size and [name",
	} {
		if got := tr.fill(in); got != want {
			t.Errorf("fill(%q) = %q, want %q", in, got, want)
		}
	}
	tr.s.Contexts = []Context{{Name: "ctx", Parameters: map[string]string{"p": "v"}, ExpiresMs: ref.Add(10 * time.Second).UnixMilli()}}
	tr.in.Now = ref
	for src, want := range map[string]string{"#ctx.p": "v", "[name]": "Ana", "{name}": "Ana", "<channel>": "web", "'lit'": "lit", "bare": "bare", "#ctx.q": "", "[nope]": ""} {
		got, ok := tr.defaultValue(src)
		if got != want || ok != (want != "") {
			t.Errorf("defaultValue(%q) = %q %v, want %q", src, got, ok, want)
		}
	}
	tr.in.Now = ref.Add(11 * time.Second)
	if _, ok := tr.defaultValue("#ctx.p"); ok {
		t.Error("an expired context still supplies values")
	}
	if acs := tr.s.ActiveContexts(ref.Add(4 * time.Second)); len(acs) != 1 || *acs[0].TimeToLive.TimeToLiveInSeconds != 6 {
		t.Errorf("remaining TTL %+v", acs)
	}
}

// FuzzHookAnswer: whatever a code hook answers, a turn never panics and
// fails only with a Lex error.
func FuzzHookAnswer(f *testing.F) {
	for _, s := range []string{`{}`, `{"dialogAction":{"type":"Close","fulfillmentState":"Fulfilled"}}`,
		`{"dialogAction":{"type":"ElicitSlot","intentName":"OrderPizza","slots":{"Size":"large"},"slotToElicit":"Size","responseCard":{"version":"x"}}}`,
		`{"sessionAttributes":[1],"recentIntentSummaryView":[{}],"activeContexts":[{"name":"a b"}],"dialogAction":{"type":"Delegate","slots":{"Size":7}}}`,
		`{"dialogAction":{"type":"ConfirmIntent","intentName":"Drink","slots":null,"message":{"contentType":"SSML","content":"<speak/>"}}}`} {
		f.Add([]byte(s))
	}
	b := compileFixture(f, hookFixture(true))
	f.Fuzz(func(t *testing.T, answer []byte) {
		hooks := &fakeHooks{answers: map[string]func(Event) ([]byte, error){
			arn + "dialog": func(Event) ([]byte, error) { return answer, nil },
			arn + "fulfil": func(Event) ([]byte, error) { return answer, nil },
		}}
		_, err := New(Config{Hooks: hooks}).Turn(context.Background(), b, NewState("s"), Input{Text: "order a large pizza", Now: ref})
		if err != nil {
			var e *awserr.Error
			if !errors.As(err, &e) || e.Status == 500 {
				t.Fatalf("non-Lex error %v", err)
			}
		}
	})
}

// FuzzCard: response cards and placeholders from any text.
func FuzzCard(f *testing.F) {
	f.Add(`{"version":1,"contentType":"application/vnd.amazonaws.card.generic","genericAttachments":[{"title":"{Size}","buttons":[{"text":"a","value":"b"}]}]}`)
	f.Add(`{Size} [a] ((b)) \{ \[ \(`)
	f.Fuzz(func(t *testing.T, s string) {
		tr := &turn{s: &State{Attributes: map[string]string{"a": "A"}, Intent: &IntentState{Slots: map[string]*string{"Size": new("L")}}}}
		tr.card(&s)
		tr.fill(s)
	})
}

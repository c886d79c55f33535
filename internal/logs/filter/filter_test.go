package filter

import (
	"bytes"
	"strings"
	"testing"
)

// docJSON is the AWS guide's JSON example.
const docJSON = `{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "ThisFlag": true
}`

// docCompound is the guide's compound-condition example.
const docCompound = `{
  "user": {"id": 1, "email": "John.Stiles@example.com"},
  "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
  "actions": ["GET", "PUT", "DELETE"],
  "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
}`

// lex is a conversation-log document (spec §4.1).
const lex = `{"messageVersion":"1.0","botName":"OrderFlowers","botAlias":"prod","botVersion":"1","inputTranscript":"i want roses","botResponse":"What day?","intent":"OrderFlowers","nluIntentConfidence":0.93,"slots":{"FlowerType":"roses","PickupDate":null},"alternativeIntents":[{"name":"AMAZON.FallbackIntent","nluIntentConfidence":0.0,"slots":{}}],"developerOverride":"false","missedUtterance":false,"inputDialogMode":"Text","userId":"user-1","dialogState":"ElicitSlot","locale":"en-US","sessionAttributes":{"channel":"web"}}`

const missed = `{"botName":"OrderFlowers","inputTranscript":"what is the weather","missedUtterance":true,"inputDialogMode":"Speech","dialogState":"ElicitIntent"}`

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern string
		msg     string
		want    bool
	}{
		// Everything.
		{``, "anything", true},
		{`""`, "anything", true},
		{`   `, "", true},
		// Terms (the guide's examples).
		{`ERROR`, "[ERROR] A fatal exception has occurred", true},
		{`ERROR`, "Exiting with ERRORCODE: -1", true},
		{`ERROR`, "error: lower case", false},
		{`"ERROR" -"Exiting"`, "Exiting with ERRORCODE: -1", false},
		{`"ERROR" -"Exiting"`, "[ERROR] A fatal exception has occurred", true},
		{`ERROR -Exiting`, "[ERROR] fatal", true},
		{`ERROR Exception`, "[ERROR] Caught IllegalArgumentException", true},
		{`ERROR Exception`, "[ERROR] Unhandled", false},
		{`Failed to process the request`, "[WARN] Failed to process the request", true},
		{`Failed to process the request`, "[ERROR] the request to process Failed", true},
		{`"Failed to process the request"`, "[ERROR] the request to process Failed", false},
		{`"Failed to process the request"`, "[ERROR] Unable to continue: Failed to process the request", true},
		{`?ERROR ?WARN`, "ERROR WARN message", true},
		{`?ERROR ?WARN`, "ERROR message", true},
		{`?ERROR ?WARN`, "WARN message", true},
		{`?ERROR ?WARN`, "INFO message", false},
		{`ERROR WARN`, "ERROR message", false},
		{`ERROR -WARN`, "ERROR WARN message", false},
		{`ERROR -WARN`, "ERROR message", true},
		{`?ERROR ?WARN -Exiting`, "WARN Exiting", false},
		{`message ?ERROR ?WARN`, "INFO message", false},
		{`message ?ERROR ?WARN`, "WARN message", true},
		{`"a \"quoted\" word"`, `say a "quoted" word`, true},
		{`-""`, "anything", false},
		{`roses`, lex, true},
		{`"i want roses" -"weather"`, lex, true},
		{`été`, "un été chaud", true},
		// Regular expressions.
		{`%ERROR [0-9]{3}%`, "got ERROR 404 here", true},
		{`%ERROR [0-9]{3}%`, "got ERROR 40 here", false},
		{`%^\[(WARN|ERROR)\]%`, "[WARN] disk", true},
		// JSON (the guide's examples).
		{`{ $.eventType = "UpdateTrail" }`, docJSON, true},
		{`{ $.eventType = UpdateTrail }`, docJSON, true},
		{`{ $.eventType = "updatetrail" }`, docJSON, false},
		{`{ $.sourceIPAddress != 123.123.* }`, docJSON, true},
		{`{ $.sourceIPAddress = 111.111.* }`, docJSON, true},
		{`{ $.sourceIPAddress = *.111 }`, docJSON, true},
		{`{ $.sourceIPAddress = *11.1* }`, docJSON, true},
		{`{ $.eventType = Update*Trail }`, docJSON, false},
		{`{ $.eventType = *Trail }`, docJSON, true},
		{`{ $.eventType = Update* }`, docJSON, true},
		{`{ $.eventType = * }`, docJSON, true},
		{`{ $.nothere = * }`, docJSON, false},
		{`{ $.arrayKey[0] = "value" }`, docJSON, true},
		{`{ $.arrayKey[1] = "value" }`, docJSON, false},
		{`{ $.eventType[0] = "UpdateTrail" }`, docJSON, false},
		{`{ $.objectList[1].id = 2 }`, docJSON, true},
		{`{ $.objectList[1].id = 1 }`, docJSON, false},
		{`{ $.objectList[5].id = 2 }`, docJSON, false},
		{`{ $.SomeObject IS NULL }`, docJSON, true},
		{`{ $.ThisFlag IS NULL }`, docJSON, false},
		{`{ $.SomeOtherObject NOT EXISTS }`, docJSON, true},
		{`{ $.SomeObject NOT EXISTS }`, docJSON, false},
		{`{ $.SomeObject EXISTS }`, docJSON, true},
		{`{ $.ThisFlag IS TRUE }`, docJSON, true},
		{`{ $.ThisFlag is true }`, docJSON, true},
		{`{ $.ThisFlag IS FALSE }`, docJSON, false},
		{`{ $.objectList = 1 }`, docJSON, false},
		{`{ $.objectList != 1 }`, docJSON, false},
		{`{ $.missing != "x" }`, docJSON, false},
		// Compound conditions.
		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, docCompound, true},
		{`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, docCompound, false},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, docCompound, true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, docCompound, false},
		{`{ $.coordinates[1][2] = 6 }`, docCompound, true},
		{`{ $.coordinates[1][2] >= 6.5 }`, docCompound, false},
		// Numbers.
		{`{ $.nluIntentConfidence > 0.9 }`, lex, true},
		{`{ $.nluIntentConfidence < 0.9 }`, lex, false},
		{`{ $.nluIntentConfidence <= 0.93 }`, lex, true},
		{`{ $.nluIntentConfidence >= 93e-2 }`, lex, true},
		{`{ $.nluIntentConfidence = 0.93 }`, lex, true},
		{`{ $.nluIntentConfidence != 0.93 }`, lex, false},
		{`{ $.botVersion = 1 }`, lex, true}, // a number pattern against a string value: textual
		{`{ $.botVersion > 0 }`, lex, false},
		{`{ $.alternativeIntents[0].nluIntentConfidence = 0 }`, lex, true},
		{`{ $.latency > +1000 }`, `{"latency": 1500}`, true},
		{`{ $.latency > -5 }`, `{"latency": -4}`, true},
		// The conversation-log questions.
		{`{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`, missed, true},
		{`{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`, lex, false},
		{`{ $.botName = "X" && $.missedUtterance IS TRUE }`, missed, false},
		{`{ $.slots.FlowerType = "roses" }`, lex, true},
		{`{ $.slots.PickupDate IS NULL }`, lex, true},
		{`{ $.sessionAttributes.channel = "web" && $.inputDialogMode = Text }`, lex, true},
		{`{ $.inputDialogMode = "Speech" || $.dialogState = "Fulfilled" }`, lex, false},
		// Non-JSON messages never match JSON patterns.
		{`{ $.a NOT EXISTS }`, "plain text", false},
		{`{ $.a NOT EXISTS }`, `{"b":1`, false},
		{`{ $.a NOT EXISTS }`, `{"b":1}`, true},
		// Escaped documents are decoded before comparison.
		{`{ $.name = "Bob" }`, `{"name":"B\u006fb"}`, true},
		{`{ $.name = "a\"b" }`, `{"name":"a\"b"}`, true},
		{`{ $.k-ey = 1 }`, `{"k-ey":1}`, true},
	}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Errorf("Parse(%s): %v", c.pattern, err)
			continue
		}
		if got := p.Match([]byte(c.msg)); got != c.want {
			t.Errorf("%s on %.60q: got %v, want %v", c.pattern, c.msg, got, c.want)
		}
		// A hint never excludes a message that matches.
		if c.want && p.Hint() != nil && !p.Hint().MayMatch(func(lit []byte, _ bool) bool { return bytes.Contains([]byte(c.msg), lit) }, !hasAlnumEscape([]byte(c.msg))) {
			t.Errorf("%s: hint excludes a matching message %.60q", c.pattern, c.msg)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct{ pattern, msg string }{
		{`foo.bar`, "Invalid character(s) in term 'foo.bar'"},
		{`"unterminated`, "unterminated quoted string"},
		{`- ERROR`, "must be followed by a term"},
		{`"a"b`, "must be followed by a space"},
		{`[ip, user]`, "Space-delimited filter patterns"},
		{`%(unclosed%`, "Invalid regular expression"},
		{`{ $.a = 1`, "expected '}'"},
		{`{ a = 1 }`, "expected a selector"},
		{`{ $. = 1 }`, "expected a property name"},
		{`{ $[0] = 1 }`, "an array index must follow a property"},
		{`{ $.a[x] = 1 }`, "expected [NUMBER]"},
		{`{ $.a ~ 1 }`, "expected an operator"},
		{`{ $.a = }`, "expected a value"},
		{`{ $.a > "x" }`, "needs a number"},
		{`{ $.a > x }`, "needs a number"},
		{`{ ($.a = 1 }`, "expected ')'"},
		{`{ $.a = 1 } x`, "unexpected text"},
		{strings.Repeat("a", MaxLength+1), "longer than 1024"},
	}
	for _, c := range cases {
		_, err := Parse(c.pattern)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.pattern, err, c.msg)
		}
		if _, ok := err.(*SyntaxError); err != nil && !ok {
			t.Errorf("Parse(%q): %T, want *SyntaxError", c.pattern, err)
		}
	}
}

func TestHint(t *testing.T) {
	has := func(text string) func([]byte, bool) bool {
		return func(lit []byte, _ bool) bool { return strings.Contains(text, string(lit)) }
	}
	p, _ := Parse(`{ $.botName = "Bot7" && $.missedUtterance IS TRUE }`)
	if p.Hint().MayMatch(has(lex), true) {
		t.Error("a document without Bot7 may not match")
	}
	if !p.Hint().MayMatch(has(lex), false) {
		t.Error("JSON hints must not be used when the data may hide words behind \\u escapes")
	}
	p, _ = Parse(`{ $.a = 1 || $.b NOT EXISTS }`)
	if p.Hint() != nil {
		t.Error("an OR with an unconstrained side gives no hint")
	}
	p, _ = Parse(`?ERROR ?WARN`)
	if p.Hint().MayMatch(has("INFO only"), true) || !p.Hint().MayMatch(has("a WARN"), true) {
		t.Error("alternatives hint")
	}
	if !hasAlnumEscape([]byte(`{"a":"\u0041"}`)) || hasAlnumEscape([]byte(`{"a":"\u00e9\u003c"}`)) {
		t.Error("hasAlnumEscape")
	}
}

// FuzzParse: any pattern either parses or fails with a SyntaxError, and a
// parsed pattern matches any message without panicking; its hint never
// rules out a message it matches.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`ERROR`, `?a ?b -c "d e"`, `{ $.a = "x" && ($.b[0] > 1 || $.c IS NULL) }`, `{ $.a.b NOT EXISTS }`, `%a+b%`, `{ $.x = *y* }`, `[a,b]`, `{$.a=1}`} {
		f.Add(s, lex)
	}
	f.Fuzz(func(t *testing.T, pattern, msg string) {
		p, err := Parse(pattern)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("%T", err)
			}
			return
		}
		m := []byte(msg)
		if p.Match(m) && !p.Hint().MayMatch(func(lit []byte, _ bool) bool { return bytes.Contains(m, lit) }, !hasAlnumEscape(m)) {
			t.Fatalf("hint of %q excludes matching %q", pattern, msg)
		}
	})
}

func BenchmarkMatchJSON(b *testing.B) {
	p, _ := Parse(`{ $.nluIntentConfidence < 0.95 && $.missedUtterance IS FALSE }`)
	m := p.NewMatcher()
	msg := []byte(lex)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if !m.Match(msg) {
			b.Fatal("no match")
		}
	}
}

// TestMatcherHintSampling: a long-lived Matcher stops checking a hint that
// rules out few messages and samples it again later; what it answers is
// always what a fresh Matcher answers, whichever phase it is in.
func TestMatcherHintSampling(t *testing.T) {
	docs := []string{
		`{"botName":"OrderFlowers","nluIntentConfidence":0.99,"missedUtterance":true}`,
		`{"botName":"BookTrip","nluIntentConfidence":0.5,"missedUtterance":false}`,
		`{"botName":"OrderFlowers","missedUtterance":true}`,
		`{"botName":"BookTrip","nluIntentConfidence":0.999}`,
		`not json at all: nluIntentConfidence 0.999`,
		`{"nluIntentConfidence":"0.999","botName":"Order\u0046lowers","missedUtterance":true}`,
		`{"botName":"HelpDesk","alternativeIntents":[{"nluIntentConfidence":0.999}]}`,
	}
	for _, pattern := range []string{
		`{ $.nluIntentConfidence > 0.985 }`,                           // hint rejects few: paused
		`{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`, // hint rejects many
		`{ $.botName = "OrderFlowers" || $.nluIntentConfidence < 0.6 }`,
	} {
		p, err := Parse(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, unescaped := range []bool{false, true} {
			m := p.NewMatcher()
			for i := range 3 * (hintSample + hintPause) {
				// Phases: mostly messages the hint cannot rule out, then
				// a run of ones it can.
				d := docs[i%len(docs)]
				if i/hintSample%3 == 2 {
					d = docs[1+i%2]
				}
				if unescaped && strings.Contains(d, `\u`) {
					continue // MatchUnescaped's precondition
				}
				got := m.Match([]byte(d))
				if unescaped {
					got = m.MatchUnescaped([]byte(d))
				}
				if want := p.Match([]byte(d)); got != want {
					t.Fatalf("%s, message %d %s: long-lived matcher %v, fresh %v (hint skip %d)", pattern, i, d, got, want, m.hintSkip)
				}
			}
		}
	}
}

// TestMatcherHintPause: the pause starts after a sample in which the hint
// rejected fewer than a third of the messages, and not otherwise.
func TestMatcherHintPause(t *testing.T) {
	p, _ := Parse(`{ $.botName = "OrderFlowers" }`)
	m := p.NewMatcher()
	for range hintSample {
		m.Match([]byte(`{"botName":"OrderFlowers"}`)) // never rejected
	}
	if m.hintSkip != hintPause {
		t.Fatalf("after a sample without rejections: skip %d, want %d", m.hintSkip, hintPause)
	}
	m = p.NewMatcher()
	for i := range hintSample {
		if i%2 == 0 {
			m.Match([]byte(`{"botName":"BookTrip"}`)) // rejected by the hint
		} else {
			m.Match([]byte(`{"botName":"OrderFlowers"}`))
		}
	}
	if m.hintSkip != 0 {
		t.Fatalf("after a sample with half rejected: skip %d, want 0", m.hintSkip)
	}
}

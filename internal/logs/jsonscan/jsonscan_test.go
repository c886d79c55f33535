package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScan(t *testing.T) {
	doc := []byte(`{"botName":"OrderFlowers","n":-1.5e3,"ok":true,"no":false,"z":null,
		"slots":{"FlowerType":"roses","Pickup\u0044ate":null},
		"alt":[{"name":"A","c":0.5},{"name":"B\"x","c":1}],
		"arr":[[1,2],[3,4]], "dup":1, "dup":2, "esc":"a\u00e9\ud83d\ude00\n"}`)
	paths := []Path{
		{{Name: "botName"}},
		{{Name: "n"}},
		{{Name: "ok"}},
		{{Name: "no"}},
		{{Name: "z"}},
		{{Name: "slots"}, {Name: "FlowerType"}},
		{{Name: "slots"}, {Name: "PickupDate"}},
		{{Name: "alt"}, {Index: 1, Select: Index}, {Name: "name"}},
		DottedPath("alt.0.c"),
		{{Name: "arr"}, {Index: 1, Select: Index}, {Index: 0, Select: Index}},
		{{Name: "slots"}},
		{{Name: "missing"}},
		{{Name: "alt"}, {Name: "0"}}, // a member step does not index arrays
		{{Name: "dup"}},
		{{Name: "esc"}},
	}
	want := []struct {
		kind Kind
		text string
	}{
		{String, "OrderFlowers"}, {Number, "-1.5e3"}, {True, "true"}, {False, "false"}, {Null, "null"},
		{String, "roses"}, {Null, "null"}, {String, `B"x`}, {Number, "0.5"}, {Number, "3"},
		{Object, `{"FlowerType":"roses","Pickup\u0044ate":null}`}, {Missing, ""}, {Missing, ""}, {Number, "2"},
		{String, "aé😀\n"},
	}
	s := NewSet(paths)
	out := make([]Value, s.Len())
	if !s.Scan(doc, out) {
		t.Fatal("valid document reported invalid")
	}
	for i, w := range want {
		if out[i].Kind != w.kind || (w.kind != Missing && out[i].Text() != w.text) {
			t.Errorf("path %d: got %v %q, want %v %q", i, out[i].Kind, out[i].Text(), w.kind, w.text)
		}
	}
	if f, ok := out[1].Float(); !ok || f != -1500 {
		t.Errorf("Float = %v %v", f, ok)
	}
}

func TestValid(t *testing.T) {
	for _, doc := range []string{
		`{}`, `[]`, ` {"a" : [1, 2.0, -3e+2, "x", true, false, null, {}] } `, `"s"`, `0`, `-0.1`,
	} {
		if !Valid([]byte(doc)) {
			t.Errorf("%s: reported invalid", doc)
		}
	}
	for _, doc := range []string{
		``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `-`, `1e`, `tru`, `nul`,
		`{"a":1}x`, `"\x"`, `"\u12"`, `{a:1}`, `[1 2]`, strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	} {
		if Valid([]byte(doc)) {
			t.Errorf("%q: reported valid", doc)
		}
	}
}

func TestFlatten(t *testing.T) {
	doc := `{"a":1,"b":{"c":"x","d":[true,{"e":null}]},"f":[],"g":{}}`
	var got []string
	if !Flatten([]byte(doc), func(name []byte, v Value) bool {
		got = append(got, string(name)+"="+v.Text())
		return true
	}) {
		t.Fatal("invalid")
	}
	want := "a=1 b.c=x b.d.0=true b.d.1.e=null"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
	if Flatten([]byte(`[1]`), func([]byte, Value) bool { return true }) {
		t.Fatal("a non-object document is not flattened")
	}
	n := 0
	Flatten([]byte(doc), func([]byte, Value) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("stop after 2: %d calls", n)
	}
}

// FuzzScan checks the scanner against encoding/json: the same documents
// are valid, and every extracted string decodes as json.Unmarshal would.
func FuzzScan(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":{"b":[1,"\u00e9"]}}`, `[{"a":1},{"a":2}]`, `{"a":"\ud800"}`, `{"a" : 1e5 , "b":[]}`, `"x"`, `{"a":`} {
		f.Add([]byte(s))
	}
	set := NewSet([]Path{DottedPath("a"), DottedPath("a.b"), DottedPath("a.b.1"), DottedPath("0.a")})
	f.Fuzz(func(t *testing.T, doc []byte) {
		out := make([]Value, set.Len())
		ok := set.Scan(doc, out)
		deep := strings.Count(string(doc), "[")+strings.Count(string(doc), "{") >= MaxDepth
		if want := json.Valid(doc); ok != want && !deep && !hasRawControl(doc) {
			t.Fatalf("Scan valid=%v, json.Valid=%v for %q", ok, want, doc)
		}
		if !ok {
			return
		}
		for _, v := range out {
			if v.Kind == String && utf8.Valid(v.Raw) && !hasRawControl(v.Raw) {
				var s string
				if err := json.Unmarshal(v.Raw, &s); err != nil {
					t.Fatalf("%q: %v", v.Raw, err)
				}
				if got := v.Text(); got != s && !strings.ContainsRune(s, utf8.RuneError) {
					t.Fatalf("Text %q, json %q", got, s)
				}
			}
		}
		Flatten(doc, func(name []byte, v Value) bool { return true })
		// ScanFirst agrees on documents without duplicate members.
		first := make([]Value, set.Len())
		if !set.ScanFirst(doc, first) {
			t.Fatalf("ScanFirst rejects a valid document %q", doc)
		}
		var m map[string]any
		if json.Unmarshal(doc, &m) == nil && !hasDuplicateKeys(doc) {
			for i := range out {
				if out[i].Kind != first[i].Kind || string(out[i].Raw) != string(first[i].Raw) {
					t.Fatalf("path %d: Scan %v %q, ScanFirst %v %q", i, out[i].Kind, out[i].Raw, first[i].Kind, first[i].Raw)
				}
			}
		}
	})
}

func BenchmarkScan(b *testing.B) {
	doc := []byte(`{"messageVersion":"1.0","botName":"OrderFlowers","botAlias":"prod","botVersion":"1","inputTranscript":"i want roses","botResponse":"What day do you want the roses to be picked up?","intent":"OrderFlowers","nluIntentConfidence":0.93,"slots":{"FlowerType":"roses","PickupDate":null,"PickupTime":null},"alternativeIntents":[{"name":"AMAZON.FallbackIntent","nluIntentConfidence":0.0,"slots":{}}],"developerOverride":"false","missedUtterance":false,"inputDialogMode":"Text","requestId":"6f3f8a9e-0c7e-4b0b-9d43-2f0f5e1c9a11","userId":"user-1","sessionId":"2024-05-01T10:00:00.000Z-AbCdEfGh","slotToElicit":"PickupDate","dialogState":"ElicitSlot","locale":"en-US","timestamp":"2024-05-01T10:00:01.250Z","sessionAttributes":{"channel":"web"}}`)
	s := NewSet([]Path{DottedPath("botName"), DottedPath("missedUtterance")})
	out := make([]Value, 2)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !s.Scan(doc, out) {
			b.Fatal("invalid")
		}
	}
}

// hasRawControl reports control characters (the scanner accepts them
// inside strings, encoding/json does not; outside strings tab, newline and
// carriage return are whitespace, so those documents are skipped too).
func hasRawControl(doc []byte) bool {
	for _, c := range doc {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// hasDuplicateKeys reports duplicate members anywhere in doc (Scan keeps
// the last, ScanFirst the first).
func hasDuplicateKeys(doc []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	var stack []map[string]bool
	expectKey := []bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = append(expectKey, true)
				continue
			case '[':
				stack = append(stack, nil)
				expectKey = append(expectKey, false)
				continue
			default:
				stack = stack[:len(stack)-1]
				expectKey = expectKey[:len(expectKey)-1]
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1] != nil && expectKey[n-1] {
				if stack[n-1][v] {
					return true
				}
				stack[n-1][v] = true
				expectKey[n-1] = false
				continue
			}
		}
		if n := len(stack); n > 0 && stack[n-1] != nil {
			expectKey[n-1] = true
		}
	}
}

func TestScanFirst(t *testing.T) {
	s := NewSet([]Path{DottedPath("a"), DottedPath("b.c")})
	out := make([]Value, 2)
	// Stops before the malformed tail once both are found.
	if !s.ScanFirst([]byte(`{"a":1,"b":{"c":"x"},"z":[1,}`), out) || out[0].Text() != "1" || out[1].Text() != "x" {
		t.Fatalf("%v", out)
	}
	if !s.ScanFirst([]byte(`{"a":1,"a":2,"b":{"c":3}}`), out) || out[0].Text() != "1" {
		t.Fatalf("first occurrence: %v", out)
	}
	if s.ScanFirst([]byte(`{"a":1,"z":[1,}`), out) {
		t.Fatal("malformed before all paths were found")
	}
}

func BenchmarkScanFirst(b *testing.B) {
	doc := []byte(`{"messageVersion":"1.0","botName":"OrderFlowers","botAlias":"prod","botVersion":"1","inputTranscript":"i want roses","botResponse":"What day do you want the roses to be picked up?","intent":"OrderFlowers","nluIntentConfidence":0.93,"slots":{"FlowerType":"roses","PickupDate":null,"PickupTime":null},"alternativeIntents":[{"name":"AMAZON.FallbackIntent","nluIntentConfidence":0.0,"slots":{}}],"developerOverride":"false","missedUtterance":false,"inputDialogMode":"Text","requestId":"6f3f8a9e-0c7e-4b0b-9d43-2f0f5e1c9a11","userId":"user-1","sessionId":"2024-05-01T10:00:00.000Z-AbCdEfGh","slotToElicit":"PickupDate","dialogState":"ElicitSlot","locale":"en-US","timestamp":"2024-05-01T10:00:01.250Z","sessionAttributes":{"channel":"web"}}`)
	s := NewSet([]Path{DottedPath("missedUtterance")})
	out := make([]Value, 1)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !s.ScanFirst(doc, out) {
			b.Fatal("invalid")
		}
	}
}

// sortedLexDoc is a conversation-log turn as encoding/json writes a map
// (members sorted): the nested alternativeIntents come first and the
// member a range pattern reads is two thirds in.
const sortedLexDoc = `{"alternativeIntents":[{"name":"AMAZON.FallbackIntent","nluIntentConfidence":0,"slots":{}}],"botAlias":"prod","botName":"PizzaOrder","botResponse":"What day do you want the roses to be picked up?","botVersion":"3","developerOverride":"false","dialogState":"ElicitSlot","inputDialogMode":"Text","inputTranscript":"book a hotel in chicago","intent":"PizzaOrder","locale":"en-US","messageVersion":"1.0","missedUtterance":false,"nluIntentConfidence":0.42,"requestId":"6f3f8a9e-0c7e-4b0b-9d43-2f0f5e1c9a11","sessionAttributes":{"channel":"web"},"sessionId":"2026-11-21T10:00:00.000Z-1a2b3c4d","slotToElicit":"PickupDate","slots":{"FlowerType":"roses","PickupDate":null,"PickupTime":null},"timestamp":"2026-11-21T10:00:00.000Z","userId":"user-4242"}`

// BenchmarkScanFirstSorted: the member FilterLogEvents' range benchmark
// reads, in a sorted document.
func BenchmarkScanFirstSorted(b *testing.B) {
	doc := []byte(sortedLexDoc)
	s := NewSet([]Path{DottedPath("nluIntentConfidence")})
	out := make([]Value, 1)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if !s.ScanFirst(doc, out) || string(out[0].Raw) != "0.42" {
			b.Fatal("invalid")
		}
	}
}

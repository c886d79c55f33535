package insights

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fixture is a fixed log group: conversation-log turns of two bots and a
// few plain-text lines, one minute apart from t0.
var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).UnixMilli()

type turn struct {
	bot, intent, transcript, mode, state string
	conf                                 float64
	missed                               bool
	slots                                map[string]any
}

var turns = []turn{
	{"OrderFlowers", "OrderFlowers", "i would like to order flowers", "Text", "ElicitSlot", 0.93, false, map[string]any{"FlowerType": nil}},
	{"OrderFlowers", "OrderFlowers", "roses", "Text", "ElicitSlot", 0.88, false, map[string]any{"FlowerType": "roses"}},
	{"OrderFlowers", "", "what is the weather", "Text", "ElicitIntent", 0, true, nil},
	{"BookTrip", "BookHotel", "book a hotel in chicago", "Speech", "ElicitSlot", 0.81, false, map[string]any{"Location": "chicago"}},
	{"BookTrip", "", "sing me a song", "Speech", "ElicitIntent", 0, true, nil},
	{"OrderFlowers", "OrderFlowers", "tulips please", "Text", "Fulfilled", 0.97, false, map[string]any{"FlowerType": "tulips"}},
	{"BookTrip", "BookHotel", "next friday", "Text", "ConfirmIntent", 0.64, false, map[string]any{"Location": "chicago", "CheckIn": "2026-11-06"}},
	{"OrderFlowers", "", "asdfgh", "Text", "ElicitIntent", 0, true, nil},
}

func fixture() []Record {
	var recs []Record
	for i, tr := range turns {
		doc := map[string]any{
			"messageVersion": "1.0", "botName": tr.bot, "botAlias": "prod", "botVersion": "1",
			"inputTranscript": tr.transcript, "missedUtterance": tr.missed, "inputDialogMode": tr.mode,
			"dialogState": tr.state, "userId": fmt.Sprintf("user-%d", i%3), "sessionId": fmt.Sprintf("s%d", i%4),
		}
		if !tr.missed {
			doc["intent"] = tr.intent
			doc["nluIntentConfidence"] = tr.conf
			doc["slots"] = tr.slots
			doc["alternativeIntents"] = []any{map[string]any{"name": "AMAZON.FallbackIntent", "nluIntentConfidence": 0.1}}
		}
		b, _ := json.Marshal(doc)
		stream := "aws/lex/" + tr.bot + "/prod/1/a"
		recs = append(recs, Record{Timestamp: t0 + int64(i)*60_000, IngestionTime: t0 + int64(i)*60_000 + 5, Message: b, LogStream: stream, Log: "123456789012:lex-text-logs"})
	}
	recs = append(recs,
		Record{Timestamp: t0 + 30_000, Message: []byte("[ERROR] user=alice action=delete code=500"), LogStream: "app", Log: "123456789012:lex-text-logs"},
		Record{Timestamp: t0 + 90_000, Message: []byte("[WARN] user=bob action=read code=404"), LogStream: "app", Log: "123456789012:lex-text-logs"},
	)
	return recs
}

func run(t *testing.T, q string, limit int) [][]Field {
	t.Helper()
	query, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	x := query.NewExecutor(limit)
	for _, r := range fixture() {
		x.Add(&r)
	}
	rows, _ := x.Result()
	return rows
}

// render prints rows compactly: "f=v f=v; f=v".
func render(rows [][]Field) string {
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteString("; ")
		}
		for j, f := range r {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f.Field + "=" + f.Value)
		}
	}
	return b.String()
}

func TestQueries(t *testing.T) {
	cases := []struct {
		name, query, want string
		limit             int
	}{
		{"missed utterances this week",
			`fields @timestamp, inputTranscript, botName | filter missedUtterance = 1 | sort @timestamp desc`,
			"@timestamp=2026-11-02 09:07:00.000 inputTranscript=asdfgh botName=OrderFlowers; @timestamp=2026-11-02 09:04:00.000 inputTranscript=sing me a song botName=BookTrip; @timestamp=2026-11-02 09:02:00.000 inputTranscript=what is the weather botName=OrderFlowers", 0},
		{"missed, one bot, oldest first",
			`fields inputTranscript | filter missedUtterance = true and botName = "OrderFlowers" | sort @timestamp asc`,
			"inputTranscript=what is the weather; inputTranscript=asdfgh", 0},
		{"default columns and order",
			`filter @message like "ERROR"`,
			`@timestamp=2026-11-02 09:00:30.000 @message=[ERROR] user=alice action=delete code=500`, 0},
		{"limit",
			`fields inputTranscript | filter ispresent(botName) | limit 2`,
			"inputTranscript=asdfgh; inputTranscript=next friday", 0},
		{"caller limit",
			`fields inputTranscript | filter ispresent(botName)`,
			"inputTranscript=asdfgh", 1},
		{"count by intent",
			`stats count(*) by intent | sort count(*) desc`,
			"count(*)=5; intent=OrderFlowers count(*)=3; intent=BookHotel count(*)=2", 0},
		{"count by bot with alias",
			`filter ispresent(botName) | stats count(*) as turns, avg(nluIntentConfidence) as conf by botName | sort turns desc`,
			"botName=OrderFlowers turns=5 conf=0.926666666666667; botName=BookTrip turns=3 conf=0.725", 0},
		{"sum min max count",
			`stats sum(nluIntentConfidence) as s, min(nluIntentConfidence) as lo, max(nluIntentConfidence) as hi, count(intent) as n, count_distinct(sessionId) as sessions`,
			"s=4.23 lo=0.64 hi=0.97 n=5 sessions=4", 0},
		{"post-stats filter",
			`filter ispresent(botName) | stats count(*) as n by botName, inputDialogMode | filter n > 1 | sort n desc, botName asc`,
			"botName=OrderFlowers inputDialogMode=Text n=5; botName=BookTrip inputDialogMode=Speech n=2", 0},
		{"bin",
			`filter ispresent(botName) | stats count(*) by bin(5m)`,
			"bin(5m)=2026-11-02 09:00:00.000 count(*)=5; bin(5m)=2026-11-02 09:05:00.000 count(*)=3", 0},
		{"nested and array fields",
			`fields slots.FlowerType as flower, alternativeIntents.0.name as alt | filter ispresent(flower) | sort flower`,
			"flower=roses alt=AMAZON.FallbackIntent; flower=tulips alt=AMAZON.FallbackIntent", 0},
		{"regex filter",
			`fields inputTranscript | filter inputTranscript =~ /^(roses|tulips)/ | sort inputTranscript desc`,
			"inputTranscript=tulips please; inputTranscript=roses", 0},
		{"like regex and not like",
			`fields inputTranscript | filter inputTranscript like /hotel|friday/ and inputTranscript not like "next" `,
			"inputTranscript=book a hotel in chicago", 0},
		{"in",
			`fields dialogState | filter dialogState in ["Fulfilled", "ConfirmIntent"] | sort dialogState`,
			"dialogState=ConfirmIntent; dialogState=Fulfilled", 0},
		{"not in and not",
			`fields inputTranscript | filter ispresent(intent) and dialogState not in ["ElicitSlot"] and not (nluIntentConfidence > 0.9)`,
			"inputTranscript=next friday", 0},
		{"parse glob",
			`parse @message "[*] user=* action=* code=*" as level, user, action, code | filter ispresent(user) | fields level, user, code | sort code desc`,
			"level=ERROR user=alice code=500; level=WARN user=bob code=404", 0},
		{"parse regex",
			`parse @message /user=(?<user>\w+) action=(?<action>\w+)/ | stats count(*) by action | sort action`,
			"action=delete count(*)=1; action=read count(*)=1; count(*)=8", 0},
		{"computed fields and functions",
			`fields toupper(botName) as bot, strlen(inputTranscript) as len, concat(botName, "/", intent) as path, nluIntentConfidence * 100 as pct | filter len > 12 and ispresent(intent) | sort len desc | limit 2`,
			"bot=ORDERFLOWERS len=29 path=OrderFlowers/OrderFlowers pct=93; bot=BOOKTRIP len=23 path=BookTrip/BookHotel pct=81", 0},
		{"system fields",
			`fields @logStream, @log | filter @logStream = "app" | limit 1`,
			"@logStream=app @log=123456789012:lex-text-logs", 0},
		{"display",
			`fields botName, intent | filter intent = "BookHotel" | display intent`,
			"intent=BookHotel; intent=BookHotel", 0},
		{"comments and case",
			"FIELDS inputTranscript # what users said\n| FILTER missedUtterance = 1 AND inputDialogMode = 'Speech'",
			"inputTranscript=sing me a song", 0},
		{"numeric string comparison",
			`parse @message "code=*" as code | filter code >= 500 | fields code`,
			"code=500", 0},
		{"stats by two, natural sort of strings",
			`filter ispresent(userId) | stats count(*) as n by userId | sort userId desc`,
			"userId=user-2 n=2; userId=user-1 n=3; userId=user-0 n=3", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := render(run(t, c.query, c.limit))
			if got != c.want {
				t.Errorf("%s\n got: %s\nwant: %s", c.query, got, c.want)
			}
		})
	}
}

func TestStatistics(t *testing.T) {
	q, _ := Parse(`filter missedUtterance = 1`)
	x := q.NewExecutor(0)
	var bytes float64
	for _, r := range fixture() {
		x.Add(&r)
		bytes += float64(len(r.Message))
	}
	_, st := x.Result()
	if st.RecordsScanned != 10 || st.RecordsMatched != 3 || st.BytesScanned != bytes {
		t.Fatalf("statistics %+v (bytes %v)", st, bytes)
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ query, msg string }{
		{``, "empty"},
		{`fields`, "Expected a field"},
		{`filter`, "Expected a field"},
		{`frobnicate x`, "Unknown or unsupported command"},
		{`fields a | | limit 1`, "Expected a command"},
		{`fields a b`, "Expected '|'"},
		{`limit -1`, "positive whole number"},
		{`limit 20000`, "at most 10000"},
		{`stats x`, "aggregate functions"},
		{`filter count(*) > 1`, "aggregate function"},
		{`stats count(*) | stats count(*)`, "one stats command"},
		{`filter a like`, "regular expression/ or a string"},
		{`filter a =~ /(/`, "Invalid regular expression"},
		{`filter nosuch(a)`, "Unknown or unsupported function"},
		{`filter strlen(a, b)`, "takes 1 argument"},
		{`stats count(*) by bin(x)`, "time period"},
		{`stats count(*) by bin(5q)`, "Invalid time unit"},
		{`parse @message "x" as a`, "at least one '*'"},
		{`parse @message "*-*" as a`, "2 '*' but 1 field"},
		{`parse @message /x(y)/`, "named groups"},
		{`filter a = "x`, "Unterminated string"},
		{`stats count(*) as n | sort m`, "not a column"},
		{`filter a in ["x" "y"]`, "Expected ',' or ']'"},
		{`filter (a = 1`, `Expected ")"`},
		{`filter a = /x/`, "can only follow like"},
		{strings.Repeat("x", MaxLength+1), "longer than"},
	}
	for _, c := range cases {
		_, err := Parse(c.query)
		ce, ok := err.(*CompileError)
		if !ok || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Parse(%q) = %v, want a CompileError containing %q", c.query, err, c.msg)
			continue
		}
		if ce.Start < 0 || ce.End <= ce.Start || ce.Start > len(c.query)+1 {
			t.Errorf("Parse(%q): bad location %d-%d", c.query, ce.Start, ce.End)
		}
	}
}

func TestNaturalSort(t *testing.T) {
	// The AWS guide's example, in ascending order.
	want := []string{"!:", "#", "*%04", "0#", "5A", "111A", "2345_", "@", "@_", "A", "A9876fghj", "a12345hfh", "0", "01", "1", "2", "3"}
	got := append([]string(nil), want...)
	// shuffle deterministically
	for i := range got {
		j := (i * 7) % len(got)
		got[i], got[j] = got[j], got[i]
	}
	for i := 0; i < len(got); i++ {
		for j := i + 1; j < len(got); j++ {
			if naturalCompare(str(got[j]), str(got[i])) < 0 {
				got[i], got[j] = got[j], got[i]
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("natural order\n got %v\nwant %v", got, want)
	}
}

// FuzzParse: any query parses or fails with a located CompileError, and a
// parsed query runs over the fixture without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`fields @timestamp, @message | sort @timestamp desc | limit 20`,
		`filter missedUtterance = 1 | stats count(*) by intent`,
		`parse @message "[*] *" as a, b | filter a like /E/`,
		`stats avg(x), max(y) by bin(1h) | sort avg(x) desc`,
		`fields concat(a, "x") as c | filter c in ["a", 1] and not ispresent(d)`,
	} {
		f.Add(s)
	}
	recs := fixture()
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			ce, ok := err.(*CompileError)
			if !ok {
				t.Fatalf("%T: %v", err, err)
			}
			if ce.Start < 0 || ce.End < ce.Start {
				t.Fatalf("bad location %d-%d", ce.Start, ce.End)
			}
			return
		}
		x := q.NewExecutor(50)
		for i := range recs {
			x.Add(&recs[i])
		}
		x.Result()
	})
}

func BenchmarkQuery(b *testing.B) {
	q, _ := Parse(`fields @timestamp, inputTranscript | filter missedUtterance = 1 and botName = "OrderFlowers" | sort @timestamp desc | limit 20`)
	recs := fixture()
	b.ResetTimer()
	for b.Loop() {
		x := q.NewExecutor(0)
		for i := range recs {
			x.Add(&recs[i])
		}
		x.Result()
	}
}

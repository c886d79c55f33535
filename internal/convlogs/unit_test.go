package convlogs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"lextrail/internal/awserr"
	"lextrail/internal/dialog"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/store"
)

func sp(s string) *string { return &s }

// TestCheckShape: the request-only rules of spec §3.2, each refused with
// a 400 BadRequestException naming it.
func TestCheckShape(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/LexLogs"
	const grp = "arn:aws:logs:us-east-1:123456789012:log-group:lex"
	const bkt = "arn:aws:s3:::lex-audio"
	const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	text := lexmodels.LogSettingsRequest{LogType: TypeText, Destination: DestCloudWatch, ResourceArn: grp}
	audio := lexmodels.LogSettingsRequest{LogType: TypeAudio, Destination: DestS3, ResourceArn: bkt, KmsKeyArn: sp(key)}
	for _, tc := range []struct {
		name string
		req  lexmodels.ConversationLogsRequest
		want string // "" = accepted
	}{
		{"text and audio", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{text, audio}}, ""},
		{"text with :*", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{{LogType: TypeText, Destination: DestCloudWatch, ResourceArn: grp + ":*"}}}, ""},
		{"alias key", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{{LogType: TypeAudio, Destination: DestS3, ResourceArn: bkt,
			KmsKeyArn: sp("arn:aws:kms:us-east-1:123456789012:alias/lex-audio")}}}, ""},
		{"no role", lexmodels.ConversationLogsRequest{LogSettings: []lexmodels.LogSettingsRequest{text}}, "Value null at 'conversationLogs.iamRoleArn'"},
		{"no settings", lexmodels.ConversationLogsRequest{IamRoleArn: role}, "Value null at 'conversationLogs.logSettings'"},
		{"empty settings", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{}}, "logSettings is empty"},
		{"two errors", lexmodels.ConversationLogsRequest{IamRoleArn: "x", LogSettings: []lexmodels.LogSettingsRequest{{LogType: "X", Destination: DestS3, ResourceArn: bkt}}},
			"2 validation errors detected"},
		{"TEXT to S3", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{{LogType: TypeText, Destination: DestS3, ResourceArn: bkt}}},
			"TEXT log setting must be CLOUDWATCH_LOGS"},
		{"AUDIO to CloudWatch", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{{LogType: TypeAudio, Destination: DestCloudWatch, ResourceArn: grp}}},
			"AUDIO log setting must be S3"},
		{"duplicate", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{audio, text, audio}}, "more than one AUDIO"},
		{"kms on text", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{{LogType: TypeText, Destination: DestCloudWatch,
			ResourceArn: grp, KmsKeyArn: sp(key)}}}, "kmsKeyArn applies only to S3"},
		{"bucket for text", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{{LogType: TypeText, Destination: DestCloudWatch, ResourceArn: bkt}}},
			"must be a log group ARN"},
		{"long role", lexmodels.ConversationLogsRequest{IamRoleArn: role + strings.Repeat("x", 2048), LogSettings: []lexmodels.LogSettingsRequest{text}}, "length less than or equal to 2048"},
		{"bucket pattern", lexmodels.ConversationLogsRequest{IamRoleArn: role, LogSettings: []lexmodels.LogSettingsRequest{{LogType: TypeAudio, Destination: DestS3, ResourceArn: "arn:aws:s3:::Bad_Bucket"}}},
			"regular expression pattern"},
	} {
		err := CheckShape(&tc.req)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var ae *awserr.Error
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "BadRequestException" || !strings.Contains(ae.Message, tc.want) {
			t.Errorf("%s: %v, want 400 BadRequestException %q", tc.name, err, tc.want)
		}
	}
}

// FuzzSettings: CheckShape never panics and answers 400 or nil; settings
// it accepts parse (parseSettings, what a session carries) into
// destinations that match them.
func FuzzSettings(f *testing.F) {
	for _, seed := range []string{
		`{"iamRoleArn":"arn:aws:iam::123456789012:role/LexLogs","logSettings":[{"logType":"TEXT","destination":"CLOUDWATCH_LOGS","resourceArn":"arn:aws:logs:us-east-1:123456789012:log-group:lex"}]}`,
		`{"iamRoleArn":"arn:aws:iam::123456789012:role/L","logSettings":[{"logType":"AUDIO","destination":"S3","resourceArn":"arn:aws:s3:::my-bucket","kmsKeyArn":"arn:aws:kms:us-east-1:123456789012:key/abc"}]}`,
		`{"iamRoleArn":"arn:aws:iam::123456789012:role/L","logSettings":[{"logType":"TEXT","destination":"CLOUDWATCH_LOGS","resourceArn":"arn:aws:logs:us-east-1:123456789012:log-group:a/b#c:*"},{"logType":"AUDIO","destination":"S3","resourceArn":"arn:aws:s3:::b.c-d"}]}`,
		`{"iamRoleArn":"x","logSettings":[]}`, `{}`, `{"logSettings":[{}]}`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var req lexmodels.ConversationLogsRequest
		if json.Unmarshal(raw, &req) != nil {
			return
		}
		err := CheckShape(&req)
		if err != nil {
			var ae *awserr.Error
			if !errors.As(err, &ae) || ae.Status != 400 {
				t.Fatalf("CheckShape: %v", err)
			}
			return
		}
		st, err := parseSettings(raw)
		if err != nil {
			t.Fatalf("accepted settings do not parse: %v: %s", err, raw)
		}
		for _, ls := range req.LogSettings {
			switch ls.LogType {
			case TypeText:
				if st.Text == nil || !strings.HasPrefix(ls.ResourceArn, st.Text.ARN) || !strings.HasSuffix(st.Text.ARN, ":log-group:"+st.Text.Name) {
					t.Fatalf("text %+v from %s", st.Text, ls.ResourceArn)
				}
			case TypeAudio:
				if st.Audio == nil || ls.ResourceArn != "arn:aws:s3:::"+st.Audio.Bucket && !strings.HasSuffix(ls.ResourceArn, ":::"+st.Audio.Bucket) {
					t.Fatalf("audio %+v from %s", st.Audio, ls.ResourceArn)
				}
			}
		}
	})
}

func turn() *lexruntime.Turn {
	conf := 0.87
	return &lexruntime.Turn{
		RequestID: "req-1", Timestamp: time.Date(2026, 5, 1, 10, 0, 1, 250e6, time.UTC), Operation: "PostText", AccountID: "123456789012", Region: "us-east-1",
		BotName: "Shop", BotAlias: "prod", BotVersion: "3", Locale: "en-US", UserID: "u-1", SessionID: "s-1",
		ConversationLogs: json.RawMessage(`{"iamRoleArn":"arn:aws:iam::123456789012:role/L","logSettings":[{"logType":"TEXT","destination":"CLOUDWATCH_LOGS","resourceArn":"arn:aws:logs:us-east-1:123456789012:log-group:lex"}]}`),
		InputDialogMode:  "Text", InputTranscript: "buy <2> & {x} for bob", LogTranscript: `buy <2> & \\{x\\} for {name}`,
		Intent: "Buy", NluIntentConfidence: &conf,
		AlternativeIntents:    []dialog.PredictedIntent{{IntentName: "Sell", NluIntentConfidence: &dialog.IntentConfidence{Score: 0.1}, Slots: map[string]*string{"name": sp("bob")}}},
		LogAlternativeIntents: []dialog.PredictedIntent{{IntentName: "Sell", NluIntentConfidence: &dialog.IntentConfidence{Score: 0.1}, Slots: map[string]*string{"name": sp("{name}")}}},
		Slots:                 map[string]*string{"name": sp("bob"), "qty": nil}, LogSlots: map[string]*string{"name": sp("{name}"), "qty": nil},
		SlotToElicit: "qty", DialogState: "ElicitSlot", DeveloperOverride: true, BotResponse: sp("How many, bob?"),
		ResponseCard:      &dialog.ResponseCard{Version: "1", ContentType: "application/vnd.amazonaws.card.generic"},
		SessionAttributes: map[string]string{}, RequestAttributes: map[string]string{"k": "v"},
	}
}

// TestDocument: the document's members, their order and presence rules
// (spec §4.1), and the masked values (§4.3).
func TestDocument(t *testing.T) {
	got := string(NewDocument(turn(), "").Marshal())
	want := `{"messageVersion":"1.0","botName":"Shop","botAlias":"prod","botVersion":"3","inputTranscript":"buy <2> & \\\\{x\\\\} for {name}",` +
		`"botResponse":"How many, bob?","intent":"Buy","nluIntentConfidence":0.87,"slots":{"name":"{name}","qty":null},` +
		`"alternativeIntents":[{"name":"Sell","nluIntentConfidence":0.1,"slots":{"name":"{name}"}}],"developerOverride":"true","missedUtterance":false,` +
		`"inputDialogMode":"Text","requestId":"req-1","userId":"u-1","sessionId":"s-1","slotToElicit":"qty","dialogState":"ElicitSlot",` +
		`"responseCard":{"genericAttachments":[],"contentType":"application/vnd.amazonaws.card.generic","version":"1"},"locale":"en-US",` +
		`"timestamp":"2026-05-01T10:00:01.250Z","requestAttributes":{"k":"v"}}`
	if got != want {
		t.Errorf("document\n got %s\nwant %s", got, want)
	}
	// a missed utterance has no intent, slots or slotToElicit; audio adds
	// s3PathForAudio
	tr := turn()
	tr.MissedUtterance, tr.Intent, tr.InputDialogMode = true, "", "Speech"
	d := map[string]any{}
	json.Unmarshal(NewDocument(tr, "b/aws/lex/Shop/prod/3/s-1/req-1.pcm").Marshal(), &d)
	for _, k := range []string{"intent", "slots", "slotToElicit", "sessionAttributes"} {
		if _, ok := d[k]; ok {
			t.Errorf("missed utterance document has %s", k)
		}
	}
	if d["missedUtterance"] != true || d["s3PathForAudio"] != "b/aws/lex/Shop/prod/3/s-1/req-1.pcm" || d["inputDialogMode"] != "Speech" {
		t.Errorf("document %v", d)
	}
}

func TestAudioKey(t *testing.T) {
	for ct, ext := range map[string]string{"audio/l16; rate=16000; channels=1": ".pcm", "audio/x-l16; sample-rate=16000; channel-count=1": ".pcm",
		"audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false":     ".pcm",
		"audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=256000; frame-size-milliseconds=4": ".opus", "audio/other": ".bin"} {
		if got := AudioKey("aws/lex/B/a/1/", "s", "r", ct); got != "aws/lex/B/a/1/s/r"+ext {
			t.Errorf("%s: %s", ct, got)
		}
	}
}

func newTestService(t testing.TB, cfg Config) *Service {
	db, err := store.Open(context.Background(), store.Config{URL: "sqlite://" + filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.DB = db
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPrepareTurn: what a turn queues, and the turns that queue nothing
// ($LATEST, child-directed bots, sessions without settings).
func TestPrepareTurn(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	s := newTestService(t, Config{Now: func() time.Time { return now }})
	for name, mod := range map[string]func(*lexruntime.Turn){
		"$LATEST":        func(tr *lexruntime.Turn) { tr.BotAlias = "$LATEST" },
		"child-directed": func(tr *lexruntime.Turn) { tr.ChildDirected = true },
		"no settings":    func(tr *lexruntime.Turn) { tr.ConversationLogs = nil },
		"bad settings":   func(tr *lexruntime.Turn) { tr.ConversationLogs = json.RawMessage(`{"iamRoleArn":"x"}`) },
		"audio only, text turn": func(tr *lexruntime.Turn) {
			tr.ConversationLogs = json.RawMessage(`{"iamRoleArn":"arn:aws:iam::123456789012:role/L","logSettings":[{"logType":"AUDIO","destination":"S3","resourceArn":"arn:aws:s3:::b"}]}`)
		},
	} {
		tr := turn()
		mod(tr)
		if w := s.PrepareTurn(tr); w != nil {
			t.Errorf("%s: a write was prepared", name)
		}
	}
	tr := turn()
	tr.ConversationLogs = json.RawMessage(`{"iamRoleArn":"arn:aws:iam::123456789012:role/L","logSettings":[` +
		`{"logType":"TEXT","destination":"CLOUDWATCH_LOGS","resourceArn":"arn:aws:logs:us-east-1:123456789012:log-group:lex:*"},` +
		`{"logType":"AUDIO","destination":"S3","resourceArn":"arn:aws:s3:::b","kmsKeyArn":"arn:aws:kms:us-east-1:123456789012:alias/a"}]}`)
	tr.InputDialogMode, tr.Audio, tr.AudioContentType = "Speech", []byte{1, 2, 3}, "audio/l16; rate=16000"
	w := s.PrepareTurn(tr)
	if w == nil {
		t.Fatal("nothing prepared")
	}
	// a second turn of the session, and one of another alias, committed
	// together with it
	tr2 := turn()
	tr2.ConversationLogs, tr2.RequestID, tr2.Timestamp = tr.ConversationLogs, "req-2", tr.Timestamp.Add(time.Second)
	tr3 := turn()
	tr3.BotAlias, tr3.RequestID = "test", "req-3"
	ws := []lexruntime.TurnWrite{w, s.PrepareTurn(tr2), s.PrepareTurn(tr3)}
	for i := 0; i < 2; i++ { // a replayed write queues nothing twice
		if err := s.cfg.DB.Write(context.Background(), func(tx *store.Tx) error { return s.WriteTurns(context.Background(), tx, ws) }); err != nil {
			t.Fatal(err)
		}
	}
	type q struct {
		kind, dest, key, prefix, kms, body string
		docs                               int
	}
	var rows []q
	s.cfg.DB.Read(context.Background(), func(tx *store.Tx) error {
		rs, err := tx.Query(context.Background(), `SELECT q.kind, d.destination, q.object_key, d.prefix, d.kms_key, q.body, q.docs
			FROM convlogs_queue q JOIN convlogs_dests d ON d.group_key = q.group_key ORDER BY q.kind, d.prefix`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r q
			rs.Scan(&r.kind, &r.dest, &r.key, &r.prefix, &r.kms, &r.body, &r.docs)
			rows = append(rows, r)
		}
		return nil
	})
	if len(rows) != 3 || rows[0].kind != "audio" || rows[0].dest != "b" || rows[0].key != "aws/lex/Shop/prod/3/s-1/req-1.pcm" ||
		rows[0].kms != "arn:aws:kms:us-east-1:123456789012:alias/a" || rows[0].body != "AQID" || rows[0].docs != 1 ||
		rows[1].kind != "text" || rows[1].dest != "arn:aws:logs:us-east-1:123456789012:log-group:lex" || rows[1].prefix != "aws/lex/Shop/prod/3/" || rows[1].docs != 2 ||
		rows[2].prefix != "aws/lex/Shop/test/3/" || rows[2].docs != 1 {
		t.Fatalf("queued %+v", rows)
	}
	evs, err := decodeDocs(rows[1].body)
	if err != nil || len(evs) != 2 || !evs[0].Timestamp.Equal(tr.Timestamp) || !evs[1].Timestamp.Equal(tr2.Timestamp) ||
		!strings.Contains(evs[0].Message, `"s3PathForAudio":"b/aws/lex/Shop/prod/3/s-1/req-1.pcm"`) || !strings.Contains(evs[1].Message, `"requestId":"req-2"`) {
		t.Errorf("text row of two turns: %+v %v", evs, err)
	}
	if !strings.HasPrefix(rows[1].body, s2Prefix) {
		t.Errorf("text row body %.20q: not the S2 format", rows[1].body)
	}
	// PostgreSQL's rows: plain lines.
	if evs, err := decodeDocs(encodeDocs([]textDoc{{1700000000123, `{"a":1}`}})); err != nil || len(evs) != 1 || evs[0].Message != `{"a":1}` {
		t.Errorf("plain body: %+v %v", evs, err)
	}
	// Rows queued before the plain format: base64 of the S2-compressed lines.
	legacy := base64.StdEncoding.EncodeToString(s2.Encode(nil, []byte("1700000000123\t{\"a\":1}\n1700000000124\t{\"b\":2}\n")))
	if evs, err := decodeDocs(legacy); err != nil || len(evs) != 2 || evs[0].Timestamp.UnixMilli() != 1700000000123 || evs[1].Message != `{"b":2}` {
		t.Errorf("legacy body: %+v %v", evs, err)
	}
	for _, bad := range []string{"not base64!", rawPrefix + "12\t{}", rawPrefix + "x\t{}\n", rawPrefix + "12{}\n", s2Prefix + "\xff\xff\xff\xff\x7f",
		s2Prefix + string(s2.Encode(nil, []byte("12{}\n")))} {
		if _, err := decodeDocs(bad); err == nil {
			t.Errorf("corrupt body %q decoded", bad)
		}
	}
}

func TestRowID(t *testing.T) {
	for _, ms := range []int64{0, 7, 1764616801123, 12345678901234} {
		if got, want := rowID(ms, "req-1", "text"), fmt.Sprintf("%013d/%s/%s", ms, "req-1", "text"); got != want {
			t.Errorf("rowID(%d) = %q, want %q", ms, got, want)
		}
	}
}

// TestBackoff: a destination's retries double from RetryMin up to
// RetryMax, and start over after a success.
func TestBackoff(t *testing.T) {
	s := newTestService(t, Config{RetryMin: time.Second, RetryMax: 20 * time.Second})
	w := s.Worker()
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var got []time.Duration
	for i := 0; i < 7; i++ {
		got = append(got, w.pause("g", now).Sub(now))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 20, 20}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff %v, want %v seconds", got, want)
		}
	}
	if !w.isPaused("g", now.Add(19*time.Second)) || w.isPaused("g", now.Add(20*time.Second)) || w.isPaused("other", now) {
		t.Error("isPaused")
	}
	w.recovered("g")
	if d := w.pause("g", now).Sub(now); d != time.Second {
		t.Errorf("after a success the backoff starts at %v", d)
	}
}

// jsonMarshal is what Document.Marshal must equal: encoding/json without
// HTML escaping.
func jsonMarshal(t *testing.T, d *Document) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// FuzzDocumentMarshal: the hand-written encoder renders every document as
// encoding/json does (without HTML escaping).
func FuzzDocumentMarshal(f *testing.F) {
	f.Add("buy <2> & {x}", "bob", "How many?", 0.87, true)
	f.Add("\x00\x1f\"\\\u2028\u2029\xff\b\f\n\r\t", "é漢字", "", 1e-9, false)
	f.Add("", "", "", 0.0, false)
	f.Add("a", "b", "c", 1e21, true)
	f.Fuzz(func(t *testing.T, text, slot, resp string, conf float64, card bool) {
		if math.IsNaN(conf) || math.IsInf(conf, 0) {
			return
		}
		tr := turn()
		tr.LogTranscript, tr.BotResponse, tr.NluIntentConfidence = text, &resp, &conf
		tr.LogSlots = map[string]*string{slot: &text, "b" + slot: nil}
		tr.LogAlternativeIntents = []dialog.PredictedIntent{{IntentName: slot, NluIntentConfidence: &dialog.IntentConfidence{Score: conf}}}
		tr.SessionAttributes = map[string]string{text: slot}
		tr.SentimentResponse = &dialog.Sentiment{SentimentLabel: slot}
		if card {
			tr.ResponseCard.GenericAttachments = []dialog.GenericAttachment{{Title: text, ImageURL: resp, Buttons: []dialog.Button{{Text: slot, Value: text}}}, {}}
		}
		d := NewDocument(tr, resp)
		if got, want := string(d.Marshal()), jsonMarshal(t, d); got != want {
			t.Fatalf("Marshal\n got %s\nwant %s", got, want)
		}
	})
}

package convlogs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"

	"lextrail/internal/convlogs"
)

// spoken is one turn of a test conversation and what the client saw.
type spoken struct {
	user, text string
	speech     bool
	// session and request attributes sent with the turn
	attrs, reqAttrs map[string]string
	at              time.Time
	// state is the answer's dialogState
	state     string
	reqID     string
	sessionID string
	// golden names the golden file of the turn's document.
	golden string
}

// converse holds the turns, one second apart on the injected clock, and
// records their request and session IDs.
func (c *clients) converse(bot, alias string, turns []spoken) []spoken {
	c.t.Helper()
	for i := range turns {
		tr := &turns[i]
		c.n.Clock.Advance(time.Second)
		tr.at = c.n.Clock.Now()
		u := c.user(bot, alias, tr.user)
		u.attrs, u.reqAttrs = tr.attrs, tr.reqAttrs
		if tr.speech {
			out := u.speak(tr.text)
			tr.sessionID, tr.state = awsv1.StringValue(out.SessionId), awsv1.StringValue(out.DialogState)
		} else {
			out := u.say(tr.text)
			tr.sessionID, tr.state = awsv1.StringValue(out.SessionId), awsv1.StringValue(out.DialogState)
		}
		tr.reqID = c.lastRequestID()
	}
	return turns
}

// normalize replaces what differs from run to run in a document — the
// turn's request and session IDs, its timestamp, dates relative to it —
// by placeholders, after checking that the document carries the values
// the client saw and the clock gave.
func normalize(t testing.TB, tr spoken, msg string) string {
	t.Helper()
	d := doc(t, msg)
	ts := tr.at.UTC().Format(convlogs.TimestampLayout)
	if d["requestId"] != tr.reqID || d["sessionId"] != tr.sessionID || d["timestamp"] != ts {
		t.Fatalf("%s: document requestId %v sessionId %v timestamp %v, want %s %s %s", tr.golden, d["requestId"], d["sessionId"], d["timestamp"],
			tr.reqID, tr.sessionID, ts)
	}
	msg = strings.ReplaceAll(msg, tr.reqID, "<requestId>")
	msg = strings.ReplaceAll(msg, tr.sessionID, "<sessionId>")
	msg = strings.ReplaceAll(msg, `"timestamp":"`+ts+`"`, `"timestamp":"<timestamp>"`)
	ny, _ := time.LoadLocation("America/New_York")
	local := tr.at.In(ny)
	tuesday := local.AddDate(0, 0, (int(time.Tuesday)-int(local.Weekday())+7)%7) // today, on a Tuesday
	return strings.ReplaceAll(msg, tuesday.Format("2006-01-02"), "<tuesday>")
}

// TestConversationLogs: text and audio logs of an alias with a customer
// role — the settings PutBotAlias/GetBotAlias/GetBotAliases return, the
// documents of a text and a spoken conversation read back with
// GetLogEvents and FilterLogEvents and compared with golden files, the
// audio downloaded from S3 (same bytes, SSE-KMS, not plaintext on disk),
// and the CloudTrail records of the Lex service's role session.
//
// Spoken turns go through PostContent with audio input and a test
// speech recogniser (the audio carries its transcript): the runtime's
// whole audio path runs, only recognition is stubbed.
func TestConversationLogs(t *testing.T) { eachDriver(t, testConversationLogs) }

func testConversationLogs(t *testing.T, db string) {
	cl := newCluster(t, db)
	n := cl.node()
	c := n.clients(t)
	key := c.dests("lex-text", "lex-audio")
	c.deploy(flowersBot("OrderFlowers"))
	role := roleARN("LexConvLogs")
	put := c.mustAlias("OrderFlowers", "prod", "1", logsConfig(role, "lex-text", "lex-audio", key))

	// the settings as returned, with their resourcePrefix
	checkLogs := func(where string, got *lmtypes.ConversationLogsResponse, prefix string) {
		t.Helper()
		if got == nil || aws.ToString(got.IamRoleArn) != role || len(got.LogSettings) != 2 {
			t.Fatalf("%s: conversationLogs %+v", where, got)
		}
		for _, ls := range got.LogSettings {
			if aws.ToString(ls.ResourcePrefix) != prefix {
				t.Errorf("%s: %s resourcePrefix %q, want %q", where, ls.LogType, aws.ToString(ls.ResourcePrefix), prefix)
			}
			switch ls.LogType {
			case lmtypes.LogTypeText:
				if ls.Destination != lmtypes.DestinationCloudwatchLogs || aws.ToString(ls.ResourceArn) != groupARN("lex-text") || ls.KmsKeyArn != nil {
					t.Errorf("%s: TEXT %+v", where, ls)
				}
			case lmtypes.LogTypeAudio:
				if ls.Destination != lmtypes.DestinationS3 || aws.ToString(ls.ResourceArn) != "arn:aws:s3:::lex-audio" || aws.ToString(ls.KmsKeyArn) != key {
					t.Errorf("%s: AUDIO %+v", where, ls)
				}
			}
		}
	}
	checkLogs("PutBotAlias", put.ConversationLogs, "aws/lex/OrderFlowers/prod/1/")
	ga, err := c.lm.GetBotAlias(c.ctx, &lm.GetBotAliasInput{BotName: aws.String("OrderFlowers"), Name: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	checkLogs("GetBotAlias", ga.ConversationLogs, "aws/lex/OrderFlowers/prod/1/")
	gas, err := c.lm.GetBotAliases(c.ctx, &lm.GetBotAliasesInput{BotName: aws.String("OrderFlowers")})
	if err != nil || len(gas.BotAliases) != 1 {
		t.Fatalf("GetBotAliases: %v %v", gas, err)
	}
	checkLogs("GetBotAliases", gas.BotAliases[0].ConversationLogs, "aws/lex/OrderFlowers/prod/1/")

	turns := c.converse("OrderFlowers", "prod", []spoken{
		{user: "user-1", text: "i would like to order flowers", golden: "text-1-order", attrs: map[string]string{"channel": "web"}},
		{user: "user-1", text: "roses", golden: "text-2-roses", reqAttrs: map[string]string{"x-amz-lex:time-zone": "America/New_York", "campaign": "spring"}},
		{user: "user-1", text: "tuesday", golden: "text-3-tuesday"},
		{user: "user-1", text: "10:00 a.m.", golden: "text-4-time"},
		{user: "user-1", text: "yes", golden: "text-5-yes"},
		{user: "user-2", text: "can you sing me a song about <mars> & venus", golden: "text-6-missed"},
		{user: "user-3", text: "i want to order tulips", speech: true, golden: "speech-1-tulips"},
		{user: "user-3", text: "june 15 2030", speech: true, golden: "speech-2-date"},
	})
	evs := c.waitEvents("lex-text", len(turns))
	c.drained("OrderFlowers", "prod")
	const prefix = "aws/lex/OrderFlowers/prod/1/"
	byReq := map[string]string{}
	for i, e := range evs {
		if !strings.HasPrefix(e.stream, prefix) || len(e.stream) <= len(prefix) {
			t.Errorf("stream %q does not start with the resourcePrefix %s", e.stream, prefix)
		}
		tr := turns[i]
		if want := tr.at.UnixMilli(); e.ts != want {
			t.Errorf("%s: event timestamp %d, want the turn's %d", tr.golden, e.ts, want)
		}
		golden(t, tr.golden, normalize(t, tr, e.msg))
		byReq[tr.reqID] = e.msg
	}

	// FilterLogEvents finds the same documents
	for _, f := range []struct {
		pattern string
		want    []int
	}{
		{`{ $.botName = "OrderFlowers" && $.inputDialogMode = "Speech" }`, []int{6, 7}},
		{`{ $.missedUtterance IS TRUE }`, []int{5}},
		{`{ $.slots.FlowerType = "roses" && $.dialogState = "ReadyForFulfillment" }`, []int{4}},
		{`"ElicitSlot" -Speech`, []int{0, 1, 2}},
	} {
		got := c.filter("lex-text", f.pattern)
		if len(got) != len(f.want) {
			t.Errorf("FilterLogEvents %s: %d events, want %d", f.pattern, len(got), len(f.want))
			continue
		}
		for i, w := range f.want {
			if got[i] != evs[w].msg {
				t.Errorf("FilterLogEvents %s: event %d differs from GetLogEvents'", f.pattern, i)
			}
		}
	}

	// the audio: same bytes, under the prefix, SSE-KMS with the key
	for _, tr := range turns[6:] {
		d := doc(t, byReq[tr.reqID])
		path, _ := d["s3PathForAudio"].(string)
		wantKey := prefix + tr.sessionID + "/" + tr.reqID + ".pcm"
		if path != "lex-audio/"+wantKey {
			t.Fatalf("s3PathForAudio %q, want lex-audio/%s", path, wantKey)
		}
		obj, err := c.s3.GetObject(c.ctx, &s3.GetObjectInput{Bucket: aws.String("lex-audio"), Key: aws.String(wantKey)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", wantKey, err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if !bytes.Equal(body, audioOf(tr.text)) {
			t.Errorf("audio %s: %d bytes differ from the %d sent", wantKey, len(body), len(audioOf(tr.text)))
		}
		if obj.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(obj.SSEKMSKeyId) != key {
			t.Errorf("audio %s: SSE %q key %q, want aws:kms %s", wantKey, obj.ServerSideEncryption, aws.ToString(obj.SSEKMSKeyId), key)
		}
		if aws.ToString(obj.ContentType) != "audio/l16; rate=16000; channels=1" {
			t.Errorf("audio content type %q", aws.ToString(obj.ContentType))
		}
	}
	list, err := c.s3.ListObjectsV2(c.ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lex-audio")})
	if err != nil || len(list.Contents) != 2 {
		t.Fatalf("bucket holds %v (%v), want the 2 spoken turns", list, err)
	}
	for _, o := range list.Contents {
		if !strings.HasPrefix(aws.ToString(o.Key), prefix) {
			t.Errorf("audio key %s outside the prefix", aws.ToString(o.Key))
		}
	}
	// at rest the audio is ciphertext: no file holds the sawtooth or the
	// transcript
	sawtooth := audioOf("")[:3200]
	filepath.WalkDir(filepath.Join(n.DataDir, "objects"), func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, sawtooth[:256]) || bytes.Contains(b, []byte("TRANSCRIPT:")) {
			t.Errorf("%s holds the audio in plaintext", p)
		}
		return nil
	})

	// CloudTrail: Lex assumed the role as a service; the stream was created
	// by the role session, invoked by Lex
	lookup := func(name string) []map[string]any {
		out, err := c.ct.LookupEvents(c.ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{
			AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}})
		if err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		for _, e := range out.Events {
			var m map[string]any
			json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &m)
			recs = append(recs, m)
		}
		return recs
	}
	found := false
	for _, r := range lookup("AssumeRole") {
		ui, _ := r["userIdentity"].(map[string]any)
		rp, _ := r["requestParameters"].(map[string]any)
		if ui["type"] == "AWSService" && ui["invokedBy"] == convlogs.LexService && r["sourceIPAddress"] == convlogs.LexService &&
			rp["roleArn"] == role && rp["roleSessionName"] == "lex-conversation-logs" && r["recipientAccountId"] == acct && r["errorCode"] == nil {
			found = true
			if ui["arn"] != nil || ui["accountId"] != nil {
				t.Errorf("service identity carries a user: %v", ui)
			}
		}
	}
	if !found {
		t.Errorf("no AssumeRole event by the Lex service: %v", lookup("AssumeRole"))
	}
	found = false
	for _, r := range lookup("CreateLogStream") {
		ui, _ := r["userIdentity"].(map[string]any)
		arn, _ := ui["arn"].(string)
		if ui["type"] == "AssumedRole" && strings.HasSuffix(arn, ":assumed-role/LexConvLogs/lex-conversation-logs") && ui["invokedBy"] == convlogs.LexService {
			found = true
		}
	}
	if !found {
		t.Errorf("no CreateLogStream event by the role session: %v", lookup("CreateLogStream"))
	}

	// delivery status
	st, err := n.Server.ConvLogs.Status(c.ctx, acct, "us-east-1", "OrderFlowers", "prod")
	if err != nil || len(st) != 2 {
		t.Fatalf("Status %+v %v", st, err)
	}
	for _, s := range st {
		want := int64(len(turns))
		if s.LogType == convlogs.TypeAudio {
			want = 2
		}
		if s.Delivered != want || s.Failed != 0 || s.Dropped != 0 || s.Pending != 0 || s.Failing() {
			t.Errorf("Status %+v", s)
		}
	}

	// a PostContent turn with text input is logged as text, without audio
	out, err := c.rt.PostContent(&rt.PostContentInput{BotName: awsv1.String("OrderFlowers"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("user-5"),
		ContentType: awsv1.String("text/plain; charset=utf-8"), Accept: awsv1.String("text/plain; charset=utf-8"),
		InputStream: strings.NewReader("i want to order lilies")})
	if err != nil {
		t.Fatal(err)
	}
	reqID := c.lastRequestID()
	evs = c.waitEvents("lex-text", len(turns)+1)
	c.drained("OrderFlowers", "prod")
	if d := doc(t, evs[len(evs)-1].msg); d["requestId"] != reqID || d["inputDialogMode"] != "Text" || d["inputTranscript"] != "i want to order lilies" ||
		d["sessionId"] != awsv1.StringValue(out.SessionId) || d["s3PathForAudio"] != nil {
		t.Errorf("PostContent text turn: %s", evs[len(evs)-1].msg)
	}
	if list, _ := c.s3.ListObjectsV2(c.ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lex-audio")}); len(list.Contents) != 2 {
		t.Errorf("a text turn stored audio: %d objects", len(list.Contents))
	}

	// the prefix follows the alias to another version
	moved := c.mustAlias("OrderFlowers", "prod", "$LATEST", logsConfig(role, "lex-text", "lex-audio", key))
	checkLogs("PutBotAlias $LATEST", moved.ConversationLogs, "aws/lex/OrderFlowers/prod/$LATEST/")
	ga, _ = c.lm.GetBotAlias(c.ctx, &lm.GetBotAliasInput{BotName: aws.String("OrderFlowers"), Name: aws.String("prod")})
	checkLogs("GetBotAlias $LATEST", ga.ConversationLogs, "aws/lex/OrderFlowers/prod/$LATEST/")
	c.converse("OrderFlowers", "prod", []spoken{{user: "user-4", text: "order flowers"}})
	evs = c.waitEvents("lex-text", len(turns)+2)
	if last := evs[len(evs)-1]; !strings.HasPrefix(last.stream, "aws/lex/OrderFlowers/prod/$LATEST/") || doc(t, last.msg)["botVersion"] != "$LATEST" {
		t.Errorf("after the move: stream %s, document %s", last.stream, last.msg)
	}
}

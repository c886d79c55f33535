package convlogs_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// loggedTurns returns the request IDs of the text documents in group and
// of the audio objects in bucket (from their keys).
func (c *clients) loggedTurns(group, bucket string) (text, audio []string) {
	c.t.Helper()
	for _, e := range c.events(group) {
		text = append(text, doc(c.t, e.msg)["requestId"].(string))
	}
	p := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			c.t.Fatal(err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			k = k[strings.LastIndexByte(k, '/')+1:]
			audio = append(audio, strings.TrimSuffix(k, ".pcm"))
		}
	}
	sort.Strings(text)
	sort.Strings(audio)
	return text, audio
}

func ids(turns ...spoken) []string {
	var out []string
	for _, t := range turns {
		out = append(out, t.reqID)
	}
	sort.Strings(out)
	return out
}

func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSettingsChangeMidSession: changed log settings apply to new
// sessions only (spec §3.3); turning text off keeps audio, and back; no
// conversationLogs turns logging off.
func TestSettingsChangeMidSession(t *testing.T) { eachDriver(t, testSettingsChange) }

func testSettingsChange(t *testing.T, db string) {
	cl := newCluster(t, db)
	n := cl.node()
	c := n.clients(t)
	key := c.dests("lex-text", "lex-audio")
	c.deploy(flowersBot("OrderFlowers"))
	role := roleARN("LexConvLogs")
	both := logsConfig(role, "lex-text", "lex-audio", key)
	audioOnly := logsConfig(role, "", "lex-audio", key)
	talk := func(user, text string, speech bool) spoken {
		return c.converse("OrderFlowers", "prod", []spoken{{user: user, text: text, speech: speech}})[0]
	}

	c.mustAlias("OrderFlowers", "prod", "1", both)
	a1 := talk("user-a", "i would like to order flowers", false) // session a: text + audio
	a2 := talk("user-a", "roses", true)

	c.mustAlias("OrderFlowers", "prod", "1", audioOnly)  // text off
	a3 := talk("user-a", "tuesday", false)               // a keeps its settings: logged
	b1 := talk("user-b", "i want to order lilies", true) // new session b: audio only
	talk("user-b", "tuesday", false)                     // text turn of b: nothing

	c.mustAlias("OrderFlowers", "prod", "1", both) // and back
	c1 := talk("user-c", "i would like to order flowers", false)
	c2 := talk("user-c", "tulips", true)
	b3 := talk("user-b", "10:00 a.m.", true) // b still audio only

	c.mustAlias("OrderFlowers", "prod", "1", nil)          // logging off
	talk("user-d", "i would like to order flowers", false) // nothing
	talk("user-d", "roses", true)
	a4 := talk("user-a", "10:00 a.m.", true) // a still logs both

	wantText := ids(a1, a2, a3, c1, c2, a4)
	wantAudio := ids(a2, b1, c2, b3, a4)
	c.waitEvents("lex-text", len(wantText))
	c.drained("OrderFlowers", "prod")
	text, audio := c.loggedTurns("lex-text", "lex-audio")
	if !sameIDs(text, wantText) {
		t.Errorf("text logs of turns %v, want %v", text, wantText)
	}
	if !sameIDs(audio, wantAudio) {
		t.Errorf("audio logs of turns %v, want %v", audio, wantAudio)
	}
	// a text document of a session logging audio too names its object;
	// one of a session without audio logs does not
	for _, e := range c.events("lex-text") {
		d := doc(t, e.msg)
		_, has := d["s3PathForAudio"]
		if want := d["inputDialogMode"] == "Speech"; has != want {
			t.Errorf("s3PathForAudio present=%v in %s", has, e.msg)
		}
	}
}

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
)

// The PostText mode: a 50-intent bot (30 sample utterances each, a custom
// slot type and a DATE slot) is imported, built, published and aliased
// ("load"), then every request is a Lex runtime PostText turn of one of
// many users. Each user alternates two turns — an utterance that starts
// an intent with its item ("… thing7", the intent then elicits its DATE
// slot) and "next friday" (fills it: ReadyForFulfillment) — so every turn
// classifies or fills a slot and writes its session and an utterance
// statistic in SQLite.

const (
	loadBot     = "LoadBot"
	loadAlias   = "load"
	loadIntents = 50
	loadUtts    = 30
)

var loadCommon = strings.Fields("i want to please can you the a my for book order get show me need would like some")

// loadWord is intent i's k-th own word: a made-up word, distinct per
// intent, so that the classifier has 50 real classes.
func loadWord(i, k int) string {
	syl := []string{"ba", "ko", "ri", "ten", "mu", "sa", "lo", "ve", "dri", "pel", "nu", "gor", "fi", "ta", "zel"}
	return syl[i%15] + syl[(i/15+k)%15] + syl[(k*7+i)%15] + "o"
}

// loadBotZip is the bot as a LEX export.
func loadBotZip() ([]byte, []string) {
	type obj = map[string]any
	var intents []obj
	var refs []obj
	var starts []string
	for i := 0; i < loadIntents; i++ {
		name := "Intent" + letters(i)
		var utts []string
		for j := 0; j < loadUtts; j++ {
			var ws []string
			for k := 0; k < 3; k++ {
				ws = append(ws, loadCommon[(i+j+k*5)%len(loadCommon)], loadWord(i, (j+k)%12))
			}
			if j%2 == 0 {
				ws = append(ws, "{Item}")
			}
			if j%5 == 0 {
				ws = append(ws, "on", "{When}")
			}
			utts = append(utts, strings.Join(ws, " "))
		}
		starts = append(starts, strings.Replace(utts[2], "{Item}", fmt.Sprintf("thing%d", i%40), 1))
		prompt := func(s string) obj {
			return obj{"maxAttempts": 2, "messages": []obj{{"contentType": "PlainText", "content": s}}}
		}
		intents = append(intents, obj{"name": name, "version": "1", "sampleUtterances": utts,
			"fulfillmentActivity": obj{"type": "ReturnIntent"},
			"slots": []obj{
				{"name": "Item", "slotConstraint": "Required", "slotType": "Items", "slotTypeVersion": "1", "priority": 1, "sampleUtterances": []string{}, "valueElicitationPrompt": prompt("Which item?")},
				{"name": "When", "slotConstraint": "Required", "slotType": "AMAZON.DATE", "priority": 2, "sampleUtterances": []string{}, "valueElicitationPrompt": prompt("For which {Item} date?")},
			}})
		refs = append(refs, obj{"intentName": name, "intentVersion": "1"})
	}
	var vals []obj
	for v := 0; v < 40; v++ {
		vals = append(vals, obj{"value": fmt.Sprintf("item%d", v), "synonyms": []string{fmt.Sprintf("thing%d", v)}})
	}
	doc, _ := json.Marshal(obj{"metadata": obj{"schemaVersion": "1.0", "importType": "LEX", "importFormat": "JSON"},
		"resource": obj{"name": loadBot, "version": "1", "locale": "en-US", "childDirected": false, "idleSessionTTLInSeconds": 600,
			"clarificationPrompt": obj{"maxAttempts": 2, "messages": []obj{{"contentType": "PlainText", "content": "Sorry?"}}},
			"abortStatement":      obj{"messages": []obj{{"contentType": "PlainText", "content": "Bye."}}},
			"intents":             intents,
			"slotTypes":           []obj{{"name": "Items", "version": "1", "enumerationValues": vals, "valueSelectionStrategy": "TOP_RESOLUTION"}}}})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(loadBot + "_Export.json")
	w.Write(doc)
	zw.Close()
	return buf.Bytes(), starts
}

// setupPostText deploys the load bot (import, build, version, alias) and
// returns the intent-starting utterances.
func setupPostText(o Options) ([]string, error) {
	ctx := context.Background()
	c := lm.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(o.Endpoint),
		Credentials: credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: o.AccessKey, SecretAccessKey: o.SecretKey}}})
	zipped, starts := loadBotZip()
	imp, err := c.StartImport(ctx, &lm.StartImportInput{Payload: zipped, ResourceType: lmtypes.ResourceTypeBot, MergeStrategy: lmtypes.MergeStrategyOverwriteLatest})
	if err != nil {
		return nil, fmt.Errorf("StartImport: %w", err)
	}
	wait := func(what string, done func() (bool, error)) error {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			ok, err := done()
			if err != nil || ok {
				return err
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: timed out", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := wait("import", func() (bool, error) {
		g, err := c.GetImport(ctx, &lm.GetImportInput{ImportId: imp.ImportId})
		if err == nil && g.ImportStatus == lmtypes.ImportStatusFailed {
			err = fmt.Errorf("import failed: %v", g.FailureReason)
		}
		return err == nil && g.ImportStatus == lmtypes.ImportStatusComplete, err
	}); err != nil {
		return nil, err
	}
	built := func(version string) func() (bool, error) {
		return func() (bool, error) {
			g, err := c.GetBot(ctx, &lm.GetBotInput{Name: aws.String(loadBot), VersionOrAlias: aws.String(version)})
			if err == nil && (g.Status == lmtypes.StatusFailed || g.Status == lmtypes.StatusNotBuilt) {
				err = fmt.Errorf("bot %s: %s %s", version, g.Status, aws.ToString(g.FailureReason))
			}
			return err == nil && g.Status == lmtypes.StatusReady, err
		}
	}
	if err := wait("build", built("$LATEST")); err != nil {
		return nil, err
	}
	v, err := c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String(loadBot)})
	if err != nil {
		return nil, fmt.Errorf("CreateBotVersion: %w", err)
	}
	if err := wait("version build", built(aws.ToString(v.Version))); err != nil {
		return nil, err
	}
	var checksum *string
	if a, err := c.GetBotAlias(ctx, &lm.GetBotAliasInput{BotName: aws.String(loadBot), Name: aws.String(loadAlias)}); err == nil {
		checksum = a.Checksum
	}
	in := &lm.PutBotAliasInput{BotName: aws.String(loadBot), Name: aws.String(loadAlias), BotVersion: v.Version, Checksum: checksum}
	if o.ConvLogs {
		if in.ConversationLogs, err = setupConvLogs(ctx, o); err != nil {
			return nil, fmt.Errorf("conversation logs: %w", err)
		}
	}
	if _, err := c.PutBotAlias(ctx, in); err != nil {
		return nil, fmt.Errorf("PutBotAlias: %w", err)
	}
	return starts, nil
}

// turnSigner signs PostText requests; a signed (user, text) request is
// replayed for a minute, so that client-side signing takes little of the
// CPU the server is measured on (the server verifies every signature).
type turnSigner struct {
	s     *signer
	mu    sync.Mutex
	cache map[string]signedTurn
}

type signedTurn struct {
	header http.Header
	at     time.Time
}

func (ts *turnSigner) sign(path string, body []byte) (http.Header, error) {
	key := path + "\x00" + string(body)
	ts.mu.Lock()
	st, ok := ts.cache[key]
	ts.mu.Unlock()
	if ok && time.Since(st.at) < time.Minute {
		return st.header, nil
	}
	req, err := http.NewRequest(http.MethodPost, ts.s.opts.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	now := time.Now()
	if err := ts.s.sig.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ts.s.opts.AccessKey, SecretAccessKey: ts.s.opts.SecretKey},
		req, hex.EncodeToString(sum[:]), "lex", "us-east-1", now); err != nil {
		return nil, err
	}
	ts.mu.Lock()
	ts.cache[key] = signedTurn{req.Header, now}
	ts.mu.Unlock()
	return req.Header, nil
}

// turnInput is turn n of user u (conn c): even turns start an intent
// (answered ElicitSlot), odd turns fill its date (ReadyForFulfillment);
// k indexes the text in starts, len(starts) standing for "next friday".
func turnInput(starts []string, c, u, n int) (k int, wantState string) {
	if n%2 == 0 {
		return (c*7 + u + n) % len(starts), `"dialogState":"ElicitSlot"`
	}
	return len(starts), `"dialogState":"ReadyForFulfillment"`
}

// turnBodies are the PostText request bodies of turnInput's texts.
func turnBodies(starts []string) [][]byte {
	var bodies [][]byte
	for _, t := range append(append([]string(nil), starts...), "next friday") {
		b, _ := json.Marshal(map[string]string{"inputText": t})
		bodies = append(bodies, b)
	}
	return bodies
}

// turnPath is the PostText path of user u of conn c.
func turnPath(alias, prefix string, c, u int) (path, user string) {
	if alias == "" {
		alias = loadAlias
	}
	if prefix == "" {
		prefix = "user"
	}
	user = prefix + "-" + strconv.Itoa(c) + "-" + strconv.Itoa(u)
	return "/bot/" + loadBot + "/alias/" + alias + "/user/" + user + "/text", user
}

// postTextTurn sends turn n of user u (conn c) through net/http and the
// SDK signer (-client sdk).
func postTextTurn(client *http.Client, ts *turnSigner, starts []string, alias, prefix string, c, u, n int) error {
	path, user := turnPath(alias, prefix, c, u)
	k, wantState := turnInput(starts, c, u, n)
	text := "next friday"
	if k < len(starts) {
		text = starts[k]
	}
	body, _ := json.Marshal(map[string]string{"inputText": text})
	h, err := ts.sign(path, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, ts.s.opts.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(wantState)) {
		return fmt.Errorf("PostText %q for %s: status %d: %.300s", text, user, resp.StatusCode, b)
	}
	return nil
}

// leanTurn sends the same turn as postTextTurn, signed and written by the
// lean client (-client lean). With empty (-op Empty) the request is the
// same but the empty handler's answer is only checked for status 200 and
// a dialogState.
func leanTurn(lc *leanConn, bodies [][]byte, starts []string, alias, prefix string, c, u, n int, empty bool) error {
	path, user := turnPath(alias, prefix, c, u)
	k, wantState := turnInput(starts, c, u, n)
	if empty {
		wantState = `"dialogState":`
	}
	status, b, err := lc.post(path, "application/json", bodies[k])
	if err != nil {
		return err
	}
	if status != http.StatusOK || !bytes.Contains(b, []byte(wantState)) {
		return fmt.Errorf("PostText %s for %s: status %d: %.300s", bodies[k], user, status, b)
	}
	return nil
}

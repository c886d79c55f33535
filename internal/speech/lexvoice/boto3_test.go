package lexvoice_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"lextrail/internal/speech/audio"
	"lextrail/internal/speech/speechtest"
	"lextrail/internal/testenv"
)

// botoSpeech posts each request of a JSON list (audio as base64) with
// boto3's lex-runtime post_content and prints the answers as JSON.
const botoSpeech = `
import base64, json, sys
import boto3, botocore.config, botocore.exceptions
c = boto3.client("lex-runtime", endpoint_url=sys.argv[1], region_name="us-east-1",
                 config=botocore.config.Config(retries={"max_attempts": 0}))
out = []
for req in json.load(sys.stdin):
    try:
        r = c.post_content(botName=req["bot"], botAlias="$LATEST", userId=req["user"], contentType=req["contentType"],
                           accept=req["accept"], inputStream=base64.b64decode(req["audio"]))
        audio = r["audioStream"].read()
        out.append({"dialogState": r.get("dialogState"), "intentName": r.get("intentName"), "slotToElicit": r.get("slotToElicit"),
                    "slots": r.get("slots"), "inputTranscript": r.get("inputTranscript"), "contentType": r.get("contentType"),
                    "message": r.get("message"), "encodedMessage": r.get("encodedMessage"), "audio": base64.b64encode(audio).decode()})
    except botocore.exceptions.ClientError as e:
        out.append({"error": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]})
print(json.dumps(out))
`

// TestPostContentBoto3: a spoken conversation through boto3's
// post_content (where boto3 is installed): transcripts, state and MP3
// replies as botocore decodes them.
func TestPostContentBoto3(t *testing.T) {
	requireSpeech(t)
	py := testenv.LookTool(t, "python3", "LEXTRAIL_REQUIRE_BOTO3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		testenv.LookTool(t, "python3-with-boto3", "LEXTRAIL_REQUIRE_BOTO3") // skips (or fails when required)
	}
	v := newEnv(t, nil)
	v.deploy(orderFlowers)
	type req struct {
		Bot         string `json:"bot"`
		User        string `json:"user"`
		ContentType string `json:"contentType"`
		Accept      string `json:"accept"`
		Audio       string `json:"audio"`
	}
	turns := []struct{ voice, say, state, slot string }{
		{"en-us", "I would like to order some flowers", "ElicitSlot", "FlowerType"},
		{"en-us+f2", "roses please", "ElicitSlot", "PickupDate"},
		{"en-us+m3", "tomorrow", "ElicitSlot", "PickupTime"},
	}
	var reqs []req
	for _, tr := range turns {
		pcm := speechtest.Say(t, tr.voice, tr.say)
		reqs = append(reqs, req{"OrderFlowersVoice", "boto", "audio/l16; rate=16000; channels=1", "audio/mpeg", base64.StdEncoding.EncodeToString(audio.PCMBytes(pcm))})
	}
	reqs = append(reqs, req{"OrderFlowersVoice", "boto2", "audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false", "audio/mpeg", base64.StdEncoding.EncodeToString(make([]byte, 16000))})
	in, _ := json.Marshal(reqs)
	cmd := exec.Command(py, "-c", botoSpeech, v.e.URL)
	cmd.Env = v.e.CLIEnv(t)
	cmd.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v: %s", err, stderr.String())
	}
	var answers []map[string]any
	if err := json.Unmarshal(outb, &answers); err != nil {
		t.Fatalf("%v: %s", err, outb)
	}
	if len(answers) != len(reqs) {
		t.Fatalf("%d answers", len(answers))
	}
	for i, tr := range turns {
		a := answers[i]
		ctx := fmt.Sprintf("%s %q (heard %v)", tr.voice, tr.say, a["inputTranscript"])
		if a["dialogState"] != tr.state || a["slotToElicit"] != tr.slot || a["contentType"] != "audio/mpeg" {
			t.Errorf("%s: %v", ctx, a)
			continue
		}
		if tr, _ := a["inputTranscript"].(string); tr == "" {
			t.Errorf("%s: no transcript", ctx)
		}
		body, _ := base64.StdEncoding.DecodeString(a["audio"].(string))
		msg, _ := base64.StdEncoding.DecodeString(fmt.Sprint(a["encodedMessage"]))
		checkReply(t, ctx, "audio/mpeg", "audio/mpeg", body, string(msg))
	}
	if a := answers[3]; a["error"] != "UnsupportedMediaTypeException" || a["status"] != float64(415) {
		t.Errorf("8 kHz through boto3: %v", a)
	}
	if s, _ := answers[1]["slots"].(map[string]any); s["FlowerType"] != "roses" {
		t.Errorf("slots %v", answers[1]["slots"])
	}
}

// TestPostContentCLI: the AWS CLI's lex-runtime post-content with a WAV
// file espeak-ng wrote (the README's example) and an MP3 reply file.
func TestPostContentCLI(t *testing.T) {
	requireSpeech(t)
	cli := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	v := newEnv(t, nil)
	v.deploy(orderFlowers)
	dir := t.TempDir()
	wav := dir + "/q.wav"
	if err := exec.Command("espeak-ng", "-v", "en-us", "-w", wav, "i would like to order some flowers").Run(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cli, "lex-runtime", "post-content", "--endpoint-url", v.e.URL, "--bot-name", "OrderFlowersVoice", "--bot-alias", "$LATEST",
		"--user-id", "cli", "--content-type", "audio/l16; rate=16000; channels=1", "--accept", "audio/mpeg", "--input-stream", wav, dir+"/reply.mp3")
	cmd.Env = v.e.CLIEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws: %v: %s", err, out)
	}
	var r map[string]any
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r["dialogState"] != "ElicitSlot" || r["slotToElicit"] != "FlowerType" || r["inputTranscript"] != "i would like to order some flowers" || r["contentType"] != "audio/mpeg" {
		t.Errorf("answer %v", r)
	}
	body, err := os.ReadFile(dir + "/reply.mp3")
	if err != nil {
		t.Fatal(err)
	}
	checkReply(t, "cli", "audio/mpeg", "audio/mpeg", body, "What type of flowers would you like to order?")
}

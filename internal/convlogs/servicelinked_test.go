package convlogs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"lextrail/internal/testenv"
)

// TestServiceLinkedRole: text and audio logs written with the Lex
// service-linked role created as the developer guide says
// (CreateServiceLinkedRole --aws-service-name lex.amazonaws.com
// --custom-suffix …). Its permissions are the ones lextrail's built-in
// service-linked policy gives it (iam.ServiceLinkedPolicy): log streams and
// objects under aws/lex/, data keys through S3 — nothing to attach.
func TestServiceLinkedRole(t *testing.T) { eachDriver(t, testServiceLinkedRole) }

func testServiceLinkedRole(t *testing.T, db string) {
	cl := newCluster(t, db)
	n := cl.node()
	c := n.clients(t)
	if _, err := c.logs.CreateLogGroup(c.ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("slr-text")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s3.CreateBucket(c.ctx, &s3.CreateBucketInput{Bucket: aws.String("slr-audio")}); err != nil {
		t.Fatal(err)
	}
	k, err := c.kms.CreateKey(c.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	key := aws.ToString(k.KeyMetadata.Arn)
	slr, err := c.iam.CreateServiceLinkedRole(c.ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("lex.amazonaws.com"), CustomSuffix: aws.String("convlogs")})
	if err != nil {
		t.Fatal(err)
	}
	role := aws.ToString(slr.Role.Arn)
	if role != "arn:aws:iam::"+acct+":role/aws-service-role/lex.amazonaws.com/AWSServiceRoleForLexBots_convlogs" {
		t.Fatalf("service-linked role %s", role)
	}
	c.deploy(flowersBot("OrderFlowers"))
	c.mustAlias("OrderFlowers", "prod", "1", logsConfig(role, "slr-text", "slr-audio", key))
	turns := c.converse("OrderFlowers", "prod", []spoken{{user: "user-1", text: "i would like to order flowers"}, {user: "user-1", text: "roses", speech: true}})
	evs := c.waitEvents("slr-text", 2)
	c.drained("OrderFlowers", "prod")
	for i, e := range evs {
		if d := doc(t, e.msg); d["requestId"] != turns[i].reqID || !strings.HasPrefix(e.stream, "aws/lex/OrderFlowers/prod/1/") {
			t.Errorf("event %d: %s in %s", i, e.msg, e.stream)
		}
	}
	d := doc(t, evs[1].msg)
	path := d["s3PathForAudio"].(string)
	obj, err := c.s3.GetObject(c.ctx, &s3.GetObjectInput{Bucket: aws.String("slr-audio"), Key: aws.String(strings.TrimPrefix(path, "slr-audio/"))})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(body, audioOf("roses")) || obj.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(obj.SSEKMSKeyId) != key {
		t.Errorf("audio %s: %d bytes, SSE %s %s", path, len(body), obj.ServerSideEncryption, aws.ToString(obj.SSEKMSKeyId))
	}
	// the role's permissions are Lex's to define: they cannot be changed
	_, err = c.iam.PutRolePolicy(c.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("AWSServiceRoleForLexBots_convlogs"), PolicyName: aws.String("more"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	if err == nil || !strings.Contains(err.Error(), "UnmodifiableEntity") {
		t.Errorf("PutRolePolicy on the service-linked role: %v", err)
	}
}

// botoConvLogs is the boto3 lane: it creates the service-linked role, the
// log group and the bucket, configures the alias (and has one bad
// configuration refused), talks through lex-runtime, and reads the logs
// back with filter_log_events, get_log_events and get_object. It prints
// one JSON object.
const botoConvLogs = `
import base64, json, sys, time
import boto3, botocore.config, botocore.exceptions
ep, audio = sys.argv[1], base64.b64decode(sys.argv[2])
cfg = botocore.config.Config(retries={"max_attempts": 0})
mk = lambda s: boto3.client(s, endpoint_url=ep, region_name="us-east-1", config=cfg)
iam, logs, s3, lexm, lexr, sts = mk("iam"), mk("logs"), mk("s3"), mk("lex-models"), mk("lex-runtime"), mk("sts")
acct = sts.get_caller_identity()["Account"]
role = iam.create_service_linked_role(AWSServiceName="lex.amazonaws.com", CustomSuffix="boto")["Role"]["Arn"]
logs.create_log_group(logGroupName="boto-text")
s3.create_bucket(Bucket="boto-audio")
group = "arn:aws:logs:us-east-1:%s:log-group:boto-text" % acct
out = {"role": role}
try:
    lexm.put_bot_alias(botName="OrderFlowers", name="boto", botVersion="1", conversationLogs={"iamRoleArn": role,
        "logSettings": [{"logType": "TEXT", "destination": "S3", "resourceArn": "arn:aws:s3:::boto-audio"}]})
except botocore.exceptions.ClientError as e:
    out["refused"] = {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                      "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
alias = lexm.put_bot_alias(botName="OrderFlowers", name="boto", botVersion="1", conversationLogs={"iamRoleArn": role,
    "logSettings": [{"logType": "TEXT", "destination": "CLOUDWATCH_LOGS", "resourceArn": group},
                    {"logType": "AUDIO", "destination": "S3", "resourceArn": "arn:aws:s3:::boto-audio"}]})
out["prefixes"] = [ls["resourcePrefix"] for ls in alias["conversationLogs"]["logSettings"]]
t1 = lexr.post_text(botName="OrderFlowers", botAlias="boto", userId="boto-user", inputText="i would like to order flowers")
t2 = lexr.post_content(botName="OrderFlowers", botAlias="boto", userId="boto-user", contentType="audio/l16; rate=16000; channels=1",
                       accept="text/plain; charset=utf-8", inputStream=audio)
out["requestIds"] = [t1["ResponseMetadata"]["RequestId"], t2["ResponseMetadata"]["RequestId"]]
out["slots"] = t2["slots"]
for i in range(1000):
    ev = logs.filter_log_events(logGroupName="boto-text", filterPattern='{ $.botAlias = "boto" }')["events"]
    objs = s3.list_objects_v2(Bucket="boto-audio").get("Contents", [])
    if len(ev) >= 2 and objs:
        break
    time.sleep(0.02)
out["filtered"] = [e["message"] for e in ev]
stream = logs.describe_log_streams(logGroupName="boto-text")["logStreams"][0]["logStreamName"]
out["stream"] = stream
out["events"] = [e["message"] for e in logs.get_log_events(logGroupName="boto-text", logStreamName=stream, startFromHead=True)["events"]]
o = s3.get_object(Bucket="boto-audio", Key=objs[0]["Key"])
out["audioKey"], out["audio"] = objs[0]["Key"], base64.b64encode(o["Body"].read()).decode()
print(json.dumps(out))
`

// TestBoto3ConversationLogs is the boto3 lane of TestServiceLinkedRole.
func TestBoto3ConversationLogs(t *testing.T) {
	py := testenv.LookTool(t, "python3", "LEXTRAIL_REQUIRE_BOTO3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		testenv.LookTool(t, "python3-with-boto3", "LEXTRAIL_REQUIRE_BOTO3")
	}
	cl := newCluster(t, "")
	n := cl.node()
	c := n.clients(t)
	c.deploy(flowersBot("OrderFlowers"))
	audio := audioOf("roses please")
	cmd := exec.Command(py, "-c", botoConvLogs, n.URL, base64.StdEncoding.EncodeToString(audio))
	cmd.Env = n.CLIEnv(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, stderr.String())
	}
	var out struct {
		Role, Stream, AudioKey, Audio string
		Refused                       struct {
			Code, Message string
			Status        int
		}
		Prefixes, RequestIds, Filtered, Events []string
		Slots                                  map[string]any
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if !strings.HasSuffix(out.Role, ":role/aws-service-role/lex.amazonaws.com/AWSServiceRoleForLexBots_boto") {
		t.Errorf("role %s", out.Role)
	}
	if out.Refused.Code != "BadRequestException" || out.Refused.Status != 400 || !strings.Contains(out.Refused.Message, "TEXT log setting must be CLOUDWATCH_LOGS") {
		t.Errorf("refused %+v", out.Refused)
	}
	const prefix = "aws/lex/OrderFlowers/boto/1/"
	if len(out.Prefixes) != 2 || out.Prefixes[0] != prefix || out.Prefixes[1] != prefix {
		t.Errorf("prefixes %v", out.Prefixes)
	}
	if out.Slots["FlowerType"] != "roses" {
		t.Errorf("spoken turn's slots %v", out.Slots)
	}
	if len(out.Filtered) != 2 || len(out.Events) != 2 || !strings.HasPrefix(out.Stream, prefix) {
		t.Fatalf("filtered %v events %v in %s", out.Filtered, out.Events, out.Stream)
	}
	for i, msg := range out.Events {
		d := doc(t, msg)
		mode := []string{"Text", "Speech"}[i]
		if msg != out.Filtered[i] || d["requestId"] != out.RequestIds[i] || d["inputDialogMode"] != mode || d["botAlias"] != "boto" {
			t.Errorf("event %d: %s", i, msg)
		}
	}
	if d := doc(t, out.Events[1]); d["inputTranscript"] != "roses please" || d["s3PathForAudio"] != "boto-audio/"+out.AudioKey {
		t.Errorf("spoken turn's document %s (object %s)", out.Events[1], out.AudioKey)
	}
	if got, _ := base64.StdEncoding.DecodeString(out.Audio); !bytes.Equal(got, audio) || !strings.HasPrefix(out.AudioKey, prefix) {
		t.Errorf("audio object %s: %d bytes", out.AudioKey, len(got))
	}
}

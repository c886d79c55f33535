package logs_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"lextrail/internal/services/logs"
	"lextrail/internal/store"
)

// logsKeyPolicy is AWS's documented key policy for CloudWatch Logs: the
// account administers the key; the logs service principal may use it for
// this account's log groups.
const logsKeyPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
 {"Sid":"CloudWatch Logs","Effect":"Allow","Principal":{"Service":"logs.us-east-1.amazonaws.com"},
  "Action":["kms:Encrypt*","kms:Decrypt*","kms:ReEncrypt*","kms:GenerateDataKey*","kms:Describe*"],"Resource":"*",
  "Condition":{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:us-east-1:123456789012:log-group:*"}}}]}`

// TestServerKMS: the server's own KMS encrypts log data at rest when the
// key policy lets the CloudWatch Logs service principal use the key, and
// refuses (InvalidParameterException) when it does not; a disabled key
// makes the data unreadable.
func TestServerKMS(t *testing.T) { logs.EachDriver(t, testServerKMS) }

func testServerKMS(t *testing.T, drv logs.TestDriver) {
	f := newFixture(t, drv)
	kc := kms.NewFromConfig(f.env.Config())
	withLogs := must(kc.CreateKey(f.ctx, &kms.CreateKeyInput{Policy: aws.String(logsKeyPolicy)})).ok(t)
	plain := must(kc.CreateKey(f.ctx, &kms.CreateKeyInput{})).ok(t) // default key policy: the account only
	okARN, denyARN := aws.ToString(withLogs.KeyMetadata.Arn), aws.ToString(plain.KeyMetadata.Arn)

	_, err := f.c.CreateLogGroup(f.ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("denied"), KmsKeyId: aws.String(denyARN)})
	wantCode(t, err, "InvalidParameterException")
	if !strings.Contains(message(err), "logs.us-east-1.amazonaws.com") {
		t.Fatalf("the refusal should name the service principal: %q", message(err))
	}
	if dg := must(f.c.DescribeLogGroups(f.ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("denied")})).ok(t); len(dg.LogGroups) != 0 {
		t.Fatal("a refused CreateLogGroup left a group behind")
	}
	must(f.c.CreateLogGroup(f.ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("enc"), KmsKeyId: aws.String(okARN)})).ok(t)
	f.stream("enc", "s")
	const marker = "CARD-4111111111111111"
	f.put("enc", "s", f.ev(-time.Minute, `{"inputTranscript":"`+marker+`"}`))
	err = f.env.Server.DB.Read(f.ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(f.ctx, `SELECT data, bloom FROM logs_blocks`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d, b []byte
			if err := rows.Scan(&d, &b); err != nil {
				return err
			}
			if bytes.Contains(d, []byte(marker)) || bytes.Contains(d, []byte("inputTranscript")) {
				t.Error("plaintext at rest")
			}
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT COUNT(*) FROM logs_blocks WHERE flags / 2 % 2 = 0`); n != 0 {
		t.Fatalf("%d blocks of an encrypted group are not flagged encrypted", n)
	}
	fe := must(f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("enc"), FilterPattern: aws.String(`{ $.inputTranscript = "CARD-*" }`)})).ok(t)
	if len(fe.Events) != 1 || !strings.Contains(aws.ToString(fe.Events[0].Message), marker) {
		t.Fatalf("FilterLogEvents %+v", fe.Events)
	}
	must(kc.DisableKey(f.ctx, &kms.DisableKeyInput{KeyId: withLogs.KeyMetadata.KeyId})).ok(t)
	f.env.Clock.Advance(6 * time.Minute) // past the data-key cache
	_, err = f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("enc"), LogStreamName: aws.String("s")})
	wantCode(t, err, "InvalidParameterException")
	_, err = f.c.AssociateKmsKey(f.ctx, &cwl.AssociateKmsKeyInput{LogGroupName: aws.String("enc"), KmsKeyId: aws.String(okARN)})
	wantCode(t, err, "InvalidParameterException")
	must(kc.EnableKey(f.ctx, &kms.EnableKeyInput{KeyId: withLogs.KeyMetadata.KeyId})).ok(t)
	if ge := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("enc"), LogStreamName: aws.String("s")})).ok(t); len(ge.Events) != 1 {
		t.Fatalf("after enabling again: %+v", ge.Events)
	}
}

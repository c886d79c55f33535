package logs_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"lextrail/internal/awserr"
	"lextrail/internal/services/logs"
	"lextrail/internal/store"
)

// testKeys is an in-test KMS: AES-256-GCM master keys by ARN, each of one
// account, that can be disabled; the encryption context is bound as AAD.
type testKeys struct {
	mu       sync.Mutex
	keys     map[string]*testKey
	contexts []map[string]string
	decrypts int
}

type testKey struct {
	account  string
	aead     cipher.AEAD
	disabled bool
}

func newTestKeys() *testKeys { return &testKeys{keys: map[string]*testKey{}} }

func (k *testKeys) create(account, arn string) {
	raw := make([]byte, 32)
	rand.Read(raw)
	b, _ := aes.NewCipher(raw)
	a, _ := cipher.NewGCM(b)
	k.mu.Lock()
	k.keys[arn] = &testKey{account: account, aead: a}
	k.mu.Unlock()
}

func (k *testKeys) setDisabled(arn string, d bool) {
	k.mu.Lock()
	k.keys[arn].disabled = d
	k.mu.Unlock()
}

func aad(ctx map[string]string) []byte {
	var keys []string
	for key := range ctx {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, key := range keys {
		b.WriteString(key + "=" + ctx[key] + "\n")
	}
	return b.Bytes()
}

func (k *testKeys) key(account, arn string) (*testKey, error) {
	tk := k.keys[arn]
	if tk == nil || tk.account != account {
		return nil, awserr.New(400, "NotFoundException", "Key '%s' does not exist", arn)
	}
	if tk.disabled {
		return nil, awserr.New(400, "DisabledException", "%s is disabled.", arn)
	}
	return tk, nil
}

func (k *testKeys) GenerateDataKey(_ context.Context, _ *store.Tx, account, region, arn string, ec map[string]string) ([]byte, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tk, err := k.key(account, arn)
	if err != nil {
		return nil, nil, err
	}
	if !strings.Contains(arn, ":"+region+":") {
		return nil, nil, awserr.New(400, "NotFoundException", "Key '%s' is not in %s", arn, region)
	}
	k.contexts = append(k.contexts, ec)
	plain := make([]byte, 32)
	rand.Read(plain)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	return plain, tk.aead.Seal(nonce, nonce, plain, aad(ec)), nil
}

func (k *testKeys) Decrypt(_ context.Context, _ *store.Tx, account, region, arn string, ct []byte, ec map[string]string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tk, err := k.key(account, arn)
	if err != nil {
		return nil, err
	}
	k.decrypts++
	if len(ct) < 12 {
		return nil, awserr.New(400, "InvalidCiphertextException", "bad ciphertext")
	}
	out, err := tk.aead.Open(nil, ct[:12], ct[12:], aad(ec))
	if err != nil {
		return nil, awserr.New(400, "InvalidCiphertextException", "bad ciphertext")
	}
	return out, nil
}

// TestKMS: log data encrypted at rest under a KMS key, readable through
// every read path, the association's lifecycle, and KMS refusals.
func TestKMS(t *testing.T) { logs.EachDriver(t, testKMS) }

func testKMS(t *testing.T, drv logs.TestDriver) {
	keys := newTestKeys()
	f := newFixtureWith(t, drv, func(c *logs.Config) { c.Keys = keys })
	const key1 = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	const key2 = "arn:aws:kms:us-east-1:123456789012:key/66666666-2222-3333-4444-555555555555"
	const other = "arn:aws:kms:us-east-1:999999999999:key/77777777-2222-3333-4444-555555555555"
	keys.create("123456789012", key1)
	keys.create("123456789012", key2)
	keys.create("999999999999", other)

	must(f.c.CreateLogGroup(f.ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("secret"), KmsKeyId: aws.String(key1)})).ok(t)
	dg := must(f.c.DescribeLogGroups(f.ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("secret")})).ok(t)
	if aws.ToString(dg.LogGroups[0].KmsKeyId) != key1 {
		t.Fatalf("kmsKeyId %v", dg.LogGroups[0].KmsKeyId)
	}
	if len(keys.contexts) != 1 || keys.contexts[0][logs.EncryptionContextKey] != "arn:aws:logs:us-east-1:123456789012:log-group:secret" {
		t.Fatalf("encryption context %v", keys.contexts)
	}
	f.stream("secret", "s")
	const marker = "PLAINTEXT-MARKER-4f3a"
	f.put("secret", "s", f.ev(-2*time.Minute, `{"inputTranscript":"my card is `+marker+`","missedUtterance":true}`), f.ev(-time.Minute, "second "+marker))

	// Nothing on disk holds the plaintext (data or Bloom filter).
	atRest := func() [][]byte {
		var out [][]byte
		err := f.env.Server.DB.Read(f.ctx, func(tx *store.Tx) error {
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
				out = append(out, d, b)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, b := range atRest() {
		if bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte("second")) {
			t.Fatal("plaintext found at rest in an encrypted group")
		}
	}
	// Every read path decrypts.
	ge := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("secret"), LogStreamName: aws.String("s")})).ok(t)
	if len(ge.Events) != 2 || !strings.Contains(aws.ToString(ge.Events[1].Message), marker) {
		t.Fatalf("GetLogEvents %+v", ge.Events)
	}
	fe := must(f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("secret"), FilterPattern: aws.String(`{ $.missedUtterance IS TRUE }`)})).ok(t)
	if len(fe.Events) != 1 {
		t.Fatalf("FilterLogEvents %+v", fe.Events)
	}
	fe = must(f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("secret"), FilterPattern: aws.String(`NOWHERE`)})).ok(t)
	if len(fe.Events) != 0 {
		t.Fatalf("FilterLogEvents NOWHERE %+v", fe.Events)
	}
	sq := must(f.c.StartQuery(f.ctx, &cwl.StartQueryInput{LogGroupName: aws.String("secret"), StartTime: aws.Int64(f.now.Add(-time.Hour).Unix()), EndTime: aws.Int64(f.now.Unix()),
		QueryString: aws.String(`fields inputTranscript | filter missedUtterance = 1`)})).ok(t)
	if res := waitQuery(t, f, aws.ToString(sq.QueryId)); renderResults(res.Results) != "inputTranscript=my card is "+marker {
		t.Fatalf("query on an encrypted group: %s %s", res.Status, renderResults(res.Results))
	}

	// A disabled key makes the data unreadable once the cached data key
	// expires (Config.KeyCacheTTL, 5 minutes), and readable again after.
	keys.setDisabled(key1, true)
	f.env.Clock.Advance(6 * time.Minute)
	_, err := f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("secret"), LogStreamName: aws.String("s")})
	wantCode(t, err, "InvalidParameterException")
	if !strings.Contains(message(err), "disabled") {
		t.Fatalf("message %q", message(err))
	}
	_, err = f.c.PutLogEvents(f.ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("secret"), LogStreamName: aws.String("s"), LogEvents: []types.InputLogEvent{f.ev(0, "x")}})
	wantCode(t, err, "InvalidParameterException")
	keys.setDisabled(key1, false)
	must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("secret"), LogStreamName: aws.String("s")})).ok(t)

	// Associating refuses unknown, disabled, other accounts' and alias
	// keys (AWS: InvalidParameterException).
	f.group("plain")
	f.stream("plain", "s")
	f.put("plain", "s", f.ev(-time.Minute, "before "+marker))
	keys.setDisabled(key2, true)
	for _, bad := range []string{
		"arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
		key2, other, "arn:aws:kms:us-east-1:123456789012:alias/logs", "not-an-arn",
		"arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
	} {
		_, err := f.c.AssociateKmsKey(f.ctx, &cwl.AssociateKmsKeyInput{LogGroupName: aws.String("plain"), KmsKeyId: aws.String(bad)})
		wantCode(t, err, "InvalidParameterException")
	}
	keys.setDisabled(key2, false)
	must(f.c.AssociateKmsKey(f.ctx, &cwl.AssociateKmsKeyInput{LogGroupName: aws.String("plain"), KmsKeyId: aws.String(key2)})).ok(t)
	f.put("plain", "s", f.ev(0, "after "+marker))
	must(f.c.DisassociateKmsKey(f.ctx, &cwl.DisassociateKmsKeyInput{LogGroupName: aws.String("plain")})).ok(t)
	f.put("plain", "s", f.ev(time.Second, "again "+marker))
	ge = must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("plain"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})).ok(t)
	if msgs(ge.Events) != "before "+marker+",after "+marker+",again "+marker {
		t.Fatalf("mixed plain and encrypted blocks: %s", msgs(ge.Events))
	}
	// Exactly one block of "plain" is ciphertext: the one written while
	// the key was associated.
	plainBlocks := 0
	for _, b := range atRest() {
		if bytes.Contains(b, []byte(marker)) {
			plainBlocks++
		}
	}
	if plainBlocks != 2 {
		t.Fatalf("%d plaintext blocks, want 2 (before and again)", plainBlocks)
	}
	dg = must(f.c.DescribeLogGroups(f.ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("plain")})).ok(t)
	if dg.LogGroups[0].KmsKeyId != nil {
		t.Fatalf("kmsKeyId after disassociation: %v", aws.ToString(dg.LogGroups[0].KmsKeyId))
	}
}

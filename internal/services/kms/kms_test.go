package kms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/awserr"
	kmssvc "lextrail/internal/services/kms"
	"lextrail/internal/store/pgtest"
	"lextrail/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// drivers are the databases the SDK flows run on ("" is SQLite).
var drivers = []struct {
	name string
	url  func(testing.TB) string
}{
	{"sqlite", func(testing.TB) string { return "" }},
	{"postgres", pgtest.Start},
}

func eachDriver(t *testing.T, fn func(t *testing.T, env *testenv.Env)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			fn(t, testenv.New(t, testenv.Options{DatabaseURL: d.url(t)}))
		})
	}
}

func client(env *testenv.Env, creds ...aws.Credentials) *kms.Client {
	return kms.NewFromConfig(env.Config(creds...))
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	var le *awserr.Error
	if errors.As(err, &le) {
		return le.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func newKey(t testing.TB, c *kms.Client, in *kms.CreateKeyInput) *types.KeyMetadata {
	t.Helper()
	if in == nil {
		in = &kms.CreateKeyInput{}
	}
	out, err := c.CreateKey(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata
}

// newUser creates an IAM user with inline policies and returns its keys.
func newUser(t *testing.T, env *testenv.Env, name string, policies ...string) aws.Credentials {
	t.Helper()
	c := iam.NewFromConfig(env.Config())
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	for i, p := range policies {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name),
			PolicyName: aws.String("p" + string(rune('0'+i))), PolicyDocument: aws.String(p)}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey}
}

func TestKeyLifecycle(t *testing.T) {
	eachDriver(t, func(t *testing.T, env *testenv.Env) {
		c := client(env)
		k := newKey(t, c, &kms.CreateKeyInput{Description: aws.String("trail logs"),
			Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("audit")}}})
		arn := "arn:aws:kms:us-east-1:" + env.AccountID + ":key/" + *k.KeyId
		if *k.Arn != arn || *k.AWSAccountId != env.AccountID || !k.Enabled || k.KeyState != types.KeyStateEnabled ||
			k.KeyUsage != types.KeyUsageTypeEncryptDecrypt || k.KeySpec != types.KeySpecSymmetricDefault ||
			k.KeyManager != types.KeyManagerTypeCustomer || k.Origin != types.OriginTypeAwsKms || *k.Description != "trail logs" ||
			len(k.EncryptionAlgorithms) != 1 || k.EncryptionAlgorithms[0] != types.EncryptionAlgorithmSpecSymmetricDefault || k.CreationDate == nil {
			t.Fatalf("created %+v", k)
		}

		// Aliases: rules, then every way of naming the key.
		for _, bad := range []struct{ name, code string }{
			{"logs", "ValidationException"},
			{"alias/aws/logs", "NotAuthorizedException"},
			{"alias/bad name", "ValidationException"},
		} {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(bad.name), TargetKeyId: k.KeyId})
			if code(err) != bad.code {
				t.Errorf("alias %q: %v, want %s", bad.name, err, bad.code)
			}
		}
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/trail"), TargetKeyId: k.Arn}); err != nil {
			t.Fatal(err)
		}
		_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/trail"), TargetKeyId: k.KeyId})
		if code(err) != "AlreadyExistsException" {
			t.Fatalf("duplicate alias: %v", err)
		}
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/x"), TargetKeyId: aws.String("alias/trail")}); code(err) != "ValidationException" {
			t.Fatalf("alias to alias: %v", err)
		}
		aliasARN := "arn:aws:kms:us-east-1:" + env.AccountID + ":alias/trail"
		for _, id := range []string{*k.KeyId, arn, "alias/trail", aliasARN} {
			d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil || *d.KeyMetadata.Arn != arn {
				t.Fatalf("describe %s: %+v %v", id, d, err)
			}
		}
		for _, miss := range []struct{ id, msg string }{
			{"alias/nope", "Alias " + "arn:aws:kms:us-east-1:" + env.AccountID + ":alias/nope is not found."},
			{"11111111-2222-3333-4444-555555555555", "Key 'arn:aws:kms:us-east-1:" + env.AccountID + ":key/11111111-2222-3333-4444-555555555555' does not exist"},
			{"not-a-key", "Invalid keyId 'not-a-key'"},
		} {
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(miss.id)})
			if code(err) != "NotFoundException" || message(err) != miss.msg {
				t.Errorf("describe %s: %v", miss.id, err)
			}
		}
		tags, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String("alias/trail")})
		if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].TagKey != "team" {
			t.Fatalf("tags %+v %v", tags, err)
		}
		pol, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId})
		if err != nil || !strings.Contains(*pol.Policy, `"AWS" : "arn:aws:iam::`+env.AccountID+`:root"`) || !strings.Contains(*pol.Policy, `"kms:*"`) {
			t.Fatalf("default policy %+v %v", pol, err)
		}

		// ListKeys pages with Limit and Marker.
		want := map[string]bool{*k.KeyId: true}
		for range 4 {
			want[*newKey(t, c, nil).KeyId] = true
		}
		got := map[string]bool{}
		var marker *string
		pages := 0
		for {
			out, err := c.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(2), Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, e := range out.Keys {
				if got[*e.KeyId] || *e.KeyArn != "arn:aws:kms:us-east-1:"+env.AccountID+":key/"+*e.KeyId {
					t.Fatalf("entry %+v", e)
				}
				got[*e.KeyId] = true
			}
			if !out.Truncated {
				break
			}
			marker = out.NextMarker
		}
		if len(got) != 5 || pages != 3 {
			t.Fatalf("listed %d keys in %d pages", len(got), pages)
		}
		if _, err := c.ListKeys(ctx, &kms.ListKeysInput{Marker: aws.String("!!!")}); code(err) != "InvalidMarkerException" {
			t.Fatalf("bad marker: %v", err)
		}
		if _, err := c.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(1001)}); code(err) != "ValidationException" {
			t.Fatalf("bad limit: %v", err)
		}
		// Keys are regional.
		west := kms.NewFromConfig(env.Config(), func(o *kms.Options) { o.Region = "us-west-2" })
		if out, err := west.ListKeys(ctx, &kms.ListKeysInput{}); err != nil || len(out.Keys) != 0 {
			t.Fatalf("us-west-2 keys %+v %v", out, err)
		}
		if _, err := west.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)}); code(err) != "NotFoundException" {
			t.Fatalf("us-east-1 key from us-west-2: %v", err)
		}

		la, err := c.ListAliases(ctx, &kms.ListAliasesInput{})
		if err != nil || len(la.Aliases) != 1 || *la.Aliases[0].AliasArn != aliasARN || *la.Aliases[0].TargetKeyId != *k.KeyId {
			t.Fatalf("aliases %+v %v", la, err)
		}
		la, err = c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String(*newKey(t, c, nil).KeyId)})
		if err != nil || len(la.Aliases) != 0 {
			t.Fatalf("aliases of another key %+v %v", la, err)
		}

		// Disabled keys refuse cryptography.
		if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String("alias/trail")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
		if code(err) != "DisabledException" || message(err) != arn+" is disabled." {
			t.Fatalf("encrypt with disabled key: %v", err)
		}
		if d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId}); d.KeyMetadata.Enabled || d.KeyMetadata.KeyState != types.KeyStateDisabled {
			t.Fatalf("disabled: %+v", d.KeyMetadata)
		}
		if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")}); err != nil {
			t.Fatal(err)
		}

		// Deletion: pending, cancellable, then gone after the window.
		if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(6)}); code(err) != "ValidationException" {
			t.Fatalf("6 days: %v", err)
		}
		env.Clock.Set(time.Now().UTC().Truncate(time.Second))
		sk, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)})
		if err != nil || sk.KeyState != types.KeyStatePendingDeletion || *sk.PendingWindowInDays != 7 ||
			!sk.DeletionDate.Equal(env.Clock.Now().Add(7*24*time.Hour)) || *sk.KeyId != arn {
			t.Fatalf("schedule %+v %v", sk, err)
		}
		if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")}); code(err) != "KMSInvalidStateException" {
			t.Fatalf("encrypt pending deletion: %v", err)
		}
		if _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
		if d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId}); d.KeyMetadata.KeyState != types.KeyStateDisabled {
			t.Fatalf("after cancel: %+v", d.KeyMetadata)
		}
		if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
		// The SDK signs with the real time, so the far side of the window
		// is looked at through the Go API.
		env.Clock.Advance(30*24*time.Hour - time.Second)
		if _, err := env.Server.KMS.ResolveKey(ctx, env.AccountID, "us-east-1", "alias/trail"); err != nil {
			t.Fatalf("a second before the deletion date: %v", err)
		}
		env.Clock.Advance(2 * time.Second)
		for _, id := range []string{*k.KeyId, "alias/trail"} {
			if _, err := env.Server.KMS.ResolveKey(ctx, env.AccountID, "us-east-1", id); !kmssvc.IsNotFound(err) {
				t.Fatalf("%s after the window: %v", id, err)
			}
		}
		if n, err := env.Server.KMS.Purge(ctx); err != nil || n != 1 {
			t.Fatalf("purge %d %v", n, err)
		}
		env.Clock.Set(time.Time{})
		if out, _ := c.ListKeys(ctx, &kms.ListKeysInput{}); len(out.Keys) != 5 {
			t.Fatalf("keys after purge: %d", len(out.Keys))
		}
		if _, err := c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/trail")}); code(err) != "NotFoundException" {
			t.Fatalf("alias survived purge: %v", err)
		}
	})
}

func TestCreateKeyValidation(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	for _, tc := range []struct {
		name string
		in   *kms.CreateKeyInput
		code string
	}{
		{"sign", &kms.CreateKeyInput{KeyUsage: types.KeyUsageTypeSignVerify, KeySpec: types.KeySpecRsa2048}, "UnsupportedOperationException"},
		{"rsa", &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048}, "UnsupportedOperationException"},
		{"bad usage", &kms.CreateKeyInput{KeyUsage: "NOPE"}, "ValidationException"},
		{"external", &kms.CreateKeyInput{Origin: types.OriginTypeExternal}, "UnsupportedOperationException"},
		{"multi-region", &kms.CreateKeyInput{MultiRegion: aws.Bool(true)}, "UnsupportedOperationException"},
		{"bad policy", &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)}, "MalformedPolicyDocumentException"},
		{"not json", &kms.CreateKeyInput{Policy: aws.String(`{`)}, "MalformedPolicyDocumentException"},
		{"aws tag", &kms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("")}}}, "TagException"},
		{"long description", &kms.CreateKeyInput{Description: aws.String(strings.Repeat("d", 8193))}, "ValidationException"},
	} {
		if _, err := c.CreateKey(ctx, tc.in); code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if out, _ := c.ListKeys(ctx, &kms.ListKeysInput{}); len(out.Keys) != 0 {
		t.Fatalf("a refused CreateKey left a key: %+v", out.Keys)
	}
}

func TestEncryptDecrypt(t *testing.T) {
	eachDriver(t, func(t *testing.T, env *testenv.Env) {
		c := client(env)
		k := newKey(t, c, nil)
		other := newKey(t, c, nil)
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
		ectx := map[string]string{"purpose": "test", "aws:s3:arn": "arn:aws:s3:::b/k"}
		enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/app"), Plaintext: []byte("attack at dawn"), EncryptionContext: ectx})
		if err != nil {
			t.Fatal(err)
		}
		if *enc.KeyId != *k.Arn || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault || bytes.Contains(enc.CiphertextBlob, []byte("attack")) {
			t.Fatalf("encrypt %+v", enc)
		}
		// No KeyId: the blob names its key.
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ectx})
		if err != nil || string(dec.Plaintext) != "attack at dawn" || *dec.KeyId != *k.Arn {
			t.Fatalf("decrypt %+v %v", dec, err)
		}
		if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ectx, KeyId: aws.String("alias/app")}); err != nil {
			t.Fatalf("decrypt naming the key: %v", err)
		}
		if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ectx, KeyId: other.KeyId}); code(err) != "IncorrectKeyException" {
			t.Fatalf("decrypt naming another key: %v", err)
		}
		tampered := append([]byte(nil), enc.CiphertextBlob...)
		tampered[len(tampered)-1] ^= 1
		for name, in := range map[string]*kms.DecryptInput{
			"other context": {CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "other", "aws:s3:arn": "arn:aws:s3:::b/k"}},
			"no context":    {CiphertextBlob: enc.CiphertextBlob},
			"extra context": {CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "test", "aws:s3:arn": "arn:aws:s3:::b/k", "x": "y"}},
			"tampered":      {CiphertextBlob: tampered, EncryptionContext: ectx},
			"garbage":       {CiphertextBlob: []byte("definitely not a ciphertext blob from lextrail")},
		} {
			if _, err := c.Decrypt(ctx, in); code(err) != "InvalidCiphertextException" {
				t.Errorf("%s: %v", name, err)
			}
		}
		// The blob is bound to its region.
		west := kms.NewFromConfig(env.Config(), func(o *kms.Options) { o.Region = "us-west-2" })
		if _, err := west.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ectx}); code(err) != "InvalidCiphertextException" {
			t.Fatalf("decrypt in another region: %v", err)
		}

		// Input validation.
		for name, in := range map[string]*kms.EncryptInput{
			"empty":    {KeyId: k.KeyId, Plaintext: []byte{}},
			"too long": {KeyId: k.KeyId, Plaintext: make([]byte, 4097)},
			"bad key":  {KeyId: aws.String(strings.Repeat("k", 2049)), Plaintext: []byte("x")},
		} {
			if _, err := c.Encrypt(ctx, in); code(err) != "ValidationException" {
				t.Errorf("encrypt %s: %v", name, err)
			}
		}
		if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}); code(err) != "InvalidKeyUsageException" {
			t.Fatalf("RSA algorithm on a symmetric key: %v", err)
		}
		if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), DryRun: aws.Bool(true)}); code(err) != "DryRunOperationException" {
			t.Fatalf("dry run: %v", err)
		}

		// Data keys.
		dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: ectx})
		if err != nil || len(dk.Plaintext) != 32 || *dk.KeyId != *k.Arn {
			t.Fatalf("data key %+v %v", dk, err)
		}
		dec, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ectx})
		if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
			t.Fatalf("decrypt data key: %v", err)
		}
		dk, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, NumberOfBytes: aws.Int32(64)})
		if err != nil || len(dk.Plaintext) != 64 {
			t.Fatalf("64-byte data key %v", err)
		}
		wp, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes128})
		if err != nil || len(wp.CiphertextBlob) == 0 {
			t.Fatalf("without plaintext %v", err)
		}
		if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wp.CiphertextBlob}); err != nil || len(dec.Plaintext) != 16 {
			t.Fatalf("decrypt data key without plaintext: %v", err)
		}
		for name, in := range map[string]*kms.GenerateDataKeyInput{
			"neither": {KeyId: k.KeyId},
			"both":    {KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)},
			"zero":    {KeyId: k.KeyId, NumberOfBytes: aws.Int32(0)},
			"1025":    {KeyId: k.KeyId, NumberOfBytes: aws.Int32(1025)},
		} {
			if _, err := c.GenerateDataKey(ctx, in); code(err) != "ValidationException" {
				t.Errorf("data key %s: %v", name, err)
			}
		}
		// A disabled key's blobs do not decrypt until it is enabled again.
		c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId})
		if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ectx}); code(err) != "DisabledException" {
			t.Fatalf("decrypt with disabled key: %v", err)
		}
	})
}

// TestKeyPolicyCrossAccount: another account may use a key only once the
// key policy allows it (and, across accounts, its own identity side).
func TestKeyPolicyCrossAccount(t *testing.T) {
	eachDriver(t, func(t *testing.T, env *testenv.Env) {
		owner := client(env)
		k := newKey(t, owner, nil)
		creds, err := env.Server.Accounts.CreateAccount(ctx, "222233334444")
		if err != nil {
			t.Fatal(err)
		}
		other := client(env, aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey})
		enc, err := owner.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("shared")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = other.Encrypt(ctx, &kms.EncryptInput{KeyId: k.Arn, Plaintext: []byte("x")})
		if code(err) != "AccessDeniedException" || !strings.Contains(message(err), "arn:aws:iam::222233334444:root is not authorized to perform: kms:Encrypt on resource: "+*k.Arn) {
			t.Fatalf("other account before the policy change: %v", err)
		}
		if _, err := other.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); code(err) != "AccessDeniedException" {
			t.Fatalf("other account decrypt: %v", err)
		}
		// A key ID alone names a key of the caller's own account.
		if _, err := other.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId}); code(err) != "NotFoundException" {
			t.Fatalf("other account by key ID: %v", err)
		}
		// Management is not cross-account.
		if _, err := other.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.Arn}); code(err) != "NotFoundException" {
			t.Fatalf("other account disables: %v", err)
		}
		pol := `{"Version":"2012-10-17","Statement":[
			{"Sid":"owner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + env.AccountID + `:root"},"Action":"kms:*","Resource":"*"},
			{"Sid":"partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222233334444:root"},"Action":["kms:Encrypt","kms:Decrypt","kms:DescribeKey"],"Resource":"*"}]}`
		if _, err := other.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.Arn, Policy: aws.String(pol)}); code(err) != "NotFoundException" {
			t.Fatalf("other account changes the policy: %v", err)
		}
		if _, err := owner.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(pol)}); err != nil {
			t.Fatal(err)
		}
		if got, _ := owner.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId}); *got.Policy != pol {
			t.Fatalf("policy not stored: %s", *got.Policy)
		}
		if _, err := other.Encrypt(ctx, &kms.EncryptInput{KeyId: k.Arn, Plaintext: []byte("x")}); err != nil {
			t.Fatalf("other account after the policy change: %v", err)
		}
		dec, err := other.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err != nil || string(dec.Plaintext) != "shared" {
			t.Fatalf("other account decrypt after the change: %v", err)
		}
		if _, err := other.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.Arn, KeySpec: types.DataKeySpecAes256}); code(err) != "AccessDeniedException" {
			t.Fatalf("action the policy does not grant: %v", err)
		}
		// An explicit deny in the key policy binds even the owner's root.
		deny := pol[:len(pol)-2] + `,{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*"}]}`
		if _, err := owner.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(deny)}); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); code(err) != "AccessDeniedException" {
			t.Fatalf("owner under an explicit deny: %v", err)
		}
	})
}

// TestKeyPolicyDelegation: a key policy naming the account root delegates
// to IAM policies; one that does not name the account locks IAM users out
// whatever their policies say.
func TestKeyPolicyDelegation(t *testing.T) {
	env := testenv.New(t)
	root := client(env)
	k := newKey(t, root, nil)
	none := client(env, newUser(t, env, "nokms", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`))
	enc := client(env, newUser(t, env, "encryptor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:CreateKey"],"Resource":"*"}]}`))
	_, err := none.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	if code(err) != "AccessDeniedException" || !strings.Contains(message(err), "because no identity-based policy allows the kms:Encrypt action") {
		t.Fatalf("user without kms policy: %v", err)
	}
	if _, err := none.CreateKey(ctx, &kms.CreateKeyInput{}); code(err) != "AccessDeniedException" {
		t.Fatalf("user without kms:CreateKey: %v", err)
	}
	if _, err := enc.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("user with kms:Encrypt: %v", err)
	}
	if _, err := enc.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("x")}); code(err) != "InvalidCiphertextException" {
		t.Fatalf("garbage: %v", err)
	}
	// A key whose policy names only root: delegation is gone for users.
	locked := newKey(t, root, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + env.AccountID + `:user/nokms"},"Action":"kms:DescribeKey","Resource":"*"}]}`)})
	_, err = enc.Encrypt(ctx, &kms.EncryptInput{KeyId: locked.KeyId, Plaintext: []byte("x")})
	if code(err) != "AccessDeniedException" || !strings.Contains(message(err), "no resource-based policy allows") {
		t.Fatalf("IAM allow without key policy: %v", err)
	}
	// A statement naming the user itself grants without an IAM policy.
	if _, err := none.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: locked.Arn}); err != nil {
		t.Fatalf("user named by the key policy: %v", err)
	}
	// The root's statement is gone too: root is locked out of that key.
	if _, err := root.Encrypt(ctx, &kms.EncryptInput{KeyId: locked.KeyId, Plaintext: []byte("x")}); code(err) != "AccessDeniedException" {
		t.Fatalf("root on a key whose policy does not name it: %v", err)
	}
}

// TestAuditRecords: cryptographic calls are management events with
// readOnly true; neither plaintext nor ciphertext reaches the record.
func TestAuditRecords(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	k := newKey(t, c, nil)
	secret := []byte("the plaintext must not be recorded")
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: secret, EncryptionContext: map[string]string{"dept": "eng"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"dept": "eng"}}); err != nil {
		t.Fatal(err)
	}
	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(env.Config())
	for _, name := range []string{"CreateKey", "Encrypt", "Decrypt", "GenerateDataKey"} {
		out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}})
		if err != nil || len(out.Events) != 1 {
			t.Fatalf("%s events: %+v %v", name, out, err)
		}
		raw := *out.Events[0].CloudTrailEvent
		var rec struct {
			EventSource       string         `json:"eventSource"`
			ReadOnly          bool           `json:"readOnly"`
			ManagementEvent   bool           `json:"managementEvent"`
			EventCategory     string         `json:"eventCategory"`
			RequestParameters map[string]any `json:"requestParameters"`
			ResponseElements  map[string]any `json:"responseElements"`
			Resources         []struct {
				ARN, Type string
			} `json:"resources"`
		}
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.EventSource != "kms.amazonaws.com" || !rec.ManagementEvent || rec.EventCategory != "Management" ||
			rec.ReadOnly != (name != "CreateKey") || len(rec.Resources) != 1 || rec.Resources[0].ARN != *k.Arn || rec.Resources[0].Type != "AWS::KMS::Key" {
			t.Errorf("%s record %s", name, raw)
		}
		for _, b := range [][]byte{secret, enc.CiphertextBlob, dk.Plaintext, dk.CiphertextBlob} {
			for _, form := range []string{string(b), b64(b)} {
				if strings.Contains(raw, form) {
					t.Errorf("%s record holds key material or data: %s", name, raw)
				}
			}
		}
		switch name {
		case "Decrypt":
			if rec.RequestParameters["encryptionAlgorithm"] != "SYMMETRIC_DEFAULT" || rec.RequestParameters["encryptionContext"] == nil || rec.ResponseElements != nil {
				t.Errorf("Decrypt parameters %s", raw)
			}
		case "Encrypt":
			if rec.RequestParameters["keyId"] != *k.KeyId || rec.ResponseElements != nil {
				t.Errorf("Encrypt parameters %s", raw)
			}
		case "GenerateDataKey":
			if rec.RequestParameters["keySpec"] != "AES_256" {
				t.Errorf("GenerateDataKey parameters %s", raw)
			}
		case "CreateKey":
			if rec.ResponseElements["keyMetadata"] == nil {
				t.Errorf("CreateKey response %s", raw)
			}
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func iamClient(env *testenv.Env) *iam.Client { return iam.NewFromConfig(env.Config()) }

func iamPolicy(user, name, doc string) *iam.PutUserPolicyInput {
	return &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}
}

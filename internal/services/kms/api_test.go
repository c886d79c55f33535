package kms_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"lextrail/internal/identity"
	kmssvc "lextrail/internal/services/kms"
	"lextrail/internal/testenv"
)

// TestGoAPIServicePrincipal: CloudTrail's use of a trail key as the
// cloudtrail service principal goes through the key policy, with its
// aws:SourceArn condition and encryption context.
func TestGoAPIServicePrincipal(t *testing.T) {
	env := testenv.New(t)
	kc := client(env)
	api := env.Server.KMS
	k := newKey(t, kc, nil)
	if _, err := kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/trail"), TargetKeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	// KmsKeyId checks: every form resolves to the key ARN.
	for _, id := range []string{*k.KeyId, *k.Arn, "alias/trail", "arn:aws:kms:us-east-1:" + env.AccountID + ":alias/trail"} {
		info, err := api.ResolveKey(ctx, env.AccountID, "us-east-1", id)
		if err != nil || info.ARN != *k.Arn || info.State != kmssvc.StateEnabled || info.Manager != kmssvc.ManagerCustomer {
			t.Fatalf("resolve %s: %+v %v", id, info, err)
		}
	}
	for _, id := range []string{"alias/none", "11111111-2222-3333-4444-555555555555", "garbage"} {
		if _, err := api.ResolveKey(ctx, env.AccountID, "us-east-1", id); !kmssvc.IsNotFound(err) {
			t.Fatalf("resolve %s: %v", id, err)
		}
	}
	if _, err := api.ResolveKey(ctx, env.AccountID, "eu-west-1", *k.Arn); !kmssvc.IsNotFound(err) {
		t.Fatalf("a key of another region: %v", err)
	}

	trailARN := "arn:aws:cloudtrail:us-east-1:" + env.AccountID + ":trail/main"
	use := kmssvc.Use{
		Principal: kmssvc.ServicePrincipal("cloudtrail.amazonaws.com"), KeyID: "alias/trail", AccountID: env.AccountID, Region: "us-east-1",
		EncryptionContext: map[string]string{"aws:cloudtrail:arn": trailARN},
		ConditionKeys:     map[string][]string{"aws:SourceArn": {trailARN}, "aws:SourceAccount": {env.AccountID}},
	}
	// The default key policy does not let the service in.
	if _, err := api.GenerateDataKey(ctx, use); code(err) != "AccessDeniedException" {
		t.Fatalf("cloudtrail under the default policy: %v", err)
	}
	pol := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + env.AccountID + `:root"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",
		 "Condition":{"StringEquals":{"aws:SourceArn":"` + trailARN + `"},
		              "StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:` + env.AccountID + `:trail/*"}}},
		{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:DescribeKey","Resource":"*"}]}`
	if _, err := kc.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	dk, err := api.GenerateDataKey(ctx, use)
	if err != nil || len(dk.Plaintext) != 32 || dk.KeyARN != *k.Arn {
		t.Fatalf("cloudtrail with the grant: %+v %v", dk, err)
	}
	if info, err := api.Authorize(ctx, use, "kms:DescribeKey"); err != nil || info.ARN != *k.Arn {
		t.Fatalf("describe as cloudtrail: %v", err)
	}
	wrong := use
	wrong.ConditionKeys = map[string][]string{"aws:SourceArn": {"arn:aws:cloudtrail:us-east-1:" + env.AccountID + ":trail/other"}}
	if _, err := api.GenerateDataKey(ctx, wrong); code(err) != "AccessDeniedException" {
		t.Fatalf("wrong SourceArn: %v", err)
	}
	// The service may not decrypt; the account's root may, via SDK too.
	if _, _, err := api.Decrypt(ctx, use, dk.CiphertextBlob); code(err) != "AccessDeniedException" {
		t.Fatalf("cloudtrail decrypt: %v", err)
	}
	root := kmssvc.Use{Principal: identity.Root(env.AccountID, ""), Region: "us-east-1", EncryptionContext: use.EncryptionContext}
	pt, info, err := api.Decrypt(ctx, root, dk.CiphertextBlob)
	if err != nil || !bytes.Equal(pt, dk.Plaintext) || info.ARN != *k.Arn {
		t.Fatalf("root decrypt via Go API: %v", err)
	}
	dec, err := kc.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: use.EncryptionContext})
	if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
		t.Fatalf("root decrypt via SDK: %v", err)
	}
	bad := root
	bad.EncryptionContext = map[string]string{"aws:cloudtrail:arn": "other"}
	if _, _, err := api.Decrypt(ctx, bad, dk.CiphertextBlob); code(err) != "InvalidCiphertextException" {
		t.Fatalf("wrong context: %v", err)
	}
	named := root
	named.KeyID = *newKey(t, kc, nil).KeyId
	if _, _, err := api.Decrypt(ctx, named, dk.CiphertextBlob); code(err) != "IncorrectKeyException" {
		t.Fatalf("wrong key named: %v", err)
	}
	kc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId})
	if _, err := api.GenerateDataKey(ctx, use); code(err) != "DisabledException" {
		t.Fatalf("disabled key: %v", err)
	}
}

// TestGoAPIRoleSession: Lex writes conversation logs as the role it was
// handed; the role's policies and the key policy decide.
func TestGoAPIRoleSession(t *testing.T) {
	env := testenv.New(t)
	kc := client(env)
	k := newKey(t, kc, nil)
	ic := iamClient(env)
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("LexLogs"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	p := &identity.Principal{Type: identity.TypeAssumedRole, AccountID: env.AccountID, InvokedBy: "lex.amazonaws.com",
		ARN: "arn:aws:sts::" + env.AccountID + ":assumed-role/LexLogs/lex", UserID: *role.Role.RoleId + ":lex",
		Session: &identity.Session{IssuerType: "Role", IssuerARN: *role.Role.Arn, IssuerAccountID: env.AccountID, IssuerUserName: "LexLogs", SessionName: "lex"}}
	use := kmssvc.Use{Principal: p, KeyID: *k.Arn, Region: "us-east-1", EncryptionContext: map[string]string{"aws:s3:arn": "arn:aws:s3:::audio/x.wav"}}
	if _, err := env.Server.KMS.GenerateDataKey(ctx, use); code(err) != "AccessDeniedException" {
		t.Fatalf("role without kms policy: %v", err)
	}
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("LexLogs"), PolicyName: aws.String("kms"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"` + *k.Arn + `"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Server.KMS.GenerateDataKey(ctx, use); err != nil {
		t.Fatalf("role with kms policy: %v", err)
	}
}

package iam_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"lextrail/internal/testenv"
)

// TestAWSCLI drives IAM and STS with the real AWS CLI where it is
// installed: users, inline policies (documents decoded by the CLI from
// IAM's URL encoding), keys, roles, the Lex service-linked role with a
// custom suffix, and AssumeRole with the session used afterwards.
func TestAWSCLI(t *testing.T) {
	bin := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	e := testenv.New(t)
	run := func(creds aws.Credentials, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--endpoint-url", e.URL, "--output", "json")...)
		cmd.Env = e.CLIEnv(t, creds)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		m := map[string]any{}
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
		return m
	}
	root := e.Creds()
	acct := e.AccountID
	run(root, "iam", "create-user", "--user-name", "cli-user")
	run(root, "iam", "put-user-policy", "--user-name", "cli-user", "--policy-name", "assume",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	gp := run(root, "iam", "get-user-policy", "--user-name", "cli-user", "--policy-name", "assume")
	if doc, ok := gp["PolicyDocument"].(map[string]any); !ok || doc["Version"] != "2012-10-17" {
		t.Fatalf("policy document not decoded by the CLI: %v", gp)
	}
	key := run(root, "iam", "create-access-key", "--user-name", "cli-user")["AccessKey"].(map[string]any)
	user := aws.Credentials{AccessKeyID: key["AccessKeyId"].(string), SecretAccessKey: key["SecretAccessKey"].(string)}
	users := run(root, "iam", "list-users")["Users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["UserName"] != "cli-user" {
		t.Fatalf("list-users: %v", users)
	}

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"sts:AssumeRole"}]}`
	run(root, "iam", "create-role", "--role-name", "CliRole", "--assume-role-policy-document", trust, "--max-session-duration", "7200")
	run(root, "iam", "put-role-policy", "--role-name", "CliRole", "--policy-name", "read",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}`)
	r := run(root, "iam", "get-role", "--role-name", "CliRole")["Role"].(map[string]any)
	if doc, ok := r["AssumeRolePolicyDocument"].(map[string]any); !ok || doc["Statement"] == nil || r["MaxSessionDuration"] != float64(7200) {
		t.Fatalf("get-role: %v", r)
	}
	slr := run(root, "iam", "create-service-linked-role", "--aws-service-name", "lex.amazonaws.com", "--custom-suffix", "cli")["Role"].(map[string]any)
	if slr["RoleName"] != "AWSServiceRoleForLexBots_cli" || slr["Path"] != "/aws-service-role/lex.amazonaws.com/" {
		t.Fatalf("service-linked role: %v", slr)
	}

	as := run(user, "sts", "assume-role", "--role-arn", r["Arn"].(string), "--role-session-name", "cli-session", "--duration-seconds", "1800")
	c := as["Credentials"].(map[string]any)
	sess := aws.Credentials{AccessKeyID: c["AccessKeyId"].(string), SecretAccessKey: c["SecretAccessKey"].(string), SessionToken: c["SessionToken"].(string)}
	id := run(sess, "sts", "get-caller-identity")
	if id["Arn"] != "arn:aws:sts::"+acct+":assumed-role/CliRole/cli-session" || id["Account"] != acct {
		t.Fatalf("session identity: %v", id)
	}
	if got := run(sess, "iam", "get-role", "--role-name", "CliRole")["Role"].(map[string]any); got["RoleName"] != "CliRole" {
		t.Fatalf("session get-role: %v", got)
	}
	// Beyond the role's policy the CLI sees AccessDenied.
	cmd := exec.Command(bin, "iam", "list-users", "--endpoint-url", e.URL)
	cmd.Env = e.CLIEnv(t, sess)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "AccessDenied") || !strings.Contains(string(out), "is not authorized to perform: iam:ListUsers") {
		t.Fatalf("list-users with the session: %v\n%s", err, out)
	}
}

package iam_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"

	"lextrail/internal/testenv"
)

// TestAccessDeniedShapes: a user without policies is refused in AWS's
// message form by every protocol family, each in its own error shape:
// rest-json (Lex: x-amzn-ErrorType and {"message"}), JSON 1.1
// (CloudTrail: {"__type","message"}) and query (IAM: <ErrorResponse>).
func TestAccessDeniedShapes(t *testing.T) {
	e := testenv.New(t)
	bob := newUser(t, e, "bob")
	acct := e.AccountID
	deniedBy := func(action, resource string) string {
		return "User: arn:aws:iam::" + acct + ":user/bob is not authorized to perform: " + action + " on resource: " + resource +
			" because no identity-based policy allows the " + action + " action"
	}

	// Through the SDK clients, which parse each shape.
	_, err := lexmodelbuildingservice.NewFromConfig(e.Config(bob)).PutBot(ctx, &lexmodelbuildingservice.PutBotInput{
		Name: aws.String("Shop"), Locale: "en-US", ChildDirected: aws.Bool(false)})
	if code(err) != "AccessDeniedException" || message(err) != deniedBy("lex:PutBot", "arn:aws:lex:us-east-1:"+acct+":bot:Shop") {
		t.Errorf("lex PutBot: %s %q", code(err), message(err))
	}
	_, err = cloudtrail.NewFromConfig(e.Config(bob)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if code(err) != "AccessDeniedException" || !strings.HasPrefix(message(err), "User: arn:aws:iam::"+acct+":user/bob is not authorized to perform: cloudtrail:LookupEvents on resource: ") ||
		!strings.HasSuffix(message(err), " because no identity-based policy allows the cloudtrail:LookupEvents action") {
		t.Errorf("cloudtrail LookupEvents: %s %q", code(err), message(err))
	}
	_, err = iam.NewFromConfig(e.Config(bob)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("R"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if code(err) != "AccessDenied" || message(err) != deniedBy("iam:CreateRole", "arn:aws:iam::"+acct+":role/R") {
		t.Errorf("iam CreateRole: %s %q", code(err), message(err))
	}

	// IAM names existing users and roles by kind and name, not by ARN.
	root := iam.NewFromConfig(e.Config())
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Existing"), Path: aws.String("/svc/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = iam.NewFromConfig(e.Config(bob)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Existing")})
	if code(err) != "AccessDenied" || message(err) != deniedBy("iam:GetRole", "role Existing") {
		t.Errorf("iam GetRole: %s %q", code(err), message(err))
	}
	_, err = iam.NewFromConfig(e.Config(bob)).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("root-made")})
	if code(err) != "AccessDenied" || message(err) != deniedBy("iam:CreateAccessKey", "user root-made") {
		t.Errorf("iam CreateAccessKey: %s %q", code(err), message(err))
	}
	_, err = iam.NewFromConfig(e.Config(bob)).ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/team/")})
	if code(err) != "AccessDenied" || message(err) != deniedBy("iam:ListUsers", "arn:aws:iam::"+acct+":user/team/") {
		t.Errorf("iam ListUsers: %s %q", code(err), message(err))
	}

	// On the wire.
	send := func(method, path, service string, hdr map[string]string, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(ctx, bob, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	resp, b := send("PUT", "/bots/Shop/versions/$LATEST", "lex", map[string]string{"Content-Type": "application/json"}, `{"locale":"en-US","childDirected":false}`)
	var restBody struct {
		Message string `json:"message"`
	}
	if resp.StatusCode != 403 || !strings.HasPrefix(resp.Header.Get("x-amzn-ErrorType"), "AccessDeniedException") ||
		resp.Header.Get("x-amzn-RequestId") == "" || json.Unmarshal(b, &restBody) != nil || restBody.Message != deniedBy("lex:PutBot", "arn:aws:lex:us-east-1:"+acct+":bot:Shop") {
		t.Errorf("rest-json wire: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	resp, b = send("POST", "/", "cloudtrail", map[string]string{"Content-Type": "application/x-amz-json-1.1",
		"X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"}, `{}`)
	var jsonBody struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if resp.StatusCode != 403 || json.Unmarshal(b, &jsonBody) != nil || !strings.HasSuffix(jsonBody.Type, "AccessDeniedException") ||
		!strings.Contains(jsonBody.Message, "is not authorized to perform: cloudtrail:LookupEvents") || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("json wire: %d %s", resp.StatusCode, b)
	}
	resp, b = send("POST", "/", "iam", map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
		"Action=ListRoles&Version=2010-05-08")
	var xmlBody struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}
	if resp.StatusCode != 403 || xml.Unmarshal(b, &xmlBody) != nil || xmlBody.Type != "Sender" || xmlBody.Code != "AccessDenied" ||
		xmlBody.Message != deniedBy("iam:ListRoles", "arn:aws:iam::"+acct+":role/") || xmlBody.RequestID == "" ||
		!bytes.Contains(b, []byte(`xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`)) {
		t.Errorf("query wire: %d %s", resp.StatusCode, b)
	}
}

package iam

import (
	"context"
	"strings"
	"time"

	"lextrail/internal/catalog"
)

// serviceLinked describes the service-linked role a service principal
// gets: its name prefix and whether the service accepts a CustomSuffix.
type serviceLinked struct {
	roleName     string
	customSuffix bool
	description  string
}

// serviceLinkedRoles are the services lextrail knows service-linked roles
// for. The role is created at /aws-service-role/<service>/ and named
// <roleName>, or <roleName>_<CustomSuffix> when a suffix is given.
var serviceLinkedRoles = map[string]serviceLinked{
	"lex.amazonaws.com":          {"AWSServiceRoleForLexBots", true, "Service Linked Role for Amazon Lex Bots"},
	"channels.lex.amazonaws.com": {"AWSServiceRoleForLexChannels", true, "Service Linked Role for Amazon Lex Channels"},
	"lexv2.amazonaws.com":        {"AWSServiceRoleForLexV2Bots", true, "Service Linked Role for Amazon Lex V2 Bots"},
	"cloudtrail.amazonaws.com":   {"AWSServiceRoleForCloudTrail", false, ""},
	"logs.amazonaws.com":         {"AWSServiceRoleForLogDelivery", false, ""},
}

// serviceLinkedPolicies are the permissions policies of service-linked
// roles (on AWS, a managed policy attached to the role that only the
// service can change; lextrail has no managed policies, so the policy is
// built in and evaluated with the role's inline policies). Lex's
// (AWSServiceRoleForLexBots and AWSServiceRoleForLexBots_<suffix>) is
// AmazonLexBotPolicy's Polly and Comprehend permissions plus what
// conversation logs need, limited to Lex's own names: log streams and
// object keys under aws/lex/ (every conversation log's resourcePrefix),
// and data keys for SSE-KMS only through S3.
var serviceLinkedPolicies = map[string]string{
	"lex.amazonaws.com": `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"AmazonLexBotPolicy","Effect":"Allow","Action":["polly:SynthesizeSpeech","comprehend:DetectSentiment"],"Resource":"*"},` +
		`{"Sid":"ConversationLogsText","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:*:log-stream:aws/lex/*"},` +
		`{"Sid":"ConversationLogsAudio","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::*/aws/lex/*"},` +
		`{"Sid":"ConversationLogsAudioKMS","Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*","Condition":{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}}]}`,
}

// ServiceLinkedPolicy is the permissions policy of a service's
// service-linked roles ("" when lextrail gives it none).
func ServiceLinkedPolicy(service string) string { return serviceLinkedPolicies[service] }

// CreateServiceLinkedRoleInput is CreateServiceLinkedRole's input.
type CreateServiceLinkedRoleInput struct {
	AWSServiceName string
	Description    *string
	CustomSuffix   *string
}

// CreateServiceLinkedRoleOutput is CreateServiceLinkedRole's result.
type CreateServiceLinkedRoleOutput struct {
	Role Role `xml:"Role"`
}

// serviceLinkedName returns the role's name and path for the input.
func serviceLinkedName(in *CreateServiceLinkedRoleInput) (name, path string, sl serviceLinked, err error) {
	if err := checkName("aWSServiceName", in.AWSServiceName, 128); err != nil {
		return "", "", sl, err
	}
	sl, ok := serviceLinkedRoles[in.AWSServiceName]
	if !ok {
		msg := "Unknown service principal " + in.AWSServiceName + "; lextrail creates service-linked roles for: lex.amazonaws.com, channels.lex.amazonaws.com, lexv2.amazonaws.com, cloudtrail.amazonaws.com, logs.amazonaws.com."
		if strings.HasPrefix(in.AWSServiceName, "lex.") {
			msg += " (The Lex V1 service principal is lex.amazonaws.com.)"
		}
		return "", "", sl, invalidInput("%s", msg)
	}
	name = sl.roleName
	if in.CustomSuffix != nil && *in.CustomSuffix != "" {
		if !sl.customSuffix {
			return "", "", sl, invalidInput("Custom suffix is not allowed for %s", in.AWSServiceName)
		}
		if err := checkName("customSuffix", *in.CustomSuffix, 64); err != nil {
			return "", "", sl, err
		}
		name += "_" + *in.CustomSuffix
		if len(name) > 64 {
			return "", "", sl, validation("1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64", name)
		}
	}
	return name, "/aws-service-role/" + in.AWSServiceName + "/", sl, nil
}

func (s *Service) serviceLinkedRoleResources(c *catalog.Call, in any) []catalog.Resource {
	name, path, _, err := serviceLinkedName(in.(*CreateServiceLinkedRoleInput))
	if err != nil {
		return nil
	}
	return []catalog.Resource{{ARN: RoleARN(c.AccountID(), path, name), AccountID: c.AccountID(), Type: "AWS::IAM::Role"}}
}

func (s *Service) createServiceLinkedRole(ctx context.Context, c *catalog.Call, in *CreateServiceLinkedRoleInput) (*CreateServiceLinkedRoleOutput, error) {
	name, path, sl, err := serviceLinkedName(in)
	if err != nil {
		return nil, err
	}
	desc := sl.description
	if in.Description != nil {
		desc = *in.Description
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["` + in.AWSServiceName + `"]},"Action":["sts:AssumeRole"]}]}`
	r := &RoleInfo{AccountID: c.AccountID(), Name: name, ID: newUniqueID("AROA"), Path: path, TrustPolicy: trust,
		MaxSessionDuration: DefaultMaxSessionDuration, ServiceLinked: in.AWSServiceName, Created: c.Now.Truncate(time.Second)}
	if err := s.insertRole(ctx, c, r, desc); err != nil {
		if strings.Contains(err.Error(), "EntityAlreadyExists") {
			return nil, invalidInput("Service role name %s has been taken in this account, please try a different suffix.", name)
		}
		return nil, err
	}
	out := &CreateServiceLinkedRoleOutput{Role: r.api(true)}
	out.Role.Description = desc
	return out, nil
}

package sns

import (
	"context"
	"errors"
	"strings"

	"lextrail/internal/authz"
	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/policy"
	"lextrail/internal/store"
)

// MaxPolicyBytes is the limit of a topic policy (AWS: 30 KiB).
const MaxPolicyBytes = 30720

// DefaultPolicy is the policy AWS gives a topic that has none: the topic
// owner's account may manage, subscribe to and publish to it. Its
// AWS:SourceOwner condition is a legacy key lextrail never sets, so the
// statement grants nothing on its own: the owner's principals get in
// through the identity side (root, IAM policies), other accounts and
// service principals only through a statement that names them.
func DefaultPolicy(topicARN string) string {
	acct := arnAccount(topicARN)
	return `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow",` +
		`"Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission",` +
		`"SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],` +
		`"Resource":"` + topicARN + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + acct + `"}}}]}`
}

// effectivePolicy is the topic's policy, or the default one.
func (t *topic) effectivePolicy() string {
	if t.Attrs.Policy != "" {
		return t.Attrs.Policy
	}
	return DefaultPolicy(t.ARN)
}

// checkPolicy validates a Policy attribute value.
func checkPolicy(doc string) error {
	if len(doc) > MaxPolicyBytes {
		return invalidParameter("Invalid parameter: Policy Error: the policy is larger than %d bytes", MaxPolicyBytes)
	}
	if _, err := policy.Parse(doc, policy.Resource); err != nil {
		return invalidParameter("Invalid parameter: Policy Error: %s", err.Error())
	}
	return nil
}

var policies = policy.NewCache(1000)

// ResourcePolicy is the authorizer's resource-policy source for "sns"
// actions: the policy of the topic a call names (its own or the default
// one). Subscription ARNs name their topic. A topic that does not exist
// has no policy (the call then needs the identity side alone, in the
// caller's own account, and fails NotFound in the handler).
func (s *Service) ResourcePolicy(ctx context.Context, c *catalog.Call, r catalog.Resource) (*authz.ResourcePolicy, error) {
	arn := r.ARN
	if t, ok := parseSubscriptionARN(arn); ok {
		arn = t
	}
	if _, _, _, ok := parseTopicARN(arn); !ok {
		return nil, nil
	}
	t, err := s.readTopic(ctx, nil, arn)
	var ae *awserr.Error
	if errors.As(err, &ae) && ae.Code == "NotFound" {
		return nil, nil
	}
	if err != nil {
		return nil, awserr.Internal(err)
	}
	return &authz.ResourcePolicy{Document: t.effectivePolicy(), Owner: t.AccountID}, nil
}

// ServiceCaller is an AWS service acting on a topic through the Go API:
// the service principal and the resource it acts for, which topic
// policies test with aws:SourceArn and aws:SourceAccount conditions.
type ServiceCaller struct {
	// Service is the service principal, "cloudtrail.amazonaws.com".
	Service string
	// SourceARN is aws:SourceArn: the resource the service acts for (the
	// trail's ARN). Optional.
	SourceARN string
	// SourceAccount is aws:SourceAccount; default the account of SourceARN.
	SourceAccount string
}

func (sc ServiceCaller) conditionKeys() map[string][]string {
	keys := map[string][]string{}
	if sc.SourceARN != "" {
		keys["aws:sourcearn"] = []string{sc.SourceARN}
	}
	acct := sc.SourceAccount
	if acct == "" {
		acct = arnAccount(sc.SourceARN)
	}
	if acct != "" {
		keys["aws:sourceaccount"] = []string{acct}
	}
	return keys
}

// CheckPublishAccess reports whether the service caller may publish to
// topicARN: the topic must exist and its policy must allow sns:Publish to
// the service principal with the caller's aws:SourceArn and
// aws:SourceAccount (service principals are decided by the topic policy
// alone; the default policy grants them nothing). It returns nil, or an
// *awserr.Error: NotFound (404) for a topic that does not exist,
// AuthorizationError (403) when the policy does not allow,
// InvalidParameter for a malformed ARN. CloudTrail calls it when a trail
// names a topic (to answer InsufficientSnsTopicPolicyException).
func (s *Service) CheckPublishAccess(ctx context.Context, topicARN string, from ServiceCaller) error {
	_, err := s.publishAccess(ctx, nil, topicARN, from)
	return err
}

// publishAccess loads the topic in tx (or a read transaction) and decides
// the service caller's sns:Publish on it.
func (s *Service) publishAccess(ctx context.Context, tx *store.Tx, topicARN string, from ServiceCaller) (*topic, error) {
	if _, _, _, ok := parseTopicARN(topicARN); !ok {
		return nil, invalidParameter("Invalid parameter: TopicArn")
	}
	if from.Service == "" || !strings.Contains(from.Service, ".") {
		return nil, invalidParameter("Invalid parameter: the service principal %q is not a service name", from.Service)
	}
	t, err := s.readTopic(ctx, tx, topicARN)
	if err != nil {
		return nil, err
	}
	pol, err := policies.Parse(t.effectivePolicy(), policy.Resource)
	if err != nil {
		return nil, awserr.Internal(err)
	}
	d := policy.Decide(policy.Input{
		Request: &policy.Request{Action: "sns:Publish", Resource: t.ARN,
			Principal: &policy.Principal{Service: from.Service}, Context: from.conditionKeys()},
		ResourceAccount: t.AccountID,
		ResourcePolicy:  pol,
	})
	if !d.Allowed {
		msg := "Service: " + from.Service + " is not authorized to perform: SNS:Publish on resource: " + t.ARN
		if d.Reason != "" {
			if d.ExplicitDeny {
				msg += " with " + d.Reason
			} else {
				msg += " because " + d.Reason
			}
		}
		return nil, authorizationError("%s", msg)
	}
	return t, nil
}

// Package policy owns lextrail's IAM policy language and the access decision
// made from it: it parses and validates JSON policy documents (identity
// policies, resource-based policies such as bucket, topic or key policies, and
// role trust policies), evaluates one policy against a request, and combines
// identity, session and resource-based policies into the final allow or deny
// the way AWS documents it. It does not store, attach, version or look up
// policies; callers load the documents, parse them (optionally through a
// Cache) and pass the compiled policies in.
//
// # Parsing
//
// Parse returns *Error for every malformed document; callers map it to IAM's
// MalformedPolicyDocument (HTTP 400). Messages follow AWS wording where AWS
// has a well-known one. Size limits differ per attachment point, so Parse does
// not enforce them: callers compare NonWhitespaceLen with the limit that
// applies (MaxUserInlineSize, MaxRoleInlineSize, ...).
//
// # Evaluation semantics
//
// Actions match case-insensitively; resources and condition values match
// case-sensitively (except the IgnoreCase operators and Bool). "*" matches any
// run of characters (including none and including ':' and '/'), "?" exactly
// one character. Condition key names are case-insensitive: Request.Context
// must use lower-cased key names (including any tag-key suffix); the policy's
// keys are lower-cased at parse time.
//
// Conditions: values for one key are ORed, keys within an operator and
// operators within a statement are ANDed. A negated operator (StringNotEquals,
// StringNotLike, NumericNotEquals, DateNotEquals, NotIpAddress, ArnNotEquals,
// ArnNotLike, StringNotEqualsIgnoreCase) is true only when the request value
// matches none of the policy values. A key missing from the request makes a
// condition false, except: negated operators (true, as AWS documents),
// ...IfExists operators (true), ForAllValues (true) and Null (tests presence).
// ForAnyValue with a missing key is false. A key present with zero values is
// treated as missing. Without a set prefix and with several request values, a
// positive operator matches if any request value matches, a negated one only
// if no request value matches. ArnEquals and ArnLike are the same operator
// (AWS documents both as wildcard-capable) and compare the six ARN components
// separately, so a wildcard never crosses a ':'; a value with fewer than six
// components matches nothing, except a bare "*" which matches any value. Numeric, Date, Binary and
// IpAddress values that do not parse never match (so their negated forms are
// true). Dates are ISO 8601 (several layouts) or epoch seconds.
//
// Policy variables (${aws:username}, ${aws:PrincipalTag/team}, with an
// optional default ${key, 'value'}) are substituted only in Version
// 2012-10-17 documents, in Resource/NotResource and in the values of String,
// Arn and Bool conditions. ${*}, ${?} and ${$} produce a literal '*', '?' and
// '$'. Substituted text is always literal (never a wildcard). A variable whose
// key is absent from the request and that has no default makes that element
// not match. When a key has several values the first one is used.
//
// # Principals
//
// "*" and {"AWS":"*"} match every requester, including service principals and
// anonymous requests (AWS uses Principal "*" plus aws:SourceArn conditions to
// let services publish to topics). An account ID or the account root ARN
// matches every principal of that account but, as AWS documents, only
// delegates: in the same account it grants on its own only to the root user;
// IAM users and roles still need an identity-policy allow. A user or role ARN
// matches that user or role, and a role ARN also matches sessions of that role
// (Principal.RoleARN). {"Service": X} matches only service principal X.
//
// # Decision
//
// Decide applies, in order: any explicit Deny (identity, session, resource)
// denies; then, in the same account, an identity allow (or root) that is also
// allowed by the session policies if any, or a resource-policy allow that
// names the principal (user, role, session, service or "*"); across accounts,
// both the identity side and a resource-policy allow naming the caller or its
// account. Session policies limit identity allows and resource allows that
// name the role or match by wildcard; a resource-policy statement naming the
// session ARN itself is not limited by them (AWS: "granted in addition to the
// permissions that are granted by the session policies"). Trust and KMS-style
// policies set Input.RequireResourceAllow: the resource policy must allow even
// in the same account. Service principals and anonymous callers are decided by
// the resource policy alone.
package policy

package logs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// querier runs queries in a transaction.
type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// group is a row of logs_groups.
type group struct {
	ID                 int64
	AccountID, Region  string
	Name               string
	CreatedMS          int64
	Retention          int32
	KMSKeyARN          string
	DEK                int64
	Class              string
	DeletionProtection bool
	StoredBytes        int64
	Tags               map[string]string
}

const groupCols = `group_id, account_id, region, name, created_ms, retention_days, kms_key_arn, dek_id, log_class, deletion_protection, stored_bytes, tags`

type rowScanner interface{ Scan(dest ...any) error }

func scanGroup(r rowScanner) (*group, error) {
	var g group
	var ret int64
	var tags string
	if err := r.Scan(&g.ID, &g.AccountID, &g.Region, &g.Name, &g.CreatedMS, &ret, &g.KMSKeyARN, &g.DEK, &g.Class, &g.DeletionProtection, &g.StoredBytes, &tags); err != nil {
		return nil, err
	}
	g.Retention = int32(ret)
	if err := json.Unmarshal([]byte(tags), &g.Tags); err != nil {
		return nil, err
	}
	return &g, nil
}

// loadGroup finds the group a logGroupName or logGroupIdentifier names, in
// the caller's account and region.
func loadGroup(ctx context.Context, q querier, c *catalog.Call, ident string) (*group, error) {
	acct, name := resolveIdent(c, ident)
	if name == "" || acct != c.AccountID() {
		// Cross-account access (monitoring accounts) is not served.
		return nil, errGroupNotFound()
	}
	if strings.HasPrefix(ident, "arn:") {
		if p := strings.SplitN(ident, ":", 5); len(p) < 5 || p[3] != c.Region {
			return nil, errGroupNotFound()
		}
	}
	return loadGroupByName(ctx, q, acct, c.Region, name)
}

func loadGroupByName(ctx context.Context, q querier, acct, region, name string) (*group, error) {
	g, err := scanGroup(q.QueryRow(ctx, `SELECT `+groupCols+` FROM logs_groups WHERE account_id = $1 AND region = $2 AND name = $3`, acct, region, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errGroupNotFound()
	}
	return g, err
}

// ---- CreateLogGroup ----

// CreateLogGroupInput is CreateLogGroup's request.
type CreateLogGroupInput struct {
	LogGroupName              *string           `json:"logGroupName,omitempty"`
	KmsKeyId                  *string           `json:"kmsKeyId,omitempty"`
	Tags                      map[string]string `json:"tags,omitempty"`
	LogGroupClass             *string           `json:"logGroupClass,omitempty"`
	DeletionProtectionEnabled *bool             `json:"deletionProtectionEnabled,omitempty"`
}

func (in *CreateLogGroupInput) groupIdent() string { return deref(in.LogGroupName) }

// Empty is the output of operations that return nothing.
type Empty struct{}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Service) createLogGroup(ctx context.Context, c *catalog.Call, in *CreateLogGroupInput) (*Empty, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if in.KmsKeyId != nil {
		v.length("kmsKeyId", *in.KmsKeyId, 0, 256)
	}
	if len(in.Tags) > maxTags {
		v.add("map of "+itoa(len(in.Tags))+" tags", "tags", "Member must have length less than or equal to 50")
	}
	v.tags("tags", in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	name := *in.LogGroupName
	if strings.HasPrefix(name, "aws/") {
		return nil, invalidParam("Log group names can't start with the string aws/: %s", name)
	}
	if err := reservedTag(in.Tags); err != nil {
		return nil, err
	}
	class := "STANDARD"
	if in.LogGroupClass != nil {
		switch *in.LogGroupClass {
		case "STANDARD", "INFREQUENT_ACCESS":
			class = *in.LogGroupClass
		case "DELIVERY", "ESSENTIALS":
			return nil, invalidParam("The %s log group class is not supported by lextrail; use STANDARD or INFREQUENT_ACCESS.", *in.LogGroupClass)
		default:
			return nil, invalidParam("1 validation error detected: Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]", *in.LogGroupClass)
		}
	}
	if in.DeletionProtectionEnabled != nil && *in.DeletionProtectionEnabled {
		return nil, invalidParam("Deletion protection is not supported by lextrail.")
	}
	tags := in.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	tj, _ := json.Marshal(tags)
	g := &group{ID: randomID(), AccountID: c.AccountID(), Region: c.Region, Name: name, CreatedMS: store.Millis(c.Now), Class: class, Tags: tags}
	_, err := c.Tx.Exec(ctx, `INSERT INTO logs_groups (group_id, account_id, region, name, created_ms, log_class, tags) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.ID, g.AccountID, g.Region, g.Name, g.CreatedMS, class, string(tj))
	if store.IsUniqueViolation(err) {
		return nil, awserr.New(400, "ResourceAlreadyExistsException", "The specified log group already exists")
	}
	if err != nil {
		return nil, err
	}
	if in.KmsKeyId != nil && *in.KmsKeyId != "" {
		if err := s.associateKey(ctx, c.Tx, c, g, *in.KmsKeyId); err != nil {
			return nil, err
		}
	}
	return &Empty{}, nil
}

// ---- DeleteLogGroup ----

// GroupNameInput is the request of operations that take only
// logGroupName.
type GroupNameInput struct {
	LogGroupName *string `json:"logGroupName,omitempty"`
}

func (in *GroupNameInput) groupIdent() string { return deref(in.LogGroupName) }

func (s *Service) deleteLogGroup(ctx context.Context, c *catalog.Call, in *GroupNameInput) (*Empty, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	// The group row goes now (the name is free at once); its streams'
	// blocks are deleted by the purge worker.
	if _, err := c.Tx.Exec(ctx, `INSERT INTO logs_trash (stream_id, deleted_ms) SELECT stream_id, $2 FROM logs_streams WHERE group_id = $1 ON CONFLICT (stream_id) DO NOTHING`, g.ID, store.Millis(c.Now)); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `DELETE FROM logs_streams WHERE group_id = $1`, g.ID); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `DELETE FROM logs_groups WHERE group_id = $1`, g.ID); err != nil {
		return nil, err
	}
	c.Tx.AfterCommit(s.wakePurge)
	return &Empty{}, nil
}

// ---- DescribeLogGroups ----

// DescribeLogGroupsInput is DescribeLogGroups' request.
type DescribeLogGroupsInput struct {
	LogGroupNamePrefix    *string  `json:"logGroupNamePrefix,omitempty"`
	LogGroupNamePattern   *string  `json:"logGroupNamePattern,omitempty"`
	NextToken             *string  `json:"nextToken,omitempty"`
	Limit                 *int32   `json:"limit,omitempty"`
	IncludeLinkedAccounts *bool    `json:"includeLinkedAccounts,omitempty"`
	AccountIdentifiers    []string `json:"accountIdentifiers,omitempty"`
	LogGroupClass         *string  `json:"logGroupClass,omitempty"`
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers,omitempty"`
}

// LogGroup is one DescribeLogGroups item.
type LogGroup struct {
	LogGroupName              string `json:"logGroupName"`
	CreationTime              int64  `json:"creationTime"`
	RetentionInDays           *int32 `json:"retentionInDays,omitempty"`
	MetricFilterCount         int32  `json:"metricFilterCount"`
	Arn                       string `json:"arn"`
	StoredBytes               int64  `json:"storedBytes"`
	KmsKeyId                  string `json:"kmsKeyId,omitempty"`
	LogGroupClass             string `json:"logGroupClass"`
	LogGroupArn               string `json:"logGroupArn"`
	DeletionProtectionEnabled bool   `json:"deletionProtectionEnabled"`
}

// DescribeLogGroupsOutput is DescribeLogGroups' response.
type DescribeLogGroupsOutput struct {
	LogGroups []LogGroup `json:"logGroups"`
	NextToken string     `json:"nextToken,omitempty"`
}

func (g *group) describe() LogGroup {
	lg := LogGroup{
		LogGroupName: g.Name, CreationTime: g.CreatedMS, Arn: GroupARN(g.Region, g.AccountID, g.Name) + ":*",
		StoredBytes: g.StoredBytes, KmsKeyId: g.KMSKeyARN, LogGroupClass: g.Class, LogGroupArn: GroupARN(g.Region, g.AccountID, g.Name),
		DeletionProtectionEnabled: g.DeletionProtection,
	}
	if g.Retention > 0 {
		r := g.Retention
		lg.RetentionInDays = &r
	}
	return lg
}

func (s *Service) describeLogGroups(ctx context.Context, c *catalog.Call, in *DescribeLogGroupsInput) (*DescribeLogGroupsOutput, error) {
	var v validator
	if in.LogGroupNamePrefix != nil && v.length("logGroupNamePrefix", *in.LogGroupNamePrefix, 1, 512) {
		v.pattern("logGroupNamePrefix", *in.LogGroupNamePrefix, groupNameRE, groupNamePattern)
	}
	if in.LogGroupNamePattern != nil && v.length("logGroupNamePattern", *in.LogGroupNamePattern, 0, 512) {
		v.pattern("logGroupNamePattern", *in.LogGroupNamePattern, groupPatRE, `[\.\-_/#A-Za-z0-9]*`)
	}
	v.rangeInt("limit", in.Limit, 1, 50)
	if in.NextToken != nil {
		v.length("nextToken", *in.NextToken, 1, 4096)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, invalidParam("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	if len(in.AccountIdentifiers) > 0 || (in.IncludeLinkedAccounts != nil && *in.IncludeLinkedAccounts) {
		return nil, invalidParam("Cross-account observability (accountIdentifiers, includeLinkedAccounts) is not supported by lextrail.")
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	hash := paramHash("DescribeLogGroups", deref(in.LogGroupNamePrefix), deref(in.LogGroupNamePattern), deref(in.LogGroupClass), strings.Join(in.LogGroupIdentifiers, ","))
	after := ""
	if in.NextToken != nil {
		var ok bool
		if after, ok = decodeNameToken(*in.NextToken, hash); !ok {
			return nil, errInvalidToken()
		}
	}
	q := `SELECT ` + groupCols + ` FROM logs_groups WHERE account_id = $1 AND region = $2 AND name > $3`
	args := []any{c.AccountID(), c.Region, after}
	if in.LogGroupNamePrefix != nil {
		// Range on the name index, then an exact prefix check.
		q += ` AND name >= $4`
		args = append(args, *in.LogGroupNamePrefix)
	}
	q += ` ORDER BY name`
	rows, err := c.Tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var idents map[string]bool
	if len(in.LogGroupIdentifiers) > 0 {
		idents = map[string]bool{}
		for _, id := range in.LogGroupIdentifiers {
			_, n := resolveIdent(c, id)
			idents[n] = true
		}
	}
	out := &DescribeLogGroupsOutput{LogGroups: []LogGroup{}}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		if in.LogGroupNamePrefix != nil && !strings.HasPrefix(g.Name, *in.LogGroupNamePrefix) {
			break // past the prefix range
		}
		if in.LogGroupNamePattern != nil && !strings.Contains(g.Name, *in.LogGroupNamePattern) {
			continue
		}
		if in.LogGroupClass != nil && g.Class != *in.LogGroupClass {
			continue
		}
		if idents != nil && !idents[g.Name] {
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = encodeNameToken(out.LogGroups[limit-1].LogGroupName, hash)
			break
		}
		out.LogGroups = append(out.LogGroups, g.describe())
	}
	return out, rows.Err()
}

// paramHash fingerprints the parameters a paging token belongs to.
func paramHash(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)[:8]
}

// encodeNameToken makes an opaque token resuming after name.
func encodeNameToken(name string, hash []byte) string {
	b := append(append([]byte{1}, hash...), name...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeNameToken(tok string, hash []byte) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 9 || b[0] != 1 || string(b[1:9]) != string(hash) {
		return "", false
	}
	return string(b[9:]), true
}

// ---- retention ----

// PutRetentionPolicyInput is PutRetentionPolicy's request.
type PutRetentionPolicyInput struct {
	LogGroupName    *string `json:"logGroupName,omitempty"`
	RetentionInDays *int32  `json:"retentionInDays,omitempty"`
}

func (in *PutRetentionPolicyInput) groupIdent() string { return deref(in.LogGroupName) }

func (s *Service) putRetentionPolicy(ctx context.Context, c *catalog.Call, in *PutRetentionPolicyInput) (*Empty, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if v.required("retentionInDays", in.RetentionInDays != nil) && !validRetention(*in.RetentionInDays) {
		v.add(itoa(int(*in.RetentionInDays)), "retentionInDays", "Member must satisfy enum value set: "+retentionList())
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `UPDATE logs_groups SET retention_days = $1 WHERE group_id = $2`, int64(*in.RetentionInDays), g.ID); err != nil {
		return nil, err
	}
	c.Tx.AfterCommit(s.wakePurge)
	return &Empty{}, nil
}

func (s *Service) deleteRetentionPolicy(ctx context.Context, c *catalog.Call, in *GroupNameInput) (*Empty, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	_, err = c.Tx.Exec(ctx, `UPDATE logs_groups SET retention_days = 0 WHERE group_id = $1`, g.ID)
	return &Empty{}, err
}

// ---- KMS association ----

// AssociateKmsKeyInput is AssociateKmsKey's request.
type AssociateKmsKeyInput struct {
	LogGroupName       *string `json:"logGroupName,omitempty"`
	KmsKeyId           *string `json:"kmsKeyId,omitempty"`
	ResourceIdentifier *string `json:"resourceIdentifier,omitempty"`
}

func (in *AssociateKmsKeyInput) groupIdent() string { return deref(in.LogGroupName) }

func (s *Service) associateKmsKey(ctx context.Context, c *catalog.Call, in *AssociateKmsKeyInput) (*Empty, error) {
	if in.ResourceIdentifier != nil {
		return nil, invalidParam("Encrypting query results (resourceIdentifier) is not supported by lextrail; give logGroupName.")
	}
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if v.required("kmsKeyId", in.KmsKeyId != nil) {
		v.length("kmsKeyId", *in.KmsKeyId, 0, 256)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	return &Empty{}, s.associateKey(ctx, c.Tx, c, g, *in.KmsKeyId)
}

// DisassociateKmsKeyInput is DisassociateKmsKey's request.
type DisassociateKmsKeyInput struct {
	LogGroupName       *string `json:"logGroupName,omitempty"`
	ResourceIdentifier *string `json:"resourceIdentifier,omitempty"`
}

func (in *DisassociateKmsKeyInput) groupIdent() string { return deref(in.LogGroupName) }

// disassociateKmsKey stops encrypting new events; events already stored
// stay encrypted and readable only while the key can be used (AWS).
func (s *Service) disassociateKmsKey(ctx context.Context, c *catalog.Call, in *DisassociateKmsKeyInput) (*Empty, error) {
	if in.ResourceIdentifier != nil {
		return nil, invalidParam("Encrypting query results (resourceIdentifier) is not supported by lextrail; give logGroupName.")
	}
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	_, err = c.Tx.Exec(ctx, `UPDATE logs_groups SET kms_key_arn = '', dek_id = 0 WHERE group_id = $1`, g.ID)
	return &Empty{}, err
}

func itoa(n int) string { return strconv.Itoa(n) }

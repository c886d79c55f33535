package lexmodels

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// Resource kinds in lex_resources.
const (
	kindBot      = "bot"
	kindIntent   = "intent"
	kindSlotType = "slottype"
)

const latest = "$LATEST"

// Build statuses (spec §2.5).
const (
	statusNotBuilt   = "NOT_BUILT"
	statusBuilding   = "BUILDING"
	statusBasic      = "READY_BASIC_TESTING"
	statusReady      = "READY"
	statusFailed     = "FAILED"
	statusCleanup    = "CLEANUP"
	processBuild     = "BUILD"
	processSave      = "SAVE"
	defaultIdleTTL   = 300
	maxVersions      = 100
	maxAliasesPerBot = 5
)

// scope is the account and region every Lex resource lives in.
type scope struct{ acct, region string }

func scopeOf(c *catalog.Call) scope { return scope{c.AccountID(), c.Region} }

// resource is one row of lex_resources.
type resource struct {
	Kind, Name, Version string
	VersionNum          int64
	Checksum            string
	Description         string
	Doc                 []byte
	ContentHash         string
	Status              string
	FailureReason       string
	BuildGen            int64
	Created, Updated    time.Time
}

const resourceCols = `kind, name, version, version_num, checksum, description, doc, content_hash, status, failure_reason, build_gen, created_ms, updated_ms`

type scanner interface{ Scan(...any) error }

func scanResource(s scanner) (*resource, error) {
	var r resource
	var doc string
	var c, u int64
	if err := s.Scan(&r.Kind, &r.Name, &r.Version, &r.VersionNum, &r.Checksum, &r.Description, &doc, &r.ContentHash, &r.Status, &r.FailureReason, &r.BuildGen, &c, &u); err != nil {
		return nil, err
	}
	r.Doc = []byte(doc)
	r.Created, r.Updated = store.FromMillis(c), store.FromMillis(u)
	return &r, nil
}

// getResource reads one version; nil when it does not exist.
func getResource(ctx context.Context, tx *store.Tx, sc scope, kind, name, version string) (*resource, error) {
	r, err := scanResource(tx.QueryRow(ctx, `SELECT `+resourceCols+` FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version=$5`,
		sc.acct, sc.region, kind, name, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// sameNameOtherCase finds an existing resource whose name differs from
// name only in case (names are unique case-insensitively, spec §2.1).
func sameNameOtherCase(ctx context.Context, tx *store.Tx, sc scope, kind, name string) (string, error) {
	var other string
	err := tx.QueryRow(ctx, `SELECT name FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name_lower=$4 AND name<>$5 LIMIT 1`,
		sc.acct, sc.region, kind, strings.ToLower(name), name).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return other, err
}

// The version queries below seek lex_resources_versions (migration 0350),
// the rows of one resource by version number (TestQueryPlans).

// latestNumbered returns the highest existing numbered version, or nil.
func latestNumbered(ctx context.Context, tx *store.Tx, sc scope, kind, name string) (*resource, error) {
	r, err := scanResource(tx.QueryRow(ctx, `SELECT `+resourceCols+` FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version_num>0 ORDER BY version_num DESC LIMIT 1`,
		sc.acct, sc.region, kind, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

func countVersions(ctx context.Context, tx *store.Tx, sc scope, kind, name string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version_num>0`,
		sc.acct, sc.region, kind, name).Scan(&n)
	return n, err
}

// insertResource writes a new row.
func insertResource(ctx context.Context, tx *store.Tx, sc scope, r *resource) error {
	_, err := tx.Exec(ctx, `INSERT INTO lex_resources (account_id, region, kind, name, version, version_num, name_lower, checksum, description, doc, content_hash, status, failure_reason, build_gen, created_ms, updated_ms)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
		sc.acct, sc.region, r.Kind, r.Name, r.Version, r.VersionNum, strings.ToLower(r.Name), r.Checksum, r.Description, string(r.Doc), r.ContentHash,
		r.Status, r.FailureReason, r.BuildGen, store.Millis(r.Created), store.Millis(r.Updated))
	if store.IsUniqueViolation(err) {
		return conflict("Another operation created %s %s at the same time. Try your request again.", r.Kind, r.Name)
	}
	return err
}

// updateLatest replaces a $LATEST row's definition, guarded by the
// checksum the caller read (a concurrent Put that won turns this into a
// 409 ConflictException).
func updateLatest(ctx context.Context, tx *store.Tx, sc scope, r *resource, oldChecksum string) error {
	res, err := tx.Exec(ctx, `UPDATE lex_resources SET checksum=$1, description=$2, doc=$3, content_hash=$4, status=$5, failure_reason=$6, build_gen=build_gen+1, build_owner='', build_lease_ms=0, updated_ms=$7
		WHERE account_id=$8 AND region=$9 AND kind=$10 AND name=$11 AND version='$LATEST' AND checksum=$12`,
		r.Checksum, r.Description, string(r.Doc), r.ContentHash, r.Status, r.FailureReason, store.Millis(r.Updated),
		sc.acct, sc.region, r.Kind, r.Name, oldChecksum)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return conflict("There was a conflict processing the request. Try your request again.")
	}
	return nil
}

// nextVersion advances the per-name high-water mark and returns the new
// version number.
func nextVersion(ctx context.Context, tx *store.Tx, sc scope, kind, name string) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `INSERT INTO lex_version_counters (account_id, region, kind, name, last_version) VALUES ($1,$2,$3,$4,1)
		ON CONFLICT (account_id, region, kind, name) DO UPDATE SET last_version = lex_version_counters.last_version + 1
		RETURNING last_version`, sc.acct, sc.region, kind, name).Scan(&n)
	return n, err
}

// ref is a dependency edge.
type ref struct{ kind, name, version string }

// setRefs replaces the outgoing edges of (kind, name, version).
func setRefs(ctx context.Context, tx *store.Tx, sc scope, from ref, to []ref) error {
	if _, err := tx.Exec(ctx, `DELETE FROM lex_refs WHERE account_id=$1 AND region=$2 AND from_kind=$3 AND from_name=$4 AND from_version=$5`,
		sc.acct, sc.region, from.kind, from.name, from.version); err != nil {
		return err
	}
	seen := map[ref]bool{}
	for _, t := range to {
		if seen[t] {
			continue
		}
		seen[t] = true
		if _, err := tx.Exec(ctx, `INSERT INTO lex_refs (account_id, region, from_kind, from_name, from_version, to_kind, to_name, to_version) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			sc.acct, sc.region, from.kind, from.name, from.version, t.kind, t.name, t.version); err != nil {
			return err
		}
	}
	return nil
}

// firstReferrer returns one resource that refers to (kind, name, version);
// an empty version means any version. ok is false when nothing does.
func firstReferrer(ctx context.Context, tx *store.Tx, sc scope, kind, name, version string) (ref, bool, error) {
	q := `SELECT from_kind, from_name, from_version FROM lex_refs WHERE account_id=$1 AND region=$2 AND to_kind=$3 AND to_name=$4`
	args := []any{sc.acct, sc.region, kind, name}
	if version != "" {
		q += ` AND to_version=$5`
		args = append(args, version)
	}
	q += ` ORDER BY from_name, from_version LIMIT 1`
	var r ref
	err := tx.QueryRow(ctx, q, args...).Scan(&r.kind, &r.name, &r.version)
	if errors.Is(err, sql.ErrNoRows) {
		return ref{}, false, nil
	}
	return r, err == nil, err
}

// referrers lists the resources that refer to (kind, name, version).
func referrers(ctx context.Context, tx *store.Tx, sc scope, kind, name, version string) ([]ref, error) {
	rows, err := tx.Query(ctx, `SELECT from_kind, from_name, from_version FROM lex_refs WHERE account_id=$1 AND region=$2 AND to_kind=$3 AND to_name=$4 AND to_version=$5`,
		sc.acct, sc.region, kind, name, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.kind, &r.name, &r.version); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// deleteVersion removes one version and its outgoing edges.
func deleteVersionRow(ctx context.Context, tx *store.Tx, sc scope, kind, name, version string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version=$5`,
		sc.acct, sc.region, kind, name, version); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM lex_refs WHERE account_id=$1 AND region=$2 AND from_kind=$3 AND from_name=$4 AND from_version=$5`,
		sc.acct, sc.region, kind, name, version)
	return err
}

// deleteAll removes every version of a resource, its edges and its
// version counter.
func deleteAll(ctx context.Context, tx *store.Tx, sc scope, kind, name string) error {
	for _, q := range []string{
		`DELETE FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4`,
		`DELETE FROM lex_refs WHERE account_id=$1 AND region=$2 AND from_kind=$3 AND from_name=$4`,
		`DELETE FROM lex_version_counters WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4`,
	} {
		if _, err := tx.Exec(ctx, q, sc.acct, sc.region, kind, name); err != nil {
			return err
		}
	}
	return nil
}

// newChecksum is an opaque checksum (the real service uses a UUID).
func newChecksum() string { return uuid.NewString() }

// contentHash identifies a definition's content for "unchanged since the
// last published version". Stored definitions are marshalled from Go
// structs, so equal content gives equal bytes.
func contentHash(doc []byte) string {
	h := sha256.Sum256(doc)
	return hex.EncodeToString(h[:])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func versionNum(v string) int64 {
	if v == latest {
		return 0
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// Paging tokens are opaque to clients: base64url of the last key served.

func encodeToken(key string) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte("k1:" + key))
	return &s
}

func decodeToken(t *string) (string, error) {
	if t == nil || *t == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*t)
	if err != nil || !strings.HasPrefix(string(b), "k1:") {
		return "", badRequest("The nextToken is not valid. Use the nextToken from a previous response.")
	}
	return string(b[3:]), nil
}

// outRefs lists the edges leaving (kind, name, version).
func outRefs(ctx context.Context, tx *store.Tx, sc scope, from ref) ([]ref, error) {
	rows, err := tx.Query(ctx, `SELECT to_kind, to_name, to_version FROM lex_refs WHERE account_id=$1 AND region=$2 AND from_kind=$3 AND from_name=$4 AND from_version=$5 ORDER BY to_kind, to_name, to_version`,
		sc.acct, sc.region, from.kind, from.name, from.version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.kind, &r.name, &r.version); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// exists reports whether (kind, name, version) exists.
func exists(ctx context.Context, tx *store.Tx, sc scope, kind, name, version string) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version=$5`,
		sc.acct, sc.region, kind, name, version).Scan(&n)
	return n > 0, err
}

func itoa(n int) string { return strconv.Itoa(n) }

// likePattern is a LIKE pattern matching names that contain s, compared
// case-insensitively against a name_lower column (ESCAPE '\').
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

var errNoRows = sql.ErrNoRows

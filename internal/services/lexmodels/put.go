package lexmodels

import (
	"context"
	"strconv"
	"time"

	"lextrail/internal/store"
)

// kindTitle names a kind in messages.
func kindTitle(kind string) string {
	switch kind {
	case kindBot:
		return "Bot"
	case kindIntent:
		return "Intent"
	default:
		return "Slot type"
	}
}

// putLatest applies the Put* decision table (spec §2.3) to the $LATEST
// row of (kind, name): create without a checksum, replace only with the
// current one. r carries the new definition (Doc, Description, Status);
// putLatest fills in version, checksum and dates. It returns the previous
// row (nil on create).
func putLatest(ctx context.Context, tx *store.Tx, sc scope, r *resource, checksum *string, now time.Time) (*resource, error) {
	old, err := getResource(ctx, tx, sc, r.Kind, r.Name, latest)
	if err != nil {
		return nil, err
	}
	r.Version, r.VersionNum = latest, 0
	r.ContentHash = contentHash(r.Doc)
	r.Checksum = newChecksum()
	r.Updated = now
	given := checksum != nil && *checksum != ""
	if old == nil {
		if given {
			return nil, badRequest("%s %s does not exist, so a checksum cannot be given. To create it, omit the checksum.", kindTitle(r.Kind), r.Name)
		}
		other, err := sameNameOtherCase(ctx, tx, sc, r.Kind, r.Name)
		if err != nil {
			return nil, err
		}
		if other != "" {
			return nil, badRequest("%s name %s already exists as %s. Names are unique regardless of case; choose a different name.", kindTitle(r.Kind), r.Name, other)
		}
		r.Created = now
		r.BuildGen = 1
		return nil, insertResource(ctx, tx, sc, r)
	}
	if !given {
		return nil, preconditionFailed("%s %s already exists. If you are trying to update %s you must specify the checksum.", kindTitle(r.Kind), r.Name, r.Name)
	}
	if *checksum != old.Checksum {
		return nil, preconditionFailed("The checksum value %s does not match the checksum of %s %s. Get the current checksum and try again.", *checksum, kindTitle(r.Kind), r.Name)
	}
	r.Created = old.Created
	r.BuildGen = old.BuildGen + 1
	return old, updateLatest(ctx, tx, sc, r, old.Checksum)
}

// markBotsNotBuilt flips every bot whose $LATEST uses the $LATEST of
// (kind, name) to NOT_BUILT — directly for intents, through $LATEST
// intents for slot types (spec §2.3).
func markBotsNotBuilt(ctx context.Context, tx *store.Tx, sc scope, kind, name string, now time.Time) error {
	intents := []string{name}
	if kind == kindSlotType {
		intents = nil
		refs, err := referrers(ctx, tx, sc, kindSlotType, name, latest)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if r.kind == kindIntent && r.version == latest {
				intents = append(intents, r.name)
			}
		}
	}
	for _, in := range intents {
		refs, err := referrers(ctx, tx, sc, kindIntent, in, latest)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if r.kind != kindBot || r.version != latest {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE lex_resources SET status='NOT_BUILT', failure_reason='', build_gen=build_gen+1, build_owner='', build_lease_ms=0
				WHERE account_id=$1 AND region=$2 AND kind='bot' AND name=$3 AND version='$LATEST' AND status<>'NOT_BUILT'`,
				sc.acct, sc.region, r.name); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM lex_models WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_version='$LATEST'`,
				sc.acct, sc.region, r.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// publish snapshots $LATEST of (kind, name) as the next numbered version,
// or returns the newest numbered version when $LATEST is unchanged since
// it (spec §2.4). deps are $LATEST's edges; every one must be numbered.
func publish(ctx context.Context, tx *store.Tx, sc scope, kind, name string, checksum *string, now time.Time, deps []ref) (*resource, error) {
	cur, err := getResource(ctx, tx, sc, kind, name, latest)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, notFound("%s %s does not exist. Check the name and try again.", kindTitle(kind), name)
	}
	if checksum != nil && *checksum != "" && *checksum != cur.Checksum {
		return nil, preconditionFailed("The checksum value %s does not match the checksum of the $LATEST version of %s %s.", *checksum, kindTitle(kind), name)
	}
	for _, d := range deps {
		if d.version == latest {
			return nil, badRequest("Resource '%s' should refer to immutable versions to create new version", name)
		}
	}
	top, err := latestNumbered(ctx, tx, sc, kind, name)
	if err != nil {
		return nil, err
	}
	if top != nil && top.ContentHash == cur.ContentHash {
		return top, nil
	}
	if n, err := countVersions(ctx, tx, sc, kind, name); err != nil {
		return nil, err
	} else if n >= maxVersions {
		return nil, badRequest("%s %s already has %d versions, the limit. Delete a version and try again.", kindTitle(kind), name, n)
	}
	num, err := nextVersion(ctx, tx, sc, kind, name)
	if err != nil {
		return nil, err
	}
	v := *cur
	v.Version = formatVersion(num)
	v.VersionNum = num
	v.Checksum = newChecksum()
	v.Created, v.Updated = now, now
	v.FailureReason = ""
	v.BuildGen = 1
	if kind == kindBot {
		v.Status = statusBuilding
	}
	if err := insertResource(ctx, tx, sc, &v); err != nil {
		return nil, err
	}
	if err := setRefs(ctx, tx, sc, ref{kind, name, v.Version}, deps); err != nil {
		return nil, err
	}
	return &v, nil
}

func formatVersion(n int64) string {
	return strconv.FormatInt(n, 10)
}

package lexmodels

import (
	"context"
	"strings"
	"testing"

	"lextrail/internal/store"
)

// TestQueryPlans pins SQLite's plans for the statements that must seek
// (not scan) as an account grows: the case-insensitive name check of every
// Put seeks lex_resources_lower; a nameContains listing walks
// lex_resources_list in name order (no sort) and reads name_lower from it;
// version lookups seek the resource's own rows.
func TestQueryPlans(t *testing.T) {
	db := openTestDB(t, TestDrivers[0])
	ctx := context.Background()
	for _, tc := range []struct {
		q    string
		args []any
		want string
	}{
		{`SELECT name FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name_lower=$4 AND name<>$5 LIMIT 1`,
			[]any{"1", "r", "bot", "x", "y"}, "USING COVERING INDEX lex_resources_lower (account_id=? AND region=? AND kind=? AND name_lower=?"},
		{`SELECT ` + resourceCols + ` FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND version_num=0 AND name > $4 AND name_lower LIKE $5 ESCAPE '\' ORDER BY name LIMIT 51`,
			[]any{"1", "r", "bot", "", "%zz%"}, "USING INDEX lex_resources_list (account_id=? AND region=? AND kind=? AND version_num=? AND name>?)"},
		// Version lookups seek the resource's own rows by number.
		{`SELECT ` + resourceCols + ` FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version_num>0 ORDER BY version_num DESC LIMIT 1`,
			[]any{"1", "r", "bot", "x"}, "INDEX lex_resources_versions (account_id=? AND region=? AND kind=? AND name=? AND version_num>?)"},
		{`SELECT COUNT(*) FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version_num>0`,
			[]any{"1", "r", "bot", "x"}, "INDEX lex_resources_versions (account_id=? AND region=? AND kind=? AND name=? AND version_num>?)"},
		{`SELECT ` + resourceCols + ` FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version_num > $5 ORDER BY version_num LIMIT 11`,
			[]any{"1", "r", "bot", "x", 0}, "INDEX lex_resources_versions (account_id=? AND region=? AND kind=? AND name=? AND version_num>?)"},
	} {
		var plan []string
		err := db.Read(ctx, func(tx *store.Tx) error {
			rows, err := tx.Query(ctx, "EXPLAIN QUERY PLAN "+tc.q, tc.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					return err
				}
				plan = append(plan, detail)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, tc.want) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s\nplan %q, want %q", tc.q, got, tc.want)
		}
	}
}

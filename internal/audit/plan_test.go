package audit

import (
	"strings"
	"testing"
	"time"

	"lextrail/internal/store"
)

// TestLookupPlans (SQLite): every attribute lookup, with and without a
// time window and a paging position, seeks its attribute's range of
// event_index and reads the tail by sequence number. None scans a table.
func TestLookupPlans(t *testing.T) {
	db := openSQLite(t)
	base := time.Unix(1767225600, 0)
	for _, attr := range append([]string{""}, Attributes...) {
		for _, window := range []bool{false, true} {
			q := Query{AccountID: "111122223333", Region: "eu-west-1", Attr: attr, Value: "x", Limit: 51}
			if window {
				q.After = &Position{TimeMs: base.UnixMilli(), Seq: 5}
				q.Start = base.Add(-time.Hour)
			}
			text, args := lookupSQL(q, false, indexView{upto: 10, scope: 1, scoped: true})
			plan := queryPlan(t, db, text, args...)
			all := strings.Join(plan, "\n")
			want := []string{"SEARCH x USING PRIMARY KEY (scope=? AND attr=? AND value=?", "SEARCH e USING INTEGER PRIMARY KEY (rowid>?)"}
			for _, w := range want {
				if !strings.Contains(all, w) {
					t.Errorf("%q (window %v): plan %q, want %q", attr, window, plan, w)
				}
			}
			if strings.Contains(all, "SCAN e") || strings.Contains(all, "SCAN x") {
				t.Errorf("%q (window %v): plan %q scans a table", attr, window, plan)
			}
		}
	}
}

// TestIndexPlan (SQLite): the indexer reads the batch's events by rowid
// range (twice: attributes and resources) and each event's scope by the
// unique index; the purge finds entries by their primary key.
func TestIndexPlan(t *testing.T) {
	db := openSQLite(t)
	plan := strings.Join(queryPlan(t, db, indexSQLs[0], 1, 2), "\n")
	if strings.Count(plan, "SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)") != 2 ||
		strings.Count(plan, "SEARCH s USING COVERING INDEX sqlite_autoindex_audit_scopes_1 (account_id=? AND region=?)") != 2 ||
		strings.Contains(plan, "SCAN e") {
		t.Errorf("indexer plan:\n%s", plan)
	}
	plan = strings.Join(queryPlan(t, db, `DELETE FROM event_index WHERE (scope, attr, value, event_time_ms, seq) IN (`+entriesSQL(false, "e.seq IN (1,2,3)")+`)`), "\n")
	if !strings.Contains(plan, "SEARCH event_index USING PRIMARY KEY") || strings.Contains(plan, "SCAN e") {
		t.Errorf("purge plan:\n%s", plan)
	}
}

func queryPlan(t *testing.T, db *store.DB, text string, args ...any) []string {
	t.Helper()
	var plan []string
	err := db.Write(bg, func(tx *store.Tx) error {
		rs, err := tx.Query(bg, "EXPLAIN QUERY PLAN "+text, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var a, b, c int
			var d string
			if err := rs.Scan(&a, &b, &c, &d); err != nil {
				return err
			}
			plan = append(plan, d)
		}
		return rs.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

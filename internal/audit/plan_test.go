package audit

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"lextrail/internal/store"
)

// TestLookupPlans (SQLite): every attribute lookup, with and without a
// time window and a paging position, reads the tail by sequence number;
// EventId seeks event_ids by its primary key, every other attribute
// seeks its posting rows by theirs; the rows are fetched by rowid. None
// scans a table.
func TestLookupPlans(t *testing.T) {
	db := openSQLite(t)
	base := time.Unix(1767225600, 0)
	check := func(name, text string, args []any, want ...string) {
		t.Helper()
		plan := queryPlan(t, db, text, args...)
		all := strings.Join(plan, "\n")
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: plan %q, want %q", name, plan, w)
			}
		}
		if strings.Contains(all, "SCAN e") || strings.Contains(all, "SCAN x") || strings.Contains(all, "SCAN event") {
			t.Errorf("%s: plan %q scans a table", name, plan)
		}
	}
	for _, attr := range append([]string{""}, Attributes...) {
		for _, window := range []bool{false, true} {
			q := Query{AccountID: "111122223333", Region: "eu-west-1", Attr: attr, Value: "x", Limit: 51}
			if window {
				q.After = &Position{TimeMs: base.UnixMilli(), Seq: 5}
				q.Start = base.Add(-time.Hour)
			}
			ix := indexView{upto: 10, scope: 1, scoped: true}
			name := fmt.Sprintf("%q (window %v)", attr, window)
			text, args := lookupSQL(q, false, ix)
			check(name+" tail", text, args, "SEARCH e USING INTEGER PRIMARY KEY (rowid>?)")
			if attr == AttrEventID {
				text, args := eventIDSQL(q, false, ix)
				check(name+" index", text, args, "SEARCH x USING PRIMARY KEY (event_id=? AND seq<?)", "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)")
			}
		}
	}
	check("postings", `SELECT max_t, max_seq, list FROM event_postings WHERE scope = $1 AND attr = $2 AND value = $3 AND (max_t, max_seq) < ($4, $5) ORDER BY max_t DESC, max_seq DESC LIMIT $6`,
		[]any{1, "n", "x", 5, 6, 4}, "SEARCH event_postings USING PRIMARY KEY (scope=? AND attr=? AND value=? AND (max_t,max_seq)<(?,?))")
	check("rows", `SELECT `+rowColumns+` FROM events e WHERE e.seq IN (1,2,3) ORDER BY e.event_time_ms DESC, e.seq DESC`, nil, "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)")
}

// TestIndexPlan (SQLite): the indexer reads the batch's events by rowid
// range; the purge deletes posting rows and event IDs by their primary
// keys.
func TestIndexPlan(t *testing.T) {
	db := openSQLite(t)
	for _, tc := range []struct {
		text string
		args []any
		want string
	}{
		{`SELECT ` + eventColumnsIndexed + ` FROM events WHERE seq > $1 AND seq <= $2 AND category = 'Management' ORDER BY seq`, []any{1, 2}, "SEARCH events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"},
		{`DELETE FROM event_postings WHERE scope = $1 AND attr = $2 AND value = $3 AND max_t >= $4 AND max_t < $5 AND max_seq <= $6`, []any{1, "n", "x", 1, 2, 3},
			"SEARCH event_postings USING PRIMARY KEY (scope=? AND attr=? AND value=? AND max_t>? AND max_t<?)"},
		{`DELETE FROM event_ids WHERE event_id IN (SELECT value` + jsonScalars(false) + `) AND seq <= $2`, []any{`["a"]`, 3}, "SEARCH event_ids USING PRIMARY KEY (event_id=? AND seq<?)"},
	} {
		plan := strings.Join(queryPlan(t, db, tc.text, tc.args...), "\n")
		if !strings.Contains(plan, tc.want) || strings.Contains(plan, "SCAN event") {
			t.Errorf("%s: plan:\n%s\nwant %s", tc.text, plan, tc.want)
		}
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

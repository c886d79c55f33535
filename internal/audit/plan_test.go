package audit

import (
	"strings"
	"testing"
	"time"

	"lextrail/internal/store"
)

// TestLookupPlans (SQLite): every attribute lookup, with and without a
// time window and a paging position, seeks its attribute's own index
// (without statistics SQLite otherwise scanned the time-only index and
// filtered rare values out of millions of rows).
func TestLookupPlans(t *testing.T) {
	db := openSQLite(t)
	base := time.Unix(1767225600, 0)
	want := map[string]string{AttrEventID: "sqlite_autoindex_events_2", AttrAccessKeyID: "events_by_key",
		AttrReadOnly: "events_by_readonly", AttrEventName: "events_by_name", AttrUsername: "events_by_user",
		AttrEventSource: "events_by_source", AttrResourceName: "event_attrs_lookup", AttrResourceType: "event_attrs_lookup", "": "events_recent"}
	for attr, ix := range want {
		for _, window := range []bool{false, true} {
			q := Query{AccountID: "111122223333", Region: "eu-west-1", Attr: attr, Value: "x", Limit: 51}
			if window {
				q.After = &Position{TimeMs: base.UnixMilli(), Seq: 5}
				q.Start = base.Add(-time.Hour)
			}
			text, args := lookupSQL(q, true)
			var plan []string
			err := db.Read(bg, func(tx *store.Tx) error {
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
			if len(plan) == 0 || !strings.Contains(plan[0], "INDEX "+ix+" ") {
				t.Errorf("%q (window %v): plan %q, want a search of %s", attr, window, plan, ix)
			}
		}
	}
}

package audit

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

// TestMigrationEventIndex (both drivers): a history written with the schema
// before migration 0260 (six indexes on events, event_attrs rows) is
// carried over: every event keeps its row, gains its resources column and
// its index entries, the index covers the whole counter, the old indexes
// and event_attrs are gone, every attribute finds the same events as
// before, and new events index on top (a new scope numbered after the old
// ones).
func TestMigrationEventIndex(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			url := "sqlite://" + t.TempDir() + "/audit.db"
			if driver == "postgres" {
				url = pgtest.Start(t)
			}
			old, err := store.Open(bg, store.Config{URL: url, MigrationsBefore: "0260_"})
			if err != nil {
				t.Fatal(err)
			}
			base := time.Unix(1767225600, 0)
			type oldEvent struct {
				ev    *Event
				attrs [][2]string // event_attrs rows as the old Insert wrote them
			}
			var evs []oldEvent
			for i := 0; i < 40; i++ {
				ev := testEvent([]string{"111122223333", "444455556666"}[i%2], base.Add(time.Duration(i)*time.Second))
				ev.Region = []string{"eu-west-1", "us-east-1", "eu-west-1"}[i%3]
				ev.EventName = fmt.Sprintf("Op%d", i%4)
				ev.Username = fmt.Sprintf("user%d", i%5)
				ev.ReadOnly = i%3 == 0
				var attrs [][2]string
				switch i % 4 {
				case 0: // no resources
					ev.Resources = nil
				case 1:
					ev.Resources = []catalog.Resource{{ARN: fmt.Sprintf("arn:aws:things:eu-west-1:1:thing/t%d", i), Type: "AWS::Things::Thing"}}
					attrs = [][2]string{{"ResourceType", "AWS::Things::Thing"}, {"ResourceName", ev.Resources[0].ARN}, {"ResourceName", fmt.Sprintf("t%d", i)}}
				case 2: // a data event: no attribute rows
					ev.Category = CategoryData
				case 3: // no username, no key (a service acting)
					ev.Username, ev.AccessKeyID = "", ""
					ev.Resources = []catalog.Resource{{ARN: "arn:aws:things:eu-west-1:1:thing/shared", Type: "AWS::Things::Other"}}
					attrs = [][2]string{{"ResourceType", "AWS::Things::Other"}, {"ResourceName", ev.Resources[0].ARN}, {"ResourceName", "shared"}}
				}
				ev.Seq = int64(i + 1)
				evs = append(evs, oldEvent{ev, attrs})
			}
			err = old.Write(bg, func(tx *store.Tx) error {
				for _, o := range evs {
					ev := o.ev
					if _, err := tx.Exec(bg, `INSERT INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
						ev.Seq, ev.EventID, ev.RequestID, ev.AccountID, ev.Region, ev.TimeMs, ev.Category, readOnlyValue(ev.ReadOnly), ev.EventName, ev.EventSource, ev.Username, ev.AccessKeyID, string(ev.Record)); err != nil {
						return err
					}
					for _, a := range o.attrs {
						if _, err := tx.Exec(bg, `INSERT INTO event_attrs (account_id, region, attr, value, event_time_ms, seq) VALUES ($1, $2, $3, $4, $5, $6)`,
							ev.AccountID, ev.Region, a[0], a[1], ev.TimeMs, ev.Seq); err != nil {
							return err
						}
					}
				}
				_, err := tx.Exec(bg, `UPDATE audit_counter SET n = $1`, int64(len(evs)))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			old.Close()

			db, err := store.Open(bg, store.Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			// The resources column.
			err = db.Read(bg, func(tx *store.Tx) error {
				for _, o := range evs {
					var res *string
					if err := tx.QueryRow(bg, `SELECT resources FROM events WHERE seq = $1`, o.ev.Seq).Scan(&res); err != nil {
						return err
					}
					var got, want []string
					if res != nil {
						if err := json.Unmarshal([]byte(*res), &got); err != nil {
							return fmt.Errorf("seq %d: resources %q: %v", o.ev.Seq, *res, err)
						}
					}
					for _, a := range o.attrs {
						want = append(want, attrCode[a[0]]+a[1])
					}
					slices.Sort(got)
					slices.Sort(want)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("seq %d: resources %v, want %v", o.ev.Seq, got, want)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The index covers everything; the old structures are gone.
			if n, err := Pending(bg, db); err != nil || n != 0 {
				t.Errorf("pending after the migration: %d, %v", n, err)
			}
			err = db.Read(bg, func(tx *store.Tx) error {
				_, err := tx.Exec(bg, `SELECT 1 FROM event_attrs`)
				return err
			})
			if err == nil {
				t.Error("event_attrs still exists")
			}
			if driver == "sqlite" {
				var n int
				db.Read(bg, func(tx *store.Tx) error {
					return tx.QueryRow(bg, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`).Scan(&n)
				})
				if n != 0 {
					t.Errorf("%d old indexes left on events", n)
				}
			}

			// Every attribute finds what the old schema found.
			check := func(state string, evs []oldEvent) {
				t.Helper()
				for _, acct := range []string{"111122223333", "444455556666"} {
					for _, region := range []string{"eu-west-1", "us-east-1"} {
						for _, tc := range []struct{ attr, value string }{
							{"", ""}, {AttrEventName, "Op1"}, {AttrEventName, "Op3"}, {AttrReadOnly, "true"}, {AttrReadOnly, "false"},
							{AttrUsername, "user1"}, {AttrUsername, "user3"}, {AttrEventSource, "things.amazonaws.com"},
							{AttrAccessKeyID, "AKIAROOTEXAMPLE00001"}, {AttrResourceType, "AWS::Things::Other"},
							{AttrResourceName, "shared"}, {AttrResourceName, "t9"}, {AttrResourceName, "arn:aws:things:eu-west-1:1:thing/t21"},
							{AttrEventID, evs[5].ev.EventID},
						} {
							var want []int64
							for i := len(evs) - 1; i >= 0; i-- {
								ev := evs[i].ev
								if ev.AccountID != acct || ev.Region != region || ev.Category != CategoryManagement {
									continue
								}
								match := false
								switch tc.attr {
								case "":
									match = true
								case AttrEventName:
									match = ev.EventName == tc.value
								case AttrReadOnly:
									match = readOnlyValue(ev.ReadOnly) == tc.value
								case AttrUsername:
									match = ev.Username == tc.value
								case AttrEventSource:
									match = ev.EventSource == tc.value
								case AttrAccessKeyID:
									match = ev.AccessKeyID == tc.value
								case AttrEventID:
									match = ev.EventID == tc.value
								case AttrResourceType, AttrResourceName:
									for _, a := range evs[i].attrs {
										match = match || (a[0] == tc.attr && a[1] == tc.value)
									}
								}
								if match {
									want = append(want, ev.Seq)
								}
							}
							rows, err := Lookup(bg, db, Query{AccountID: acct, Region: region, Attr: tc.attr, Value: tc.value, Limit: 100})
							if err != nil {
								t.Fatal(err)
							}
							var got []int64
							for _, r := range rows {
								got = append(got, r.Seq)
							}
							if !slices.Equal(got, want) {
								t.Errorf("%s: %s/%s %s=%s: %v, want %v", state, acct, region, tc.attr, tc.value, got, want)
							}
						}
					}
				}
			}
			check("migrated", evs)

			// New events after the migration: a new scope, numbered after
			// the four the migration made.
			nev := testEvent("777788889999", base.Add(time.Hour))
			nev.Region = "eu-west-1"
			if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, []*Event{nev}) }); err != nil {
				t.Fatal(err)
			}
			if err := db.Write(bg, func(tx *store.Tx) error { _, err := IndexPending(bg, db, tx, 0); return err }); err != nil {
				t.Fatal(err)
			}
			var scopes, newScope int64
			db.Read(bg, func(tx *store.Tx) error {
				tx.QueryRow(bg, `SELECT COUNT(*) FROM audit_scopes`).Scan(&scopes)
				return tx.QueryRow(bg, `SELECT id FROM audit_scopes WHERE account_id = '777788889999'`).Scan(&newScope)
			})
			if scopes != 5 || newScope != 5 {
				t.Errorf("%d scopes, the new one numbered %d; want 5, 5", scopes, newScope)
			}
			rows, err := Lookup(bg, db, Query{AccountID: "777788889999", Region: "eu-west-1", Attr: AttrResourceName, Value: "t", Limit: 10})
			if err != nil || len(rows) != 1 || rows[0].EventID != nev.EventID {
				t.Errorf("new event by ResourceName: %d rows, %v", len(rows), err)
			}
			check("after new events", evs)
		})
	}
}

package audit

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"lextrail/internal/store"
)

func TestBlockRoundTrip(t *testing.T) {
	big := []byte(`{"a":"` + strings.Repeat("x", maxBlock) + `"}`)
	for _, tc := range []struct {
		name string
		recs [][]byte
		ok   bool
	}{
		{"one", [][]byte{[]byte(`{"eventVersion":"1.08"}`)}, true},
		{"several", [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`), []byte(`{"a":1}`)}, true},
		{"a long one", [][]byte{[]byte(`{"a":"` + strings.Repeat("yz", 40000) + `"}`), []byte(`{}`)}, true},
		{"too large", [][]byte{big}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, ok := appendBlock([]byte("prefix"), tc.recs)
			if ok != tc.ok {
				t.Fatalf("appendBlock ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if string(data) != "prefix" {
					t.Fatalf("appended %d bytes to a block it refused", len(data)-6)
				}
				return
			}
			if !bytes.HasPrefix(data, []byte("prefix")) {
				t.Fatal("prefix lost")
			}
			got, err := decodeBlock(data[6:], int64(len(tc.recs)))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.recs {
				if !bytes.Equal(got[i], tc.recs[i]) {
					t.Errorf("record %d: %q, want %q", i, got[i], tc.recs[i])
				}
			}
			if _, err := decodeBlock(data[6:], int64(len(tc.recs)+1)); err == nil {
				t.Error("a block decoded as one of a record more")
			}
			if _, err := decodeBlock(data[6:len(data)-1], int64(len(tc.recs))); err == nil {
				t.Error("a truncated block decoded")
			}
		})
	}
}

func FuzzDecodeBlock(f *testing.F) {
	for _, recs := range [][][]byte{{[]byte(`{}`)}, {[]byte(`{"a":1}`), []byte(`{"b":[1,2]}`)}} {
		data, _ := appendBlock(nil, recs)
		f.Add(data, int64(len(recs)))
	}
	f.Add([]byte{blockS2, 0xff, 0xff, 0xff, 0xff, 0x0f}, int64(1))
	f.Fuzz(func(t *testing.T, data []byte, count int64) {
		recs, err := decodeBlock(data, count)
		if err != nil {
			return
		}
		if int64(len(recs)) != count {
			t.Fatalf("%d records, want %d", len(recs), count)
		}
		again, ok := appendBlock(nil, recs)
		if !ok {
			t.Fatal("a decoded block does not encode")
		}
		back, err := decodeBlock(again, count)
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			if !bytes.Equal(back[i], recs[i]) {
				t.Fatalf("record %d changed", i)
			}
		}
	})
}

// TestInsertBlocks: on SQLite the records of a multi-event Insert go to
// one block and every reader finds them there; a single event, and every
// event on PostgreSQL, keeps its record in its row.
func TestInsertBlocks(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) { testInsertBlocks(t, open(t)) })
	}
}

func testInsertBlocks(t *testing.T, db *store.DB) {
	pg := db.Driver() == store.DriverPostgres
	at := time.Unix(1767225600, 0)
	var evs []*Event
	want := map[int64][]byte{}
	for i := 0; i < 5; i++ {
		ev := testEvent("111122223333", at.Add(time.Duration(i)*time.Second))
		ev.EventName = fmt.Sprint("Op", i)
		evs = append(evs, ev)
	}
	one := testEvent("111122223333", at.Add(10*time.Second))
	for _, batch := range [][]*Event{evs, {one}} {
		if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, batch) }); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range append(evs, one) {
		want[ev.Seq] = ev.Record
	}
	var inline, blocks int
	var first, last int64
	db.Read(bg, func(tx *store.Tx) error {
		if err := tx.QueryRow(bg, `SELECT COUNT(*) FROM events WHERE record <> ''`).Scan(&inline); err != nil {
			t.Fatal(err)
		}
		return tx.QueryRow(bg, `SELECT COUNT(*), COALESCE(MIN(first_seq), 0), COALESCE(MAX(last_seq), 0) FROM event_blocks`).Scan(&blocks, &first, &last)
	})
	if pg && (inline != 6 || blocks != 0) {
		t.Errorf("PostgreSQL: %d records inline, %d blocks; want 6, 0", inline, blocks)
	}
	if !pg && (inline != 1 || blocks != 1 || first != evs[0].Seq || last != evs[4].Seq) {
		t.Errorf("SQLite: %d records inline, %d blocks (%d-%d); want 1, 1 (%d-%d)", inline, blocks, first, last, evs[0].Seq, evs[4].Seq)
	}
	// Every reader: Lookup, ReadSeq, StoredRecords.
	rows, err := Lookup(bg, db, Query{AccountID: "111122223333", Region: "eu-west-1", Limit: 50})
	if err != nil || len(rows) != 6 {
		t.Fatalf("lookup: %d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		if r.Record != string(want[r.Seq]) {
			t.Errorf("lookup: event %d record %s, want %s", r.Seq, r.Record, want[r.Seq])
		}
	}
	n := 0
	err = ReadSeq(bg, db, "", 0, one.Seq, 2, func(ev *SeqEvent) error {
		n++
		if !bytes.Equal(ev.Record, want[ev.Seq]) {
			t.Errorf("ReadSeq: event %d record %s", ev.Seq, ev.Record)
		}
		return nil
	})
	if err != nil || n != 6 {
		t.Errorf("ReadSeq: %d events, %v", n, err)
	}
	n = 0
	err = db.Read(bg, func(tx *store.Tx) error {
		return StoredRecords(bg, tx, func(seq int64, rec []byte) error {
			n++
			if !bytes.Equal(rec, want[seq]) {
				t.Errorf("StoredRecords: event %d record %s", seq, rec)
			}
			return nil
		})
	})
	if err != nil || n != 6 {
		t.Errorf("StoredRecords: %d events, %v", n, err)
	}
	if pg {
		return
	}
	// A damaged block is an error for its readers, never a panic or a
	// wrong record.
	if err := db.Write(bg, func(tx *store.Tx) error {
		_, err := tx.Exec(bg, `UPDATE event_blocks SET data = $1`, []byte{blockS2, 3, 1, 2})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(bg, db, Query{AccountID: "111122223333", Region: "eu-west-1", Limit: 50}); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("lookup over a damaged block: %v", err)
	}
	if err := ReadSeq(bg, db, "", 0, one.Seq, 10, func(*SeqEvent) error { return nil }); err == nil {
		t.Error("ReadSeq over a damaged block succeeded")
	}
	// A missing block likewise.
	if err := db.Write(bg, func(tx *store.Tx) error {
		_, err := tx.Exec(bg, `DELETE FROM event_blocks`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(bg, db, Query{AccountID: "111122223333", Region: "eu-west-1", Limit: 50}); err == nil || !strings.Contains(err.Error(), "no record and no block") {
		t.Errorf("lookup with a block missing: %v", err)
	}
}

// TestInsertBlockSizes (SQLite): an Insert's records go in blocks of at
// most blockEvents records and blockBytes bytes; a run too short to share
// a block, or a record too large for one, stays in its row.
func TestInsertBlockSizes(t *testing.T) {
	at := time.Unix(1767225600, 0)
	for _, tc := range []struct {
		name           string
		n, pad         int // events; bytes added to each record
		blocks, inline int
	}{
		{"two", 2, 0, 1, 0},
		{"a full block", blockEvents, 0, 1, 0},
		{"one over", blockEvents + 1, 0, 1, 1},
		{"two over", blockEvents + 2, 0, 2, 0},
		{"by bytes", 6, blockBytes / 3, 3, 0},   // two records a block
		{"one each", 3, blockBytes, 0, 3},       // each alone: stays in its row
		{"too large", 2, maxBlock, 0, 2},        // over maxBlock together
		{"mixed", 3, blockBytes/2 - 1000, 1, 1}, // two fit, the third alone
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openSQLite(t)
			var evs []*Event
			for i := 0; i < tc.n; i++ {
				ev := testEvent("111122223333", at)
				if tc.pad > 0 {
					ev.Record = append([]byte(`{"pad":"`+strings.Repeat("p", tc.pad)+`",`), ev.Record[1:]...)
				}
				evs = append(evs, ev)
			}
			if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
				t.Fatal(err)
			}
			var blocks, inline int
			err := db.Read(bg, func(tx *store.Tx) error {
				if err := tx.QueryRow(bg, `SELECT COUNT(*) FROM event_blocks`).Scan(&blocks); err != nil {
					return err
				}
				if err := tx.QueryRow(bg, `SELECT COUNT(*) FROM events WHERE record <> ''`).Scan(&inline); err != nil {
					return err
				}
				n := 0
				err := StoredRecords(bg, tx, func(seq int64, rec []byte) error {
					if !bytes.Equal(rec, evs[seq-evs[0].Seq].Record) {
						t.Errorf("event %d: record differs", seq)
					}
					n++
					return nil
				})
				if n != tc.n {
					t.Errorf("%d stored records, want %d", n, tc.n)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if blocks != tc.blocks || inline != tc.inline {
				t.Errorf("%d blocks, %d records in their rows; want %d, %d", blocks, inline, tc.blocks, tc.inline)
			}
		})
	}
}

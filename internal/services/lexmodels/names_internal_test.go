package lexmodels

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lextrail/internal/store"
)

// TestNameCache (SQLite): nameContains listings served from the name
// cache page exactly as the listing index's scan does, for many filters
// and page sizes; and a listing through one process sees, at once, a bot
// another process (its own connections and cache) created or deleted.
func TestNameCache(t *testing.T) {
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "lex.db")
	open := func() (*store.DB, *Service) {
		db, err := store.Open(ctx, store.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, New(Config{DB: db})
	}
	dbA, a := open()
	dbB, b := open()
	if a.names == nil || b.names == nil {
		t.Fatal("no name cache on SQLite")
	}
	sc := scope{"111122223333", "us-east-1"}
	fillBots(t, dbA, sc, 700)

	// page lists every page of a nameContains filter through s.
	page := func(s *Service, db *store.DB, sub string, size int) []string {
		t.Helper()
		var names []string
		var tok *string
		for {
			var out []Metadata
			var next *string
			err := db.Read(ctx, func(tx *store.Tx) error {
				var err error
				out, next, err = s.listLatest(ctx, tx, sc, kindBot, &ListInput{MaxResults: ptr(size), NameContains: ptr(sub), NextToken: tok})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out {
				if m.Version != latest || m.Status != "NOT_BUILT" || m.Description == "" || m.CreatedDate == nil {
					t.Fatalf("item %+v", m)
				}
				names = append(names, m.Name)
			}
			if next == nil {
				return names
			}
			tok = next
		}
	}
	scan := &Service{cfg: a.cfg} // no cache: the listing index's LIKE scan
	for _, sub := range []string{"a", "ab", "BA", "zz", "bot", "qqq", "Botb"} {
		for _, size := range []int{1, 7, 50} {
			got, want := page(a, dbA, sub, size), page(scan, dbA, sub, size)
			if !slices.Equal(got, want) {
				t.Fatalf("nameContains %q, pages of %d: cache %v, scan %v", sub, size, got, want)
			}
		}
	}

	// Another process creates and deletes a bot: a's cached names must
	// not hide either.
	before := page(a, dbA, "zz", 50)
	err := dbB.Write(ctx, func(tx *store.Tx) error {
		now := time.Now()
		return insertResource(ctx, tx, sc, &resource{Kind: kindBot, Name: "Botzzznew", Version: latest, Checksum: "c", Description: "d",
			Doc: []byte(`{}`), ContentHash: "h", Status: "NOT_BUILT", Created: now, Updated: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := page(a, dbA, "zz", 50); !slices.Contains(got, "Botzzznew") || len(got) != len(before)+1 {
		t.Fatalf("after another process created Botzzznew: %v (before %v)", got, before)
	}
	if err := dbB.Write(ctx, func(tx *store.Tx) error { return deleteAll(ctx, tx, sc, kindBot, "Botzzznew") }); err != nil {
		t.Fatal(err)
	}
	if got := page(a, dbA, "zz", 50); !slices.Equal(got, before) {
		t.Fatalf("after another process deleted Botzzznew: %v, want %v", got, before)
	}
	// And b lists the same.
	if got := page(b, dbB, "zz", 50); !slices.Equal(got, before) {
		t.Fatalf("through the other process: %v, want %v", got, before)
	}
}

// TestListingMigration (both drivers): bots written before migration 0360
// (old listing index, no name generations) list the same after it, with
// and without nameContains, and a bot created afterwards shows up.
func TestListingMigration(t *testing.T) { EachDriver(t, testListingMigration) }

func testListingMigration(t *testing.T, d TestDriver) {
	ctx := context.Background()
	url := d.URL(t)
	if url == "" {
		url = "sqlite://" + filepath.Join(t.TempDir(), "lex.db")
	}
	old, err := store.Open(ctx, store.Config{URL: url, MigrationsBefore: "0360_"})
	if err != nil {
		t.Fatal(err)
	}
	sc := scope{"111122223333", "us-east-1"}
	fillBots(t, old, sc, 300)
	old.Close()
	db, err := store.Open(ctx, store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := New(Config{DB: db})
	list := func(sub *string) []string {
		var names []string
		var tok *string
		for {
			var out []Metadata
			var next *string
			if err := db.Read(ctx, func(tx *store.Tx) error {
				var err error
				out, next, err = s.listLatest(ctx, tx, sc, kindBot, &ListInput{MaxResults: ptr(50), NameContains: sub, NextToken: tok})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for _, m := range out {
				names = append(names, m.Name)
			}
			if next == nil {
				return names
			}
			tok = next
		}
	}
	var all, withC []string
	for i := 0; i < 300; i++ {
		all = append(all, benchBotName(i))
	}
	slices.Sort(all)
	for _, n := range all {
		if strings.Contains(strings.ToLower(n), "c") {
			withC = append(withC, n)
		}
	}
	if got := list(nil); !slices.Equal(got, all) {
		t.Fatalf("all bots after the migration: %d, want %d", len(got), len(all))
	}
	if got := list(ptr("C")); len(withC) < 5 || !slices.Equal(got, withC) {
		t.Fatalf("nameContains C after the migration: %v, want %v", got, withC)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		now := time.Now()
		return insertResource(ctx, tx, sc, &resource{Kind: kindBot, Name: "Botzzznew", Version: latest, Checksum: "c", Doc: []byte(`{}`), ContentHash: "h", Status: "NOT_BUILT", Created: now, Updated: now})
	}); err != nil {
		t.Fatal(err)
	}
	if got := list(ptr("zzzn")); !slices.Equal(got, []string{"Botzzznew"}) {
		t.Fatalf("nameContains zzzn: %v", got)
	}
}

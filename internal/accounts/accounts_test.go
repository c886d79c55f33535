package accounts_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lextrail/internal/accounts"
	"lextrail/internal/identity"
	"lextrail/internal/secrets"
	"lextrail/internal/store"
)

func newStore(t *testing.T, ttl time.Duration, now func() time.Time) (*accounts.Store, *store.DB) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), store.Config{URL: "sqlite://" + filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, err := secrets.LoadOrCreate(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := secrets.New(key)
	return accounts.New(db, sealer, accounts.Config{CacheTTL: ttl, Now: now}), db
}

func TestEnsureDefaultGeneratesOnce(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t, -1, nil)
	c, err := s.EnsureDefault(ctx, accounts.Bootstrap{})
	if err != nil || c == nil {
		t.Fatalf("first EnsureDefault = %v, %v; want generated credentials", c, err)
	}
	if !strings.HasPrefix(c.AccessKeyID, "AKIA") || len(c.AccessKeyID) != 20 || len(c.SecretAccessKey) != 40 {
		t.Fatalf("bad generated pair %+v", c)
	}
	again, err := s.EnsureDefault(ctx, accounts.Bootstrap{})
	if err != nil || again != nil {
		t.Fatalf("second EnsureDefault = %v, %v; want nothing generated", again, err)
	}
	k, err := s.Lookup(ctx, c.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if k.Secret != c.SecretAccessKey || k.Principal.Type != identity.TypeRoot || k.Principal.AccountID != accounts.DefaultAccountID {
		t.Fatalf("lookup = %+v", k)
	}
	// The database never holds the secret in clear.
	err = db.Read(ctx, func(tx *store.Tx) error {
		var sealed string
		if err := tx.QueryRow(ctx, `SELECT secret_sealed FROM access_keys WHERE access_key_id = $1`, c.AccessKeyID).Scan(&sealed); err != nil {
			return err
		}
		if strings.Contains(sealed, c.SecretAccessKey) {
			t.Errorf("secret stored in clear")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnsureDefaultFixedPair(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, -1, nil)
	b := accounts.Bootstrap{AccountID: "111122223333", AccessKeyID: "AKIAFIXEDKEY0000001", SecretAccessKey: "fixed-secret-0123456789"}
	if c, err := s.EnsureDefault(ctx, b); err != nil || c != nil {
		t.Fatalf("EnsureDefault = %v, %v", c, err)
	}
	k, err := s.Lookup(ctx, b.AccessKeyID)
	if err != nil || k.Secret != b.SecretAccessKey || k.Principal.AccountID != "111122223333" {
		t.Fatalf("lookup = %+v, %v", k, err)
	}
	// A changed secret in the environment replaces the stored one.
	b.SecretAccessKey = "another-secret-987654321"
	if _, err := s.EnsureDefault(ctx, b); err != nil {
		t.Fatal(err)
	}
	k, _ = s.Lookup(ctx, b.AccessKeyID)
	if k.Secret != b.SecretAccessKey {
		t.Fatalf("secret not replaced")
	}
	for _, bad := range []accounts.Bootstrap{
		{AccountID: "12345"},
		{AccountID: "abcdefghijkl"},
		{AccessKeyID: "short", SecretAccessKey: "0123456789abcdef"},
		{AccessKeyID: "AKIAFIXEDKEY0000001"},
		{AccessKeyID: "akia-lower-case-key", SecretAccessKey: "0123456789abcdef"},
	} {
		if _, err := s.EnsureDefault(ctx, bad); err == nil {
			t.Errorf("EnsureDefault(%+v) succeeded", bad)
		}
	}
}

func TestAccountsAndRotation(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, time.Hour, nil)
	c1, err := s.CreateAccount(ctx, "210987654321")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccount(ctx, "210987654321"); !errors.Is(err, accounts.ErrAccountExists) {
		t.Fatalf("duplicate account: %v", err)
	}
	if _, err := s.CreateAccount(ctx, "1"); !errors.Is(err, accounts.ErrInvalidID) {
		t.Fatalf("bad ID: %v", err)
	}
	if _, err := s.Lookup(ctx, c1.AccessKeyID); err != nil { // now cached
		t.Fatal(err)
	}
	c2, err := s.RotateRoot(ctx, "210987654321")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, c1.AccessKeyID); !errors.Is(err, accounts.ErrUnknownKey) {
		t.Fatalf("rotated-out key still resolves (cache not invalidated): %v", err)
	}
	got, err := s.RootCredentials(ctx, "210987654321")
	if err != nil || len(got) != 1 || got[0] != c2 {
		t.Fatalf("RootCredentials = %v, %v", got, err)
	}
	if _, err := s.RotateRoot(ctx, "999999999999"); !errors.Is(err, accounts.ErrNoAccount) {
		t.Fatalf("rotate unknown account: %v", err)
	}
	list, err := s.Accounts(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "210987654321" {
		t.Fatalf("Accounts = %v, %v", list, err)
	}
}

func TestLookupCacheTTL(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, db := newStore(t, 2*time.Second, clock)
	c, err := s.CreateAccount(ctx, "210987654321")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, c.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	// Another node deactivates the key behind this node's back.
	err = db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE access_keys SET status = 'Inactive' WHERE access_key_id = $1`, c.AccessKeyID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := s.Lookup(ctx, c.AccessKeyID)
	if k.Status != "Active" {
		t.Fatalf("cache bypassed before TTL")
	}
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	k, _ = s.Lookup(ctx, c.AccessKeyID)
	if k.Status != "Inactive" {
		t.Fatalf("stale key served after TTL: %+v", k)
	}
	if _, err := s.Lookup(ctx, "AKIANOSUCHKEY0000000"); !errors.Is(err, accounts.ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

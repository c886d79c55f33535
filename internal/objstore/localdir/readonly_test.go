package localdir

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lextrail/internal/objstore"
)

// TestReadOnly: a second, read-only store beside the owner reads what the
// owner wrote, refuses writes and cleans nothing up (a file the owner is
// writing survives).
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	if _, err := Open(Config{Root: filepath.Join(root, "missing"), ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing store succeeded")
	}
	owner, err := Open(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Put(ctx, "bkt", "k", strings.NewReader("data"), objstore.PutOptions{Metadata: map[string]string{"signature": "ab"}}); err != nil {
		t.Fatal(err)
	}
	inFlight := filepath.Join(root, "buckets", "bkt", "tmp", "upload")
	os.WriteFile(inFlight, []byte("partial"), 0o600)
	ro, err := Open(Config{Root: root, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rc, info, err := ro.Get(ctx, "bkt", "k", nil)
	if err != nil || info.Metadata["signature"] != "ab" {
		t.Fatalf("read: %v %+v", err, info)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	page, err := ro.List(ctx, "bkt", objstore.ListOptions{})
	if string(b) != "data" || err != nil || len(page.Objects) != 1 {
		t.Fatalf("read %q, list %v %v", b, page, err)
	}
	if _, err := os.Stat(inFlight); err != nil {
		t.Fatal("read-only store removed the owner's file in flight")
	}
	for name, err := range map[string]error{
		"put":           errOf(ro.Put(ctx, "bkt", "k2", strings.NewReader("x"), objstore.PutOptions{})),
		"delete":        ro.Delete(ctx, "bkt", "k"),
		"create bucket": ro.CreateBucket(ctx, "bkt2"),
		"delete bucket": ro.DeleteBucket(ctx, "bkt"),
	} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

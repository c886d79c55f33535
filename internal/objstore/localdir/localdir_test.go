package localdir

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lextrail/internal/objstore"
	"lextrail/internal/objstore/objtest"
)

func TestConformance(t *testing.T) {
	objtest.Run(t, func(t *testing.T) objstore.Store {
		s, err := Open(Config{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// fakeKeys wraps data keys with a fixed key-encryption key (XOR), enough to
// exercise the envelope path without KMS.
type fakeKeys struct{ kek [32]byte }

func (f *fakeKeys) GenerateDataKey(_ context.Context, keyID string, _ map[string]string) ([]byte, []byte, string, error) {
	plain := make([]byte, 32)
	rand.Read(plain)
	w := make([]byte, 32)
	for i := range w {
		w[i] = plain[i] ^ f.kek[i]
	}
	return plain, w, "arn:aws:kms:us-east-1:123456789012:key/" + keyID, nil
}

func (f *fakeKeys) DecryptDataKey(_ context.Context, w []byte, _ map[string]string) ([]byte, error) {
	if len(w) != 32 {
		return nil, errors.New("bad wrapped key")
	}
	p := make([]byte, 32)
	for i := range p {
		p[i] = w[i] ^ f.kek[i]
	}
	return p, nil
}

func TestEncryptedAtRest(t *testing.T) {
	root := t.TempDir()
	s, err := Open(Config{Root: root, Keys: &fakeKeys{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	for _, size := range []int{0, 1, segSize - 1, segSize, segSize + 1, 3*segSize + 17} {
		plain := bytes.Repeat([]byte("secret!"), size/7+1)[:size]
		info, err := s.Put(ctx, "bkt", "enc", bytes.NewReader(plain), objstore.PutOptions{SSE: objstore.SSE{Algorithm: "aws:kms", KMSKeyID: "k1"}})
		if err != nil {
			t.Fatal(err)
		}
		if info.SSE.KMSKeyID != "arn:aws:kms:us-east-1:123456789012:key/k1" {
			t.Fatalf("key id %q", info.SSE.KMSKeyID)
		}
		// The bytes on disk are not the plaintext.
		files, _ := filepath.Glob(filepath.Join(root, "buckets", "bkt", "o", "*", "*.d"))
		if len(files) != 1 {
			t.Fatalf("data files %v", files)
		}
		disk, _ := os.ReadFile(files[0])
		// A plaintext shorter than 8 bytes can occur in ciphertext by
		// chance; from 8 bytes on a match means it was stored in clear.
		if size >= 8 && bytes.Contains(disk, plain[:min(size, 64)]) {
			t.Fatal("plaintext on disk")
		}
		rc, _, err := s.Get(ctx, "bkt", "enc", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip differs (%v)", size, err)
		}
		if size > 10 {
			for _, r := range []objstore.Range{{First: 3, Last: int64(size) - 2}, {First: int64(size) - 5, Last: -1}, {First: -1, Last: 4}} {
				rc, _, err := s.Get(ctx, "bkt", "enc", &r)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				off, n, _ := r.Resolve(int64(size))
				if err != nil || !bytes.Equal(got, plain[off:off+n]) {
					t.Fatalf("size %d range %+v differs (%v)", size, r, err)
				}
			}
		}
		// Tampering is detected.
		if size > 0 {
			disk[len(disk)-1] ^= 1
			os.WriteFile(files[0], disk, 0o600)
			rc, _, err := s.Get(ctx, "bkt", "enc", nil)
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			if err == nil {
				t.Fatalf("size %d: tampered object read back", size)
			}
		}
	}
}

func TestCrashLeftovers(t *testing.T) {
	root := t.TempDir()
	s, _ := Open(Config{Root: root})
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	if _, err := s.Put(ctx, "bkt", "k", strings.NewReader("committed"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash mid-Put: a temp file and an orphan data file.
	os.WriteFile(filepath.Join(root, "buckets", "bkt", "tmp", "put-1"), []byte("junk"), 0o600)
	dirs, _ := filepath.Glob(filepath.Join(root, "buckets", "bkt", "o", "*"))
	os.WriteFile(filepath.Join(dirs[0], "orphan.0000.d"), []byte("junk"), 0o600)

	s2, _ := Open(Config{Root: root})
	rc, _, err := s2.Get(ctx, "bkt", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "committed" {
		t.Fatalf("%q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dirs[0], "orphan*")); len(left) != 0 {
		t.Fatalf("orphan kept: %v", left)
	}
	if left, _ := os.ReadDir(filepath.Join(root, "buckets", "bkt", "tmp")); len(left) != 0 {
		t.Fatal("temp file kept")
	}
}

func BenchmarkList1000Of100000(b *testing.B) {
	s, _ := Open(Config{Root: b.TempDir(), NoSync: true})
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	for _, k := range objtest.Keys("logs/", 100000) {
		s.Put(ctx, "bkt", k, strings.NewReader("x"), objstore.PutOptions{})
	}
	b.ResetTimer()
	after := ""
	for b.Loop() {
		p, err := s.List(ctx, "bkt", objstore.ListOptions{Prefix: "logs/", MaxKeys: 1000, After: after})
		if err != nil || len(p.Objects) != 1000 {
			b.Fatal(err, len(p.Objects))
		}
		after = p.Next
		if after >= "logs/00099000" {
			after = ""
		}
	}
}

// onlyWriter hides any ReaderFrom of the writer it wraps.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// TestGetWriteTo: Get's bodies implement io.WriterTo (the plain one hands
// a ReaderFrom the file itself, for sendfile; the encrypted one writes
// decrypted segments); written through either path, to a ReaderFrom or
// a plain writer, every range gives the same bytes as reading, and a
// tampered encrypted object fails.
func TestGetWriteTo(t *testing.T) {
	s, err := Open(Config{Root: t.TempDir(), Keys: &fakeKeys{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	size := 3*segSize + 17
	plain := make([]byte, size)
	for i := range plain {
		plain[i] = byte(i * 31)
	}
	for _, sse := range []string{"", "aws:kms"} {
		if _, err := s.Put(ctx, "bkt", "k"+sse, bytes.NewReader(plain), objstore.PutOptions{SSE: objstore.SSE{Algorithm: sse, KMSKeyID: "k1"}}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*objstore.Range{nil, {First: 0, Last: 0}, {First: segSize - 1, Last: segSize}, {First: 5, Last: int64(size) - 3}, {First: -1, Last: 100}, {First: 2 * segSize, Last: -1}} {
			for _, plainWriter := range []bool{false, true} {
				rc, _, err := s.Get(ctx, "bkt", "k"+sse, r)
				if err != nil {
					t.Fatal(err)
				}
				wt, ok := rc.(io.WriterTo)
				if !ok {
					t.Fatalf("%q: body %T is not an io.WriterTo", sse, rc)
				}
				var buf bytes.Buffer
				var w io.Writer = &buf
				if plainWriter {
					w = onlyWriter{&buf}
				}
				n, err := wt.WriteTo(w)
				rc.Close()
				off, want := int64(0), int64(size)
				if r != nil {
					off, want, _ = r.Resolve(int64(size))
				}
				if err != nil || n != want || !bytes.Equal(buf.Bytes(), plain[off:off+want]) {
					t.Fatalf("%q range %+v (plain writer %v): wrote %d bytes (%v), want %d", sse, r, plainWriter, n, err, want)
				}
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(s.cfg.Root, "buckets", "bkt", "o", "*", "*.d"))
	for _, f := range files {
		disk, _ := os.ReadFile(f)
		disk[segSize+20] ^= 1
		os.WriteFile(f, disk, 0o600)
	}
	rc, _, err := s.Get(ctx, "bkt", "kaws:kms", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if n, err := rc.(io.WriterTo).WriteTo(io.Discard); err == nil || n > segSize {
		t.Fatalf("tampered second segment: wrote %d bytes, err %v", n, err)
	}
}

// TestPutMakesKeyDirs: Put creates a key's hash directory when it is the
// first in it (and o/ itself when it was removed by hand), and objects in
// a directory made by an earlier Put stay readable.
func TestPutMakesKeyDirs(t *testing.T) {
	root := t.TempDir()
	s, _ := Open(Config{Root: root})
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		t.Helper()
		if _, err := s.Put(ctx, "bkt", key, strings.NewReader("v-"+key), objstore.PutOptions{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put("a")
	put("b")
	if err := os.RemoveAll(filepath.Join(root, "buckets", "bkt", "o")); err != nil {
		t.Fatal(err)
	}
	put("c")
	for _, k := range []string{"c"} {
		rc, _, err := s.Get(ctx, "bkt", k, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "v-"+k {
			t.Fatalf("%s: %q", k, b)
		}
	}
	put("a") // again, its directory gone with o/
	s2, _ := Open(Config{Root: root})
	for _, k := range []string{"a", "c"} {
		if _, err := s2.Head(ctx, "bkt", k); err != nil {
			t.Fatalf("after reopening, %s: %v", k, err)
		}
	}
}

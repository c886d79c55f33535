// Package objtest is the conformance suite every objstore driver passes:
// Run(t, newStore) exercises buckets, put with metadata and SSE settings,
// conditional create, get with ranges, head, list with prefix, delimiter,
// marker and paging, delete, key validation and a streamed large object.
package objtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"lextrail/internal/objstore"
)

// Options adjust Run for a driver's limits.
type Options struct {
	// LargeSize is the size of the streamed large object (default 64 MiB).
	LargeSize int64
	// SkipKeyValidation is set for drivers that pass keys through to a
	// store that validates them itself.
	SkipKeyValidation bool
	// MaxKeyLen is the longest key the driver stores in bucket "bkt"
	// (default objstore.MaxKeyLen; drivers that nest keys inside another
	// store's have less). A key one byte longer must be refused with
	// ErrInvalidKey.
	MaxKeyLen int
}

// Run runs the suite. newStore returns a fresh, empty store.
func Run(t *testing.T, newStore func(t *testing.T) objstore.Store, opts ...Options) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.LargeSize == 0 {
		o.LargeSize = 64 << 20
	}
	if o.MaxKeyLen == 0 {
		o.MaxKeyLen = objstore.MaxKeyLen
	}
	ctx := context.Background()
	t.Run("Buckets", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateBucket(ctx, "bkt-one"))
		if err := s.CreateBucket(ctx, "bkt-one"); !errors.Is(err, objstore.ErrBucketExists) {
			t.Fatalf("second create: %v", err)
		}
		put(t, s, "bkt-one", "k", "v")
		if err := s.DeleteBucket(ctx, "bkt-one"); !errors.Is(err, objstore.ErrNotEmpty) {
			t.Fatalf("delete non-empty: %v", err)
		}
		must(t, s.Delete(ctx, "bkt-one", "k"))
		must(t, s.DeleteBucket(ctx, "bkt-one"))
		if _, err := s.Head(ctx, "bkt-one", "k"); !errors.Is(err, objstore.ErrNoBucket) {
			t.Fatalf("head in deleted bucket: %v", err)
		}
		if _, err := s.List(ctx, "no-such-bucket", objstore.ListOptions{}); !errors.Is(err, objstore.ErrNoBucket) {
			t.Fatalf("list missing bucket: %v", err)
		}
		if _, err := s.Put(ctx, "no-such-bucket", "k", strings.NewReader("x"), objstore.PutOptions{}); !errors.Is(err, objstore.ErrNoBucket) {
			t.Fatalf("put missing bucket: %v", err)
		}
	})
	t.Run("PutGetHead", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateBucket(ctx, "bkt"))
		body := "hello, objects"
		hdr := objstore.Headers{ContentEncoding: "gzip", ContentDisposition: `attachment; filename="a.txt"`,
			ContentLanguage: "en-US", CacheControl: "no-cache", Expires: "Thu, 01 Dec 1994 16:00:00 GMT"}
		info, err := s.Put(ctx, "bkt", "dir/a b+c.txt", strings.NewReader(body), objstore.PutOptions{
			ContentType: "text/plain", Headers: hdr, Metadata: map[string]string{"color": "blue", "x-y": "z"},
			SSE: objstore.SSE{Algorithm: "AES256"},
		})
		must(t, err)
		sum := md5.Sum([]byte(body))
		wantETag := `"` + hex.EncodeToString(sum[:]) + `"`
		if info.ETag != wantETag || info.Size != int64(len(body)) {
			t.Fatalf("put info %+v", info)
		}
		rc, gi, err := s.Get(ctx, "bkt", "dir/a b+c.txt", nil)
		must(t, err)
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != body || gi.ETag != wantETag || gi.ContentType != "text/plain" || gi.Metadata["color"] != "blue" ||
			gi.Metadata["x-y"] != "z" || gi.SSE.Algorithm != "AES256" || gi.LastModified.IsZero() || gi.Headers != hdr {
			t.Fatalf("get %q %+v", got, gi)
		}
		hi, err := s.Head(ctx, "bkt", "dir/a b+c.txt")
		must(t, err)
		if hi.Size != int64(len(body)) || hi.ETag != wantETag || hi.Metadata["color"] != "blue" || hi.Headers != hdr {
			t.Fatalf("head %+v", hi)
		}
		if _, err := s.Head(ctx, "bkt", "missing"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("head missing: %v", err)
		}
		if _, _, err := s.Get(ctx, "bkt", "missing", nil); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		// Overwrite replaces bytes and metadata.
		_, err = s.Put(ctx, "bkt", "dir/a b+c.txt", strings.NewReader("v2"), objstore.PutOptions{})
		must(t, err)
		if got := get(t, s, "bkt", "dir/a b+c.txt", nil); got != "v2" {
			t.Fatalf("after overwrite %q", got)
		}
		if hi, _ := s.Head(ctx, "bkt", "dir/a b+c.txt"); len(hi.Metadata) != 0 || hi.Headers != (objstore.Headers{}) {
			t.Fatalf("metadata survived overwrite: %v %+v", hi.Metadata, hi.Headers)
		}
		// Empty object.
		put(t, s, "bkt", "empty", "")
		if got := get(t, s, "bkt", "empty", nil); got != "" {
			t.Fatalf("empty %q", got)
		}
		// Keys S3 allows that look odd.
		for _, k := range []string{"a//b", "a/./b", "trailing/", "ünïcode/€", "sp ace", "%41"} {
			put(t, s, "bkt", k, "v:"+k)
			if got := get(t, s, "bkt", k, nil); got != "v:"+k {
				t.Fatalf("key %q: %q", k, got)
			}
		}
	})
	t.Run("ConditionalCreate", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateBucket(ctx, "bkt"))
		_, err := s.Put(ctx, "bkt", "once", strings.NewReader("1"), objstore.PutOptions{IfNoneMatch: true})
		must(t, err)
		_, err = s.Put(ctx, "bkt", "once", strings.NewReader("2"), objstore.PutOptions{IfNoneMatch: true})
		if !errors.Is(err, objstore.ErrExists) {
			t.Fatalf("second conditional create: %v", err)
		}
		if got := get(t, s, "bkt", "once", nil); got != "1" {
			t.Fatalf("conditional create overwrote: %q", got)
		}
	})
	t.Run("Ranges", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateBucket(ctx, "bkt"))
		body := "0123456789"
		put(t, s, "bkt", "r", body)
		for _, c := range []struct {
			r    objstore.Range
			want string
		}{
			{objstore.Range{First: 0, Last: 0}, "0"},
			{objstore.Range{First: 2, Last: 5}, "2345"},
			{objstore.Range{First: 7, Last: -1}, "789"},
			{objstore.Range{First: 8, Last: 100}, "89"},
			{objstore.Range{First: -1, Last: 3}, "789"},
			{objstore.Range{First: -1, Last: 30}, body},
		} {
			if got := get(t, s, "bkt", "r", &c.r); got != c.want {
				t.Errorf("range %+v: %q want %q", c.r, got, c.want)
			}
		}
		if _, _, err := s.Get(ctx, "bkt", "r", &objstore.Range{First: 10, Last: 12}); !errors.Is(err, objstore.ErrInvalidRange) {
			t.Errorf("range past end: %v", err)
		}
	})
	t.Run("List", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateBucket(ctx, "bkt"))
		keys := []string{"a/1", "a/2", "a/b/1", "a/b/2", "a/c/1", "b", "c/1", "c/2", "d"}
		for _, k := range keys {
			put(t, s, "bkt", k, k)
		}
		p, err := s.List(ctx, "bkt", objstore.ListOptions{})
		must(t, err)
		if got := objKeys(p); strings.Join(got, ",") != strings.Join(keys, ",") || p.IsTruncated {
			t.Fatalf("all: %v %v", got, p.IsTruncated)
		}
		if p.Objects[0].Size != 3 || p.Objects[0].ETag == "" || p.Objects[0].LastModified.IsZero() {
			t.Fatalf("list info %+v", p.Objects[0])
		}
		p, err = s.List(ctx, "bkt", objstore.ListOptions{Prefix: "a/", Delimiter: "/"})
		must(t, err)
		if strings.Join(objKeys(p), ",") != "a/1,a/2" || strings.Join(p.CommonPrefixes, ",") != "a/b/,a/c/" {
			t.Fatalf("delimiter: %v %v", objKeys(p), p.CommonPrefixes)
		}
		p, err = s.List(ctx, "bkt", objstore.ListOptions{Delimiter: "/"})
		must(t, err)
		if strings.Join(objKeys(p), ",") != "b,d" || strings.Join(p.CommonPrefixes, ",") != "a/,c/" {
			t.Fatalf("root delimiter: %v %v", objKeys(p), p.CommonPrefixes)
		}
		// Paging with MaxKeys and After (marker), prefixes and keys mixed.
		var all []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			p, err := s.List(ctx, "bkt", objstore.ListOptions{Delimiter: "/", MaxKeys: 1, After: after})
			must(t, err)
			all = append(all, objKeys(p)...)
			all = append(all, p.CommonPrefixes...)
			if !p.IsTruncated {
				break
			}
			after = p.Next
		}
		if strings.Join(all, ",") != "a/,b,c/,d" {
			t.Fatalf("paged delimiter listing: %v", all)
		}
		all, after = nil, ""
		for {
			p, err := s.List(ctx, "bkt", objstore.ListOptions{MaxKeys: 2, After: after})
			must(t, err)
			all = append(all, objKeys(p)...)
			if !p.IsTruncated {
				break
			}
			after = p.Next
		}
		if strings.Join(all, ",") != strings.Join(keys, ",") {
			t.Fatalf("paged: %v", all)
		}
		p, err = s.List(ctx, "bkt", objstore.ListOptions{After: "c/1"})
		must(t, err)
		if strings.Join(objKeys(p), ",") != "c/2,d" {
			t.Fatalf("after: %v", objKeys(p))
		}
		p, err = s.List(ctx, "bkt", objstore.ListOptions{Prefix: "zz"})
		must(t, err)
		if len(p.Objects) != 0 || p.IsTruncated {
			t.Fatalf("no match: %+v", p)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateBucket(ctx, "bkt"))
		put(t, s, "bkt", "x", "1")
		must(t, s.Delete(ctx, "bkt", "x"))
		must(t, s.Delete(ctx, "bkt", "x"))
		if _, err := s.Head(ctx, "bkt", "x"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		p, _ := s.List(ctx, "bkt", objstore.ListOptions{})
		if len(p.Objects) != 0 {
			t.Fatalf("listed after delete: %v", objKeys(p))
		}
	})
	if !o.SkipKeyValidation {
		t.Run("KeyValidation", func(t *testing.T) {
			s := newStore(t)
			must(t, s.CreateBucket(ctx, "bkt"))
			for _, k := range []string{"", "../x", "a/../../etc/passwd", "/etc/passwd", "a\x00b", "..", "a/..", `..\x`, strings.Repeat("k", o.MaxKeyLen+1)} {
				if _, err := s.Put(ctx, "bkt", k, strings.NewReader("x"), objstore.PutOptions{}); !errors.Is(err, objstore.ErrInvalidKey) {
					t.Errorf("put %q: %v", k, err)
				}
				if _, err := s.Head(ctx, "bkt", k); !errors.Is(err, objstore.ErrInvalidKey) {
					t.Errorf("head %q: %v", k, err)
				}
			}
			put(t, s, "bkt", strings.Repeat("k", o.MaxKeyLen), "max")
		})
	}
	t.Run("FailedPutKeepsOld", func(t *testing.T) {
		s := newStore(t)
		must(t, s.CreateBucket(ctx, "bkt"))
		put(t, s, "bkt", "k", "old")
		_, err := s.Put(ctx, "bkt", "k", io.MultiReader(strings.NewReader("partial"), errReader{}), objstore.PutOptions{})
		if err == nil {
			t.Fatal("put with failing reader succeeded")
		}
		if got := get(t, s, "bkt", "k", nil); got != "old" {
			t.Fatalf("failed put replaced object: %q", got)
		}
	})
	t.Run("Large", func(t *testing.T) {
		if testing.Short() {
			t.Skip("short")
		}
		s := newStore(t)
		must(t, s.CreateBucket(ctx, "bkt"))
		size := o.LargeSize
		h := md5.New()
		if _, err := io.Copy(h, newPattern(size)); err != nil {
			t.Fatal(err)
		}
		want := `"` + hex.EncodeToString(h.Sum(nil)) + `"`
		info, err := s.Put(ctx, "bkt", "large", newPattern(size), objstore.PutOptions{})
		must(t, err)
		if info.ETag != want || info.Size != size {
			t.Fatalf("large put %+v want %s", info, want)
		}
		rc, _, err := s.Get(ctx, "bkt", "large", nil)
		must(t, err)
		h.Reset()
		n, err := io.Copy(h, rc)
		rc.Close()
		must(t, err)
		if n != size || `"`+hex.EncodeToString(h.Sum(nil))+`"` != want {
			t.Fatalf("large get %d bytes", n)
		}
		// A range in the middle, across internal buffer boundaries.
		r := objstore.Range{First: size/2 - 100000, Last: size/2 + 100000}
		got := get(t, s, "bkt", "large", &r)
		exp := make([]byte, r.Last-r.First+1)
		p := newPattern(size)
		io.CopyN(io.Discard, p, r.First)
		io.ReadFull(p, exp)
		if got != string(exp) {
			t.Fatal("large range differs")
		}
	})
}

// pattern is a deterministic pseudo-random stream that never sits whole in
// memory.
type pattern struct {
	left int64
	rng  *rand.ChaCha8
}

func newPattern(n int64) *pattern {
	return &pattern{left: n, rng: rand.NewChaCha8([32]byte{1, 2, 3})}
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	p.rng.Read(b)
	p.left -= int64(len(b))
	return len(b), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("objtest: reader fails") }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, s objstore.Store, bucket, key, body string) {
	t.Helper()
	if _, err := s.Put(context.Background(), bucket, key, strings.NewReader(body), objstore.PutOptions{}); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func get(t *testing.T, s objstore.Store, bucket, key string, r *objstore.Range) string {
	t.Helper()
	rc, _, err := s.Get(context.Background(), bucket, key, r)
	if err != nil {
		t.Fatalf("get %q %v: %v", key, r, err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, rc); err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return b.String()
}

func objKeys(p objstore.ListPage) []string {
	var ks []string
	for _, o := range p.Objects {
		ks = append(ks, o.Key)
	}
	return ks
}

// Keys returns n distinct keys under prefix, for benchmarks.
func Keys(prefix string, n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = fmt.Sprintf("%s%08d", prefix, i)
	}
	return ks
}

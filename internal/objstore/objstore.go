// Package objstore owns the object-store interface lextrail keeps objects
// behind (trail log files, digests, audio logs, everything the S3 endpoint
// serves) and the errors drivers return. Drivers live in subpackages:
// localdir (a crash-safe local directory) and s3store (any S3-compatible
// store through the AWS SDK for Go v2). Every driver passes the conformance
// suite in objtest.
//
// objstore knows nothing of accounts, bucket policies or the S3 wire
// protocol; internal/services/s3 owns those.
package objstore

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors drivers return (wrapped or not; test with errors.Is).
var (
	ErrNoBucket     = errors.New("objstore: no such bucket")
	ErrBucketExists = errors.New("objstore: bucket exists")
	ErrNotEmpty     = errors.New("objstore: bucket not empty")
	ErrNotFound     = errors.New("objstore: no such key")
	// ErrExists is returned by a conditional create (PutOptions.IfNoneMatch)
	// when the key exists.
	ErrExists = errors.New("objstore: object exists")
	// ErrInvalidKey is returned for keys Validate refuses.
	ErrInvalidKey = errors.New("objstore: invalid key")
	// ErrInvalidRange is returned for a range that starts past the end.
	ErrInvalidRange = errors.New("objstore: invalid range")
)

// MaxKeyLen is the longest key in bytes (S3's limit).
const MaxKeyLen = 1024

// ValidateKey refuses keys no driver stores: empty, longer than MaxKeyLen,
// not UTF-8, containing NUL, starting with "/" (absolute) or having a ".."
// path segment ("../x", "a/../b", "a/.."). Drivers never build file paths
// from keys; the rule exists so that no key can look like a traversal to
// a consumer that does (aws s3 cp/sync to a local directory).
func ValidateKey(key string) error {
	switch {
	case key == "", len(key) > MaxKeyLen, !utf8.ValidString(key),
		strings.IndexByte(key, 0) >= 0, strings.HasPrefix(key, "/"), strings.HasPrefix(key, `\`):
		return ErrInvalidKey
	}
	for _, seg := range strings.FieldsFunc(key, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return ErrInvalidKey
		}
	}
	return nil
}

// SSE is an object's server-side encryption setting, recorded and
// returned as given. Algorithm is "", "AES256" or "aws:kms".
type SSE struct {
	Algorithm string `json:"alg,omitempty"`
	KMSKeyID  string `json:"kms,omitempty"` // key ARN for aws:kms
}

// Info describes a stored object.
type Info struct {
	Key          string
	Size         int64  // plaintext size
	ETag         string // quoted, as S3 sends it: "\"<md5 hex>\"" or "\"<md5>-N\""
	LastModified time.Time
	ContentType  string
	// Headers are the object's other system metadata.
	Headers Headers
	// Metadata are the user metadata (x-amz-meta-*), keys lower-case.
	Metadata map[string]string
	SSE      SSE
}

// Headers are the standard HTTP headers S3 stores with an object beside
// its Content-Type (system metadata) and answers GetObject and HeadObject
// with. Values are kept as given; empty means absent.
type Headers struct {
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	Expires            string
}

// PutOptions are the settings of a Put.
type PutOptions struct {
	ContentType string
	Headers     Headers
	Metadata    map[string]string
	SSE         SSE
	// IfNoneMatch makes the Put a conditional create: ErrExists if the key
	// exists (S3's If-None-Match: *).
	IfNoneMatch bool
	// ETag overrides the computed MD5 ETag (multipart completion), quoted.
	ETag string
}

// Range selects bytes First..Last inclusive; Last < 0 means to the end.
// A suffix range (the last N bytes) has First < 0 and Last = N.
type Range struct {
	First, Last int64
}

// Resolve turns r into [off, off+n) of an object of the given size, or
// ErrInvalidRange.
func (r Range) Resolve(size int64) (off, n int64, err error) {
	if r.First < 0 {
		if r.Last <= 0 {
			return 0, 0, ErrInvalidRange
		}
		n = min(r.Last, size)
		return size - n, n, nil
	}
	if r.First >= size {
		return 0, 0, ErrInvalidRange
	}
	last := r.Last
	if last < 0 || last >= size {
		last = size - 1
	}
	if last < r.First {
		return 0, 0, ErrInvalidRange
	}
	return r.First, last - r.First + 1, nil
}

// ListOptions select a page of a listing.
type ListOptions struct {
	Prefix    string
	Delimiter string
	// After lists keys strictly greater than it (S3's marker, StartAfter
	// and the decoded continuation token).
	After string
	// MaxKeys bounds keys plus common prefixes in the page; 0 means 1000.
	MaxKeys int
}

// ListPage is one page of a listing, in key order.
type ListPage struct {
	Objects        []Info // Metadata may be nil in listings
	CommonPrefixes []string
	IsTruncated    bool
	// Next is the After of the next page when IsTruncated: the last key or
	// common prefix of this page.
	Next string
}

// Store is an object store. Buckets are flat namespaces; names are
// validated by the caller (S3 bucket naming rules), keys with ValidateKey.
//
// Memory: Put and Get stream; a driver holds at most a bounded buffer per
// call (each driver documents its bound), never a whole object.
type Store interface {
	CreateBucket(ctx context.Context, bucket string) error // ErrBucketExists
	DeleteBucket(ctx context.Context, bucket string) error // ErrNoBucket, ErrNotEmpty
	// Put stores the object read from r until io.EOF. A read error
	// abandons the Put and leaves any previous object untouched.
	Put(ctx context.Context, bucket, key string, r io.Reader, opts PutOptions) (Info, error)
	// Get returns the object (or the range of it when rng is non-nil) and
	// its Info. Info.Size is the full object's size.
	Get(ctx context.Context, bucket, key string, rng *Range) (io.ReadCloser, Info, error)
	Head(ctx context.Context, bucket, key string) (Info, error)
	// Delete removes the key; deleting a missing key is not an error.
	Delete(ctx context.Context, bucket, key string) error
	List(ctx context.Context, bucket string, opts ListOptions) (ListPage, error)
}

// Paginate applies prefix, delimiter, after and max-keys to keys, which
// must be sorted, for drivers that hold a sorted key list. info returns a
// key's Info.
func Paginate(keys []string, opts ListOptions, info func(string) Info) ListPage {
	max := opts.MaxKeys
	if max <= 0 {
		max = 1000
	}
	start := opts.After
	if opts.Prefix > start {
		// Keys below the prefix cannot match; jump.
		start = opts.Prefix
	}
	i := searchAfter(keys, start, start == opts.After)
	var p ListPage
	n := 0
	for ; i < len(keys); i++ {
		k := keys[i]
		if !strings.HasPrefix(k, opts.Prefix) {
			break
		}
		if opts.Delimiter != "" {
			rest := k[len(opts.Prefix):]
			if j := strings.Index(rest, opts.Delimiter); j >= 0 {
				cp := opts.Prefix + rest[:j+len(opts.Delimiter)]
				if cp <= opts.After {
					continue
				}
				if n == max {
					p.IsTruncated = true
					return p
				}
				p.CommonPrefixes = append(p.CommonPrefixes, cp)
				p.Next = cp
				n++
				// Skip every key under cp.
				i = searchAfter(keys, cp+"\U0010FFFF", true) - 1
				continue
			}
		}
		if n == max {
			p.IsTruncated = true
			return p
		}
		p.Objects = append(p.Objects, info(k))
		p.Next = k
		n++
	}
	return p
}

// searchAfter returns the index of the first key > s (strict) or >= s.
func searchAfter(keys []string, s string, strict bool) int {
	lo, hi := 0, len(keys)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keys[m] < s || (strict && keys[m] == s) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

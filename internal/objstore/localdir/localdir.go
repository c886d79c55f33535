// Package localdir is the object-store driver on a local directory, the
// default store of a single lextrail node (served through lextrail's own S3
// endpoint).
//
// Layout under Root:
//
//	buckets/<bucket>/o/<hh>/<h>.meta        object metadata (JSON), names the data file
//	buckets/<bucket>/o/<hh>/<h>.<rand>.d    object bytes (ciphertext for SSE-KMS)
//	buckets/<bucket>/tmp/                   files being written
//
// where h is the hex SHA-256 of the key: keys never become path components,
// so no key can escape the bucket directory whatever it contains (keys are
// validated anyway with objstore.ValidateKey).
//
// Crash safety: a Put streams into a temp file, then fsyncs it while it
// writes the metadata to a second temp file and fsyncs that (the two
// fsyncs overlap: neither file is visible yet), renames the data file to
// a fresh data file name, renames the metadata over <h>.meta (the commit
// point) and fsyncs the directory before it returns; only then does it
// remove the replaced object's data file. A crash before the commit
// leaves the previous object intact plus an orphan data file, which
// Open's first look at the bucket removes.
//
// Memory: Put copies through up to three 256 KiB buffers per call (the
// MD5 of the ETag is computed in a second goroutine over the buffers
// already written) and Get through one (plus one 64 KiB segment for
// encrypted objects); listings keep a per-bucket index of key, size,
// ETag and time in memory (about 150 bytes per object), loaded on first
// use. One process owns a Root at a time.
//
// SSE-KMS: with Config.Keys set, objects put with SSE aws:kms are
// encrypted at rest under a fresh data key per object (envelope
// encryption): AES-256-GCM in 64 KiB segments, each sealed with its index
// and a last-segment flag in the nonce, so ranges decrypt only the
// segments they touch and truncation or reordering is detected.
package localdir

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"lextrail/internal/objstore"
)

// KeyService wraps and unwraps per-object data keys (the KMS service
// implements it). Callers authorize key use before calling the store.
type KeyService interface {
	// GenerateDataKey returns a fresh 32-byte key, its wrapped form and
	// the ARN of the key that wrapped it.
	GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (plain, wrapped []byte, keyARN string, err error)
	// DecryptDataKey unwraps a key made by GenerateDataKey.
	DecryptDataKey(ctx context.Context, wrapped []byte, encCtx map[string]string) ([]byte, error)
}

// Config configures a Store.
type Config struct {
	// Root is the directory; created if missing. Required.
	Root string
	// Keys enables encryption at rest for SSE aws:kms objects. Nil stores
	// them in the clear (the setting is still recorded).
	Keys KeyService
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// NoSync skips fsync (benchmarks on slow disks only).
	NoSync bool
	// ReadOnly opens the store for reading beside the process that owns
	// it (lextrail validate): no crash cleanup when a bucket is first
	// read, and every write fails with ErrReadOnly. Listings show the
	// objects present when the bucket was first read.
	ReadOnly bool
}

// ErrReadOnly is returned by writes to a store opened ReadOnly.
var ErrReadOnly = errors.New("localdir: store opened read-only")

// Store is a local-directory object store.
type Store struct {
	cfg Config
	mu  sync.Mutex
	idx map[string]*bucketIndex
}

var _ objstore.Store = (*Store)(nil)

type entry struct {
	size  int64
	etag  string
	mtime time.Time
}

type bucketIndex struct {
	mu     sync.RWMutex
	keys   map[string]entry
	sorted []string // nil when stale
}

// Open returns a store on cfg.Root.
func Open(cfg Config) (*Store, error) {
	if cfg.Root == "" {
		return nil, errors.New("localdir: Root is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReadOnly {
		if _, err := os.Stat(filepath.Join(cfg.Root, "buckets")); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(filepath.Join(cfg.Root, "buckets"), 0o700); err != nil {
		return nil, err
	}
	return &Store{cfg: cfg, idx: map[string]*bucketIndex{}}, nil
}

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$`)

func (s *Store) bucketDir(bucket string) (string, error) {
	if !bucketRE.MatchString(bucket) || strings.Contains(bucket, "..") {
		return "", objstore.ErrNoBucket
	}
	return filepath.Join(s.cfg.Root, "buckets", bucket), nil
}

// CreateBucket implements objstore.Store.
func (s *Store) CreateBucket(_ context.Context, bucket string) error {
	if s.cfg.ReadOnly {
		return ErrReadOnly
	}
	dir, err := s.bucketDir(bucket)
	if err != nil {
		return fmt.Errorf("localdir: invalid bucket name %q", bucket)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return objstore.ErrBucketExists
		}
		return err
	}
	for _, d := range []string{"o", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return err
		}
	}
	s.idx[bucket] = &bucketIndex{keys: map[string]entry{}}
	// The bucket's own entries (o, tmp), then its entry in the root.
	if err := s.syncDir(dir); err != nil {
		return err
	}
	return s.syncDir(filepath.Dir(dir))
}

// DeleteBucket implements objstore.Store.
func (s *Store) DeleteBucket(ctx context.Context, bucket string) error {
	if s.cfg.ReadOnly {
		return ErrReadOnly
	}
	bi, err := s.index(bucket)
	if err != nil {
		return err
	}
	bi.mu.Lock()
	defer bi.mu.Unlock()
	if len(bi.keys) > 0 {
		return objstore.ErrNotEmpty
	}
	dir, _ := s.bucketDir(bucket)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.idx, bucket)
	return os.RemoveAll(dir)
}

// index returns the bucket's index, loading it on first use.
func (s *Store) index(bucket string) (*bucketIndex, error) {
	dir, err := s.bucketDir(bucket)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if bi := s.idx[bucket]; bi != nil {
		return bi, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); err != nil {
		return nil, objstore.ErrNoBucket
	}
	bi := &bucketIndex{keys: map[string]entry{}}
	if err := s.load(dir, bi); err != nil {
		return nil, err
	}
	s.idx[bucket] = bi
	return bi, nil
}

// load reads every metadata file of a bucket and removes temp and orphan
// data files left by a crash.
func (s *Store) load(dir string, bi *bucketIndex) error {
	if !s.cfg.ReadOnly {
		os.RemoveAll(filepath.Join(dir, "tmp"))
		if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o700); err != nil {
			return err
		}
	}
	subs, err := os.ReadDir(filepath.Join(dir, "o"))
	if err != nil {
		return err
	}
	for _, sub := range subs {
		sd := filepath.Join(dir, "o", sub.Name())
		ents, err := os.ReadDir(sd)
		if err != nil {
			return err
		}
		live := map[string]bool{}
		var datas []string
		for _, e := range ents {
			name := e.Name()
			if strings.HasSuffix(name, ".d") {
				datas = append(datas, name)
				continue
			}
			if !strings.HasSuffix(name, ".meta") {
				continue
			}
			m, err := readMeta(filepath.Join(sd, name))
			if err != nil {
				return err
			}
			live[m.Data] = true
			bi.keys[m.Key] = entry{size: m.Size, etag: m.ETag, mtime: time.UnixMilli(m.MTime).UTC()}
		}
		for _, d := range datas {
			if !live[d] && !s.cfg.ReadOnly {
				os.Remove(filepath.Join(sd, d))
			}
		}
	}
	return nil
}

// meta is the JSON metadata file.
type meta struct {
	Key      string            `json:"key"`
	Size     int64             `json:"size"`
	ETag     string            `json:"etag"`
	MTime    int64             `json:"mtime"`
	CType    string            `json:"ctype,omitempty"`
	Headers  *objstore.Headers `json:"hdr,omitempty"` // nil when all are empty
	Meta     map[string]string `json:"meta,omitempty"`
	SSE      objstore.SSE      `json:"sse"`
	Data     string            `json:"data"`
	Enc      *encInfo          `json:"enc,omitempty"`
	Version  int               `json:"v"`
	Checksum string            `json:"sum,omitempty"`
}

// optHeaders is h, or nil when it is empty (not stored).
func optHeaders(h objstore.Headers) *objstore.Headers {
	if h == (objstore.Headers{}) {
		return nil
	}
	return &h
}

type encInfo struct {
	Wrapped []byte            `json:"wrapped"`
	Prefix  []byte            `json:"prefix"` // nonce prefix
	Context map[string]string `json:"ctx"`
}

func readMeta(path string) (*meta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("localdir: corrupt metadata %s: %w", path, err)
	}
	return &m, nil
}

func keyPaths(dir, key string) (sub, base string) {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(dir, "o", h[:2]), h
}

func (s *Store) syncDir(dir string) error {
	if s.cfg.NoSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Put implements objstore.Store.
func (s *Store) Put(ctx context.Context, bucket, key string, r io.Reader, opts objstore.PutOptions) (objstore.Info, error) {
	if s.cfg.ReadOnly {
		return objstore.Info{}, ErrReadOnly
	}
	if err := objstore.ValidateKey(key); err != nil {
		return objstore.Info{}, err
	}
	bi, err := s.index(bucket)
	if err != nil {
		return objstore.Info{}, err
	}
	if opts.IfNoneMatch {
		bi.mu.RLock()
		_, exists := bi.keys[key]
		bi.mu.RUnlock()
		if exists {
			return objstore.Info{}, objstore.ErrExists
		}
	}
	dir, _ := s.bucketDir(bucket)
	m := &meta{Key: key, CType: opts.ContentType, Headers: optHeaders(opts.Headers), Meta: opts.Metadata, SSE: opts.SSE, Version: 1}
	var enc *segmentWriter
	if opts.SSE.Algorithm == "aws:kms" && s.cfg.Keys != nil {
		ectx := map[string]string{"aws:s3:arn": "arn:aws:s3:::" + bucket + "/" + key}
		plain, wrapped, arn, err := s.cfg.Keys.GenerateDataKey(ctx, opts.SSE.KMSKeyID, ectx)
		if err != nil {
			return objstore.Info{}, err
		}
		m.SSE.KMSKeyID = arn
		m.Enc = &encInfo{Wrapped: wrapped, Prefix: make([]byte, 7), Context: ectx}
		rand.Read(m.Enc.Prefix)
		if enc, err = newSegmentWriter(plain, m.Enc.Prefix); err != nil {
			return objstore.Info{}, err
		}
	}

	tmp, err := os.CreateTemp(filepath.Join(dir, "tmp"), "put-*")
	if err != nil {
		return objstore.Info{}, err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var w io.Writer = tmp
	if enc != nil {
		enc.w = tmp
		w = enc
	}
	n, sum, err := copyHashing(w, ctxReader{ctx, r})
	if err != nil {
		return objstore.Info{}, err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return objstore.Info{}, err
		}
	}
	// The data file's fsync runs while the metadata is written and
	// synced: both must be on disk before the metadata's rename commits
	// the object, neither needs the other first.
	dataSynced := make(chan error, 1)
	if s.cfg.NoSync {
		dataSynced <- nil
	} else {
		go func() { dataSynced <- tmp.Sync() }()
	}
	m.Size = n
	m.ETag = `"` + hex.EncodeToString(sum[:]) + `"`
	if opts.ETag != "" {
		m.ETag = opts.ETag
	}
	m.MTime = s.cfg.Now().UnixMilli()
	sub, base := keyPaths(dir, key)
	m.Data = base + "." + randHex(8) + ".d"
	mt, err := s.writeTemp(filepath.Join(dir, "tmp"), "meta-*", m)
	if serr := <-dataSynced; err == nil {
		err = serr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if mt != "" {
			os.Remove(mt)
		}
		return objstore.Info{}, err
	}
	if err := s.mkSub(sub); err != nil {
		os.Remove(mt)
		return objstore.Info{}, err
	}
	dataPath := filepath.Join(sub, m.Data)
	if err := os.Rename(tmp.Name(), dataPath); err != nil {
		os.Remove(mt)
		return objstore.Info{}, err
	}
	committed = true

	metaPath := filepath.Join(sub, base+".meta")
	bi.mu.Lock()
	if _, exists := bi.keys[key]; exists && opts.IfNoneMatch {
		bi.mu.Unlock()
		os.Remove(mt)
		os.Remove(dataPath)
		return objstore.Info{}, objstore.ErrExists
	}
	old, _ := readMeta(metaPath)
	if err := os.Rename(mt, metaPath); err != nil {
		bi.mu.Unlock()
		os.Remove(mt)
		os.Remove(dataPath)
		return objstore.Info{}, err
	}
	bi.set(key, entry{size: m.Size, etag: m.ETag, mtime: time.UnixMilli(m.MTime).UTC()})
	bi.mu.Unlock()
	err = s.syncDir(sub)
	// The replaced object's bytes go only once the new metadata's rename
	// is durable: until then a crash may bring the old metadata back.
	if err == nil && old != nil && old.Data != m.Data {
		os.Remove(filepath.Join(sub, old.Data))
	}
	if err != nil {
		return objstore.Info{}, err
	}
	return m.info(), nil
}

// mkSub makes sure the key-hash directory sub (under the bucket's o/)
// exists; when it creates it, it syncs o/ too, so that the new
// directory's entry is as durable as the objects Put commits in it (the
// directory fsync after the renames covers sub's entries, not sub's own).
func (s *Store) mkSub(sub string) error {
	err := os.Mkdir(sub, 0o700)
	switch {
	case err == nil:
		return s.syncDir(filepath.Dir(sub))
	case errors.Is(err, os.ErrExist):
		return nil
	case errors.Is(err, os.ErrNotExist):
		// o/ itself is missing (a bucket directory made by hand).
		if err := os.MkdirAll(sub, 0o700); err != nil {
			return err
		}
		if err := s.syncDir(filepath.Dir(sub)); err != nil {
			return err
		}
		return s.syncDir(filepath.Dir(filepath.Dir(sub)))
	}
	return err
}

// writeTemp writes m as JSON to a new temp file in dir and syncs it; it
// returns the file's path ("" if it was not created).
func (s *Store) writeTemp(dir, pattern string, m *meta) (string, error) {
	mb, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(mb)
	if err == nil && !s.cfg.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func (bi *bucketIndex) set(key string, e entry) {
	if _, ok := bi.keys[key]; !ok {
		bi.sorted = nil
	}
	bi.keys[key] = e
}

func (m *meta) info() objstore.Info {
	in := objstore.Info{Key: m.Key, Size: m.Size, ETag: m.ETag, LastModified: time.UnixMilli(m.MTime).UTC(),
		ContentType: m.CType, Metadata: m.Meta, SSE: m.SSE}
	if m.Headers != nil {
		in.Headers = *m.Headers
	}
	return in
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (s *Store) readMeta(bucket, key string) (string, *meta, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return "", nil, err
	}
	if _, err := s.index(bucket); err != nil {
		return "", nil, err
	}
	dir, _ := s.bucketDir(bucket)
	sub, base := keyPaths(dir, key)
	m, err := readMeta(filepath.Join(sub, base+".meta"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil, objstore.ErrNotFound
	}
	if err != nil {
		return "", nil, err
	}
	return sub, m, nil
}

// Head implements objstore.Store.
func (s *Store) Head(_ context.Context, bucket, key string) (objstore.Info, error) {
	_, m, err := s.readMeta(bucket, key)
	if err != nil {
		return objstore.Info{}, err
	}
	return m.info(), nil
}

// Get implements objstore.Store.
func (s *Store) Get(ctx context.Context, bucket, key string, rng *objstore.Range) (io.ReadCloser, objstore.Info, error) {
	for attempt := 0; ; attempt++ {
		sub, m, err := s.readMeta(bucket, key)
		if err != nil {
			return nil, objstore.Info{}, err
		}
		f, err := os.Open(filepath.Join(sub, m.Data))
		if errors.Is(err, os.ErrNotExist) && attempt < 3 {
			continue // replaced between reading the metadata and opening
		}
		if err != nil {
			return nil, objstore.Info{}, err
		}
		off, n := int64(0), m.Size
		if rng != nil {
			if off, n, err = rng.Resolve(m.Size); err != nil {
				f.Close()
				return nil, objstore.Info{}, err
			}
		}
		if m.Enc != nil {
			if s.cfg.Keys == nil {
				f.Close()
				return nil, objstore.Info{}, errors.New("localdir: object is encrypted and no key service is configured")
			}
			plain, err := s.cfg.Keys.DecryptDataKey(ctx, m.Enc.Wrapped, m.Enc.Context)
			if err != nil {
				f.Close()
				return nil, objstore.Info{}, err
			}
			sr, err := newSegmentReader(f, plain, m.Enc.Prefix, m.Size, off, n)
			if err != nil {
				f.Close()
				return nil, objstore.Info{}, err
			}
			return sr, m.info(), nil
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, objstore.Info{}, err
		}
		return &fileBody{lr: io.LimitedReader{R: f, N: n}, f: f}, m.info(), nil
	}
}

// fileBody is a plain object's byte range. Its WriteTo hands the writer
// an *io.LimitedReader over the *os.File, which is what lets an HTTP
// response write it with sendfile(2) instead of copying it through user
// space (net/http's ReadFrom → net.TCPConn.ReadFrom).
type fileBody struct {
	lr io.LimitedReader
	f  *os.File
}

func (b *fileBody) Read(p []byte) (int, error) { return b.lr.Read(p) }
func (b *fileBody) Close() error               { return b.f.Close() }

func (b *fileBody) WriteTo(w io.Writer) (int64, error) {
	if rf, ok := w.(io.ReaderFrom); ok {
		return rf.ReadFrom(&b.lr)
	}
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	return io.CopyBuffer(w, &b.lr, *buf)
}

// Delete implements objstore.Store.
func (s *Store) Delete(_ context.Context, bucket, key string) error {
	if s.cfg.ReadOnly {
		return ErrReadOnly
	}
	if err := objstore.ValidateKey(key); err != nil {
		return err
	}
	bi, err := s.index(bucket)
	if err != nil {
		return err
	}
	dir, _ := s.bucketDir(bucket)
	sub, base := keyPaths(dir, key)
	bi.mu.Lock()
	defer bi.mu.Unlock()
	m, err := readMeta(filepath.Join(sub, base+".meta"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(sub, base+".meta")); err != nil {
		return err
	}
	delete(bi.keys, key)
	bi.sorted = nil
	os.Remove(filepath.Join(sub, m.Data))
	return s.syncDir(sub)
}

// List implements objstore.Store.
func (s *Store) List(_ context.Context, bucket string, opts objstore.ListOptions) (objstore.ListPage, error) {
	bi, err := s.index(bucket)
	if err != nil {
		return objstore.ListPage{}, err
	}
	bi.mu.RLock()
	keys := bi.sorted
	bi.mu.RUnlock()
	if keys == nil {
		bi.mu.Lock()
		if bi.sorted == nil {
			ks := make([]string, 0, len(bi.keys))
			for k := range bi.keys {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			bi.sorted = ks
		}
		keys = bi.sorted
		bi.mu.Unlock()
	}
	bi.mu.RLock()
	defer bi.mu.RUnlock()
	return objstore.Paginate(keys, opts, func(k string) objstore.Info {
		e := bi.keys[k]
		return objstore.Info{Key: k, Size: e.size, ETag: e.etag, LastModified: e.mtime}
	}), nil
}

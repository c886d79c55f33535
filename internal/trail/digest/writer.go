package digest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"slices"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/objstore"
	"lextrail/internal/policy"
	"lextrail/internal/store"
	"lextrail/internal/trail"
)

// Objects is where digests are written: the S3 service's Go API.
type Objects interface {
	// Authorize evaluates the bucket policy for principal performing
	// action on bucket/key with the condition keys.
	Authorize(ctx context.Context, bucket, key, action string, principal *policy.Principal, conditionKeys map[string][]string) error
	Put(ctx context.Context, bucket, key string, r io.Reader, opts objstore.PutOptions) (objstore.Info, error)
}

// DefaultRegions are the regions a multi-region trail has digests for
// even without log files: the regions AWS enables by default.
var DefaultRegions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// WriterConfig configures a Writer. DB, Keys and Objects are required.
type WriterConfig struct {
	DB      *store.DB
	Keys    *Keys
	Objects Objects
	// Interval is the digest period: digests end on multiples of it
	// (UTC). Default 1 hour; at least 1 second.
	Interval time.Duration
	// Regions are the source regions of multi-region trails (regions
	// with log files get digests too). Default DefaultRegions.
	Regions []string
	// Now is the clock. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Writer writes the digests of trails whose lease its caller holds.
type Writer struct {
	cfg WriterConfig
}

// NewWriter returns a Writer.
func NewWriter(cfg WriterConfig) *Writer {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	cfg.Interval = max(cfg.Interval.Truncate(time.Second), time.Second)
	if cfg.Regions == nil {
		cfg.Regions = DefaultRegions
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Writer{cfg: cfg}
}

// Interval returns the digest period.
func (w *Writer) Interval() time.Duration { return w.cfg.Interval }

// Regions returns the source regions a trail has digest chains for.
func (w *Writer) Regions(t *trail.Trail) []string {
	if !t.Settings.MultiRegion {
		return []string{t.HomeRegion}
	}
	r := slices.Clone(w.cfg.Regions)
	if !slices.Contains(r, t.HomeRegion) {
		r = append(r, t.HomeRegion)
	}
	slices.Sort(r)
	return r
}

// NextDue returns when the trail's next regular digest is due (zero when
// it has no open chain).
func (w *Writer) NextDue(now time.Time) time.Time {
	return now.Truncate(w.cfg.Interval).Add(w.cfg.Interval)
}

// Step writes the trail's due digests, one per source region at most:
// a pending one left by a failure, a final one when the chain ended
// (logging stopped, validation disabled, trail deleted, or logging
// restarted) and drained is true (every event the chain covers is in a
// committed log file), or the regular one at the end of each interval. It
// reports whether every chain of the trail is closed (no more digests to
// write until a new chain begins). The caller holds the trail's lease as
// owner.
func (w *Writer) Step(ctx context.Context, t *trail.Trail, owner string, drained bool) (closed bool, err error) {
	now := w.cfg.Now()
	digesting := t.Logging && t.Settings.Validation && t.DigestEpochMs != 0 && !t.Deleted
	chains, err := trail.Chains(ctx, w.cfg.DB, t.ID)
	if err != nil {
		return false, err
	}
	regions := map[string]bool{}
	if digesting {
		for _, r := range w.Regions(t) {
			regions[r] = true
		}
		more, err := trail.FileRegions(ctx, w.cfg.DB, t.ID, t.DigestEpochMs)
		if err != nil {
			return false, err
		}
		for _, r := range more {
			regions[r] = true
		}
	}
	for r, c := range chains {
		if !c.Closed {
			regions[r] = true
		}
	}
	order := make([]string, 0, len(regions))
	for r := range regions {
		order = append(order, r)
	}
	slices.Sort(order)
	var firstErr error
	for _, region := range order {
		c := chains[region]
		if err := w.region(ctx, t, owner, region, c, digesting, drained, now); err != nil {
			if errors.Is(err, trail.ErrLease) {
				return false, err
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if firstErr != nil {
		return false, firstErr
	}
	chains, err = trail.Chains(ctx, w.cfg.DB, t.ID)
	if err != nil {
		return false, err
	}
	for _, c := range chains {
		if !c.Closed {
			return false, nil
		}
	}
	return true, nil
}

func (w *Writer) region(ctx context.Context, t *trail.Trail, owner, region string, c *trail.Chain, digesting, drained bool, now time.Time) error {
	if c != nil && c.PendingEndMs != 0 {
		return w.write(ctx, t, owner, c)
	}
	if c != nil && !c.Closed && (!digesting || c.EpochMs != t.DigestEpochMs) {
		// The chain ended: its final digest, once its files are all in.
		if !drained {
			return nil
		}
		end := now.Truncate(time.Second)
		if end.UnixMilli() <= chainEnd(c) {
			return nil // wait for the next second: keys are per second
		}
		return w.claim(ctx, t, owner, c, end, true)
	}
	if !digesting {
		return nil
	}
	if c == nil || (c.Closed && c.EpochMs != t.DigestEpochMs) {
		if err := trail.OpenChain(ctx, w.cfg.DB, t, owner, region, t.DigestEpochMs); err != nil {
			return err
		}
		c = &trail.Chain{Region: region, EpochMs: t.DigestEpochMs}
	}
	if c.Closed {
		return nil
	}
	end := now.Truncate(w.cfg.Interval)
	if end.UnixMilli() <= chainEnd(c) {
		return nil
	}
	return w.claim(ctx, t, owner, c, end, false)
}

// chainEnd is the end of the chain's last digest, or its start.
func chainEnd(c *trail.Chain) int64 {
	if c.LastKey != "" {
		return c.LastEndMs
	}
	return c.EpochMs
}

func (w *Writer) claim(ctx context.Context, t *trail.Trail, owner string, c *trail.Chain, end time.Time, final bool) error {
	key := trail.DigestKey(t.Settings.Prefix, t.AccountID, c.Region, t.Name, t.HomeRegion, end)
	if err := trail.ClaimDigest(ctx, w.cfg.DB, t, owner, c, end.UnixMilli(), t.Settings.Bucket, key, final); err != nil {
		return err
	}
	return w.write(ctx, t, owner, c)
}

// Built is a digest ready to store.
type Built struct {
	Document  Document
	Body      []byte // uncompressed JSON
	Hash      string // hex SHA-256 of Body
	Signature string
	Key       *Key
}

// Build makes and signs the digest of chain c's pending digest over files.
func (w *Writer) Build(ctx context.Context, t *trail.Trail, c *trail.Chain, files []trail.File) (*Built, error) {
	end := store.FromMillis(c.PendingEndMs)
	key, err := w.cfg.Keys.Signing(ctx, c.Region, end)
	if err != nil {
		return nil, err
	}
	d := Document{
		AWSAccountID:               t.AccountID,
		DigestStartTime:            FormatTime(store.FromMillis(chainEnd(c))),
		DigestEndTime:              FormatTime(end),
		DigestS3Bucket:             c.PendingBucket,
		DigestS3Object:             c.PendingKey,
		DigestPublicKeyFingerprint: key.Fingerprint,
		DigestSignatureAlgorithm:   SignatureAlgorithm,
		LogFiles:                   make([]LogFile, 0, len(files)),
	}
	if c.LastKey != "" {
		d.PreviousDigestS3Bucket = strp(c.LastBucket)
		d.PreviousDigestS3Object = strp(c.LastKey)
		d.PreviousDigestHashValue = strp(c.LastHash)
		d.PreviousDigestHashAlgorithm = strp(HashAlgorithm)
		d.PreviousDigestSignature = strp(c.LastSignature)
	}
	var newest, oldest int64
	for i, f := range files {
		d.LogFiles = append(d.LogFiles, LogFile{
			S3Bucket: f.Bucket, S3Object: f.Key, HashValue: f.Hash, HashAlgorithm: HashAlgorithm,
			NewestEventTime: FormatTime(store.FromMillis(f.NewestMs)), OldestEventTime: FormatTime(store.FromMillis(f.OldestMs)),
		})
		if i == 0 || f.NewestMs > newest {
			newest = f.NewestMs
		}
		if i == 0 || f.OldestMs < oldest {
			oldest = f.OldestMs
		}
	}
	if len(files) > 0 {
		d.NewestEventTime = strp(FormatTime(store.FromMillis(newest)))
		d.OldestEventTime = strp(FormatTime(store.FromMillis(oldest)))
	}
	body := d.Marshal()
	sum := sha256.Sum256(body)
	sig, err := Sign(key.Private, StringToSign(d.DigestEndTime, d.DigestS3Bucket, d.DigestS3Object, body, d.PreviousDigestSignature))
	if err != nil {
		return nil, err
	}
	return &Built{Document: d, Body: body, Hash: hex.EncodeToString(sum[:]), Signature: sig, Key: key}, nil
}

// write stores chain c's pending digest and records it.
func (w *Writer) write(ctx context.Context, t *trail.Trail, owner string, c *trail.Chain) error {
	files, err := trail.DigestFiles(ctx, w.cfg.DB, t.ID, c)
	if err != nil {
		return err
	}
	b, err := w.Build(ctx, t, c, files)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(b.Body)
	zw.Close()
	now := w.cfg.Now()
	principal := &policy.Principal{Service: trail.ServicePrincipal}
	cond := map[string][]string{
		"aws:sourcearn":     {t.ARN},
		"aws:sourceaccount": {t.AccountID},
		"s3:x-amz-acl":      {"bucket-owner-full-control"},
	}
	err = w.cfg.Objects.Authorize(ctx, c.PendingBucket, c.PendingKey, "s3:PutObject", principal, cond)
	if err == nil {
		_, err = w.cfg.Objects.Put(ctx, c.PendingBucket, c.PendingKey, &gz, objstore.PutOptions{
			ContentType: "application/json",
			Headers:     objstore.Headers{ContentEncoding: "gzip"},
			Metadata:    map[string]string{MetaSignature: b.Signature, MetaSignatureAlgorithm: SignatureAlgorithm},
			// Digests are SSE-S3 even for SSE-KMS trails (CloudTrail
			// user guide).
			SSE: objstore.SSE{Algorithm: "AES256"},
		})
	}
	if err != nil {
		code := awserr.As(err).Code
		w.cfg.Logger.Warn("trail digest delivery failed", "trail", t.ARN, "region", c.Region, "key", c.PendingKey, "code", code, "err", err)
		if ferr := trail.DigestFailed(ctx, w.cfg.DB, t.ID, code, now.UnixMilli()); ferr != nil {
			return ferr
		}
		return err
	}
	return trail.CommitDigest(ctx, w.cfg.DB, t, owner, c, b.Hash, b.Signature, now.UnixMilli())
}

// Package validate is lextrail's own validator of a trail's log files and
// digests (lextrail validate): for one trail and source region it checks
// every digest in a time range — format, location, signature with the
// public key of its fingerprint — and every log file a digest lists (SHA-256
// of the uncompressed file), and, stricter than `aws cloudtrail
// validate-logs`, the chain between digests (start = previous end, the
// previous digest's location, hash and signature) and the log files in the
// bucket that no digest lists.
//
// It reads objects and keys only through its Objects and Keys interfaces,
// so the same validator runs on a bucket in lextrail's local object store
// or in any S3-compatible store.
package validate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"lextrail/internal/trail"
	"lextrail/internal/trail/digest"
)

// ErrNotFound is what Objects.Get returns for a missing key.
var ErrNotFound = errors.New("validate: not found")

// Objects reads a bucket.
type Objects interface {
	// Get returns an object's stored bytes and user metadata (lower-case
	// keys), or ErrNotFound.
	Get(ctx context.Context, bucket, key string) ([]byte, map[string]string, error)
	// List returns the keys under prefix after after, in key order, a
	// page at a time (more: call again after the last key).
	List(ctx context.Context, bucket, prefix, after string) (keys []string, more bool, err error)
}

// PublicKey is a digest signing key's public half.
type PublicKey struct {
	Fingerprint string
	DER         []byte // PKCS#1 RSAPublicKey
}

// Keys serves digest signing keys.
type Keys interface {
	PublicKeys(ctx context.Context, region string, start, end time.Time) ([]PublicKey, error)
}

// Config says what to validate.
type Config struct {
	Objects Objects
	Keys    Keys
	// The trail: its bucket, prefix, account, name and home region; the
	// source region whose files are validated (default the home region).
	Bucket, Prefix, Account, TrailName, HomeRegion, SourceRegion string
	// Start and End bound the digests' end times (digests up to End + 1h
	// are read, as validate-logs does). End defaults to now.
	Start, End time.Time
	// Out receives one line per file; Progress a progress bar (nil: none).
	Out, Progress io.Writer
	// Verbose writes valid files too.
	Verbose bool
}

// Result sums a run up.
type Result struct {
	Digests, DigestsValid int
	Logs, LogsValid       int
	// Unlisted are log files in the digested period that no valid digest
	// lists.
	Unlisted []string
	// Gaps are the starting digests after the first (the chain restarted:
	// logging stopped or validation was disabled in between).
	Gaps int
}

// OK reports whether nothing was invalid.
func (r *Result) OK() bool {
	return r.DigestsValid == r.Digests && r.LogsValid == r.Logs && len(r.Unlisted) == 0
}

type loaded struct {
	key    string
	body   []byte // uncompressed
	doc    digest.Document
	sig    string
	err    string // why invalid, "" if valid
	pubKey *rsa.PublicKey
}

// Run validates and writes the report to cfg.Out.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.SourceRegion == "" {
		cfg.SourceRegion = cfg.HomeRegion
	}
	if cfg.End.IsZero() {
		cfg.End = time.Now()
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.End.Before(cfg.Start) {
		return nil, errors.New("validate: end time is before start time")
	}
	keys, err := listDigests(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	pubs, err := cfg.Keys.PublicKeys(ctx, cfg.SourceRegion, cfg.Start, cfg.End.Add(2*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("validate: public keys: %w", err)
	}
	byFP := map[string]*rsa.PublicKey{}
	for _, k := range pubs {
		pk, err := x509.ParsePKCS1PublicKey(k.DER)
		if err != nil {
			return nil, fmt.Errorf("validate: public key %s is not PKCS#1: %w", k.Fingerprint, err)
		}
		if digest.Fingerprint(k.DER) != k.Fingerprint {
			return nil, fmt.Errorf("validate: public key %s: fingerprint is not the MD5 of its DER", k.Fingerprint)
		}
		byFP[k.Fingerprint] = pk
	}
	res := &Result{}
	bar := newProgress(cfg.Progress, len(keys))
	var ds []*loaded
	listedKeys := map[string]bool{}
	for _, k := range keys {
		listedKeys[k] = true
	}
	for _, k := range keys {
		d := loadDigest(ctx, &cfg, k, byFP)
		// A digest the chain names but the bucket lacks (deleted) is
		// reported missing in its place, if it is in the range.
		if p := d.doc.PreviousDigestS3Object; p != nil && !listedKeys[*p] && len(*p) >= 24 &&
			(*p)[len(*p)-24:len(*p)-8] >= cfg.Start.UTC().Format("20060102T150405Z") {
			ds = append(ds, &loaded{key: *p, err: "not found"})
			listedKeys[*p] = true
		}
		ds = append(ds, d)
	}
	// Totals are known once the digests are read.
	for _, d := range ds {
		if d.err == "" {
			bar.total += len(d.doc.LogFiles)
		}
	}
	listed := map[string]bool{}
	for i, d := range ds {
		res.Digests++
		if d.err == "" {
			d.err = chainError(ds, i)
		}
		if d.err == "" && d.doc.PreviousDigestS3Object == nil && i > 0 {
			res.Gaps++
			fmt.Fprintf(cfg.Out, "Chain restarted at %s (no log files were delivered between %s and %s)\n", d.key, ds[i-1].doc.DigestEndTime, d.doc.DigestStartTime)
		}
		bar.step()
		if d.err != "" {
			fmt.Fprintf(cfg.Out, "Digest file\ts3://%s/%s\tINVALID: %s\n", cfg.Bucket, d.key, d.err)
			continue
		}
		res.DigestsValid++
		if cfg.Verbose {
			fmt.Fprintf(cfg.Out, "Digest file\ts3://%s/%s\tvalid\n", cfg.Bucket, d.key)
		}
		for _, lf := range d.doc.LogFiles {
			listed[lf.S3Bucket+"/"+lf.S3Object] = true
			res.Logs++
			why := checkLog(ctx, &cfg, lf)
			bar.step()
			if why != "" {
				fmt.Fprintf(cfg.Out, "Log file\ts3://%s/%s\tINVALID: %s\n", lf.S3Bucket, lf.S3Object, why)
				continue
			}
			res.LogsValid++
			if cfg.Verbose {
				fmt.Fprintf(cfg.Out, "Log file\ts3://%s/%s\tvalid\n", lf.S3Bucket, lf.S3Object)
			}
		}
	}
	bar.done()
	if len(ds) > 0 {
		unlisted, err := unlistedLogs(ctx, &cfg, ds, listed)
		if err != nil {
			return nil, err
		}
		res.Unlisted = unlisted
		for _, k := range unlisted {
			fmt.Fprintf(cfg.Out, "Log file\ts3://%s/%s\tINVALID: not covered by any valid digest\n", cfg.Bucket, k)
		}
	}
	fmt.Fprintf(cfg.Out, "\nResults for %s to %s:\n", cfg.Start.UTC().Format(digest.TimeLayout), cfg.End.UTC().Format(digest.TimeLayout))
	if res.Digests == 0 {
		fmt.Fprintln(cfg.Out, "No digests found")
	}
	ratio(cfg.Out, res.DigestsValid, res.Digests, "digest")
	ratio(cfg.Out, res.LogsValid, res.Logs, "log")
	if len(res.Unlisted) > 0 {
		fmt.Fprintf(cfg.Out, "%d log files in the digested period not covered by any valid digest\n", len(res.Unlisted))
	}
	return res, nil
}

func ratio(w io.Writer, valid, n int, name string) {
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "%d/%d %s files valid", valid, n, name)
	if valid < n {
		fmt.Fprintf(w, ", %d/%d %s files INVALID", n-valid, n, name)
	}
	fmt.Fprintln(w)
}

// listDigests returns the trail's digest keys for the source region with
// an end time in [Start, End + 1h], oldest first.
func listDigests(ctx context.Context, cfg *Config) ([]string, error) {
	re := regexp.MustCompile("^" + regexp.QuoteMeta(trail.DigestFolder(cfg.Prefix, cfg.Account, cfg.SourceRegion)) +
		`\d{4}/\d{2}/\d{2}/` + regexp.QuoteMeta(cfg.Account+"_CloudTrail-Digest_"+cfg.SourceRegion+"_"+cfg.TrailName+"_"+cfg.HomeRegion+"_") +
		`(\d{8}T\d{6}Z)\.json\.gz$`)
	lo := cfg.Start.UTC().Format("20060102T150405Z")
	hi := cfg.End.Add(time.Hour).UTC().Format("20060102T150405Z")
	var out []string
	after := ""
	for {
		keys, more, err := cfg.Objects.List(ctx, cfg.Bucket, trail.DigestFolder(cfg.Prefix, cfg.Account, cfg.SourceRegion), after)
		if err != nil {
			return nil, fmt.Errorf("validate: listing digests: %w", err)
		}
		for _, k := range keys {
			if m := re.FindStringSubmatch(k); m != nil && m[1] >= lo && m[1] <= hi {
				out = append(out, k)
			}
		}
		if !more || len(keys) == 0 {
			break
		}
		after = keys[len(keys)-1]
	}
	sort.Slice(out, func(i, j int) bool { return out[i][len(out[i])-24:] < out[j][len(out[j])-24:] })
	return out, nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// required are the members a digest must have (as validate-logs needs).
var required = []string{"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object", "previousDigestSignature", "digestEndTime", "digestStartTime", "logFiles"}

func loadDigest(ctx context.Context, cfg *Config, key string, byFP map[string]*rsa.PublicKey) *loaded {
	d := &loaded{key: key}
	raw, meta, err := cfg.Objects.Get(ctx, cfg.Bucket, key)
	if errors.Is(err, ErrNotFound) {
		d.err = "not found"
		return d
	}
	if err != nil {
		d.err = "unreadable: " + err.Error()
		return d
	}
	d.body, d.doc, d.sig, d.err = ParseDigest(raw, meta)
	if d.err != "" {
		return d
	}
	if d.doc.DigestS3Bucket != cfg.Bucket || d.doc.DigestS3Object != key {
		d.err = "has been moved from its original location"
		return d
	}
	pk := byFP[d.doc.DigestPublicKeyFingerprint]
	if pk == nil {
		d.err = "public key not found in region " + cfg.SourceRegion + " for fingerprint " + d.doc.DigestPublicKeyFingerprint
		return d
	}
	sts := digest.StringToSign(d.doc.DigestEndTime, d.doc.DigestS3Bucket, d.doc.DigestS3Object, d.body, d.doc.PreviousDigestSignature)
	if digest.Verify(pk, sts, d.sig) != nil {
		d.err = "signature verification failed"
	}
	d.pubKey = pk
	return d
}

// ParseDigest decodes a stored digest: gzip, JSON with the required
// members, and the signature metadata. why is "" when it is well formed.
func ParseDigest(raw []byte, meta map[string]string) (body []byte, doc digest.Document, sig, why string) {
	body, err := gunzip(raw)
	if err != nil {
		return nil, doc, "", "invalid format"
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return nil, doc, "", "invalid format"
	}
	for _, k := range required {
		if _, ok := members[k]; !ok {
			return nil, doc, "", "invalid format"
		}
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil, doc, "", "invalid format"
	}
	if _, err := time.Parse(digest.TimeLayout, doc.DigestEndTime); err != nil {
		return nil, doc, "", "invalid format"
	}
	if _, err := time.Parse(digest.TimeLayout, doc.DigestStartTime); err != nil {
		return nil, doc, "", "invalid format"
	}
	sig, ok := meta[digest.MetaSignature]
	if _, algOK := meta[digest.MetaSignatureAlgorithm]; !ok || !algOK || sig == "" {
		return nil, doc, "", "signature verification failed"
	}
	return body, doc, sig, ""
}

// chainError checks digest i against the one before it in the listing.
func chainError(ds []*loaded, i int) string {
	d := ds[i]
	if d.doc.PreviousDigestS3Object == nil {
		if d.doc.PreviousDigestS3Bucket != nil || d.doc.PreviousDigestHashValue != nil || d.doc.PreviousDigestSignature != nil {
			return "invalid format: a starting digest names part of a previous one"
		}
		return ""
	}
	if i == 0 {
		return "" // its predecessor is before the range
	}
	p := ds[i-1]
	if *d.doc.PreviousDigestS3Object != p.key {
		return "previous digest " + *d.doc.PreviousDigestS3Object + " is not the digest before it, " + p.key
	}
	if p.body == nil {
		return "" // the previous one is reported already
	}
	sum := sha256.Sum256(p.body)
	switch {
	case d.doc.PreviousDigestHashValue == nil || *d.doc.PreviousDigestHashValue != hex.EncodeToString(sum[:]):
		return "previous digest hash value doesn't match " + p.key
	case d.doc.PreviousDigestSignature == nil || *d.doc.PreviousDigestSignature != p.sig:
		return "previous digest signature doesn't match " + p.key
	case d.doc.DigestStartTime != p.doc.DigestEndTime:
		return "starts at " + d.doc.DigestStartTime + " but the previous digest ends at " + p.doc.DigestEndTime
	}
	return ""
}

func checkLog(ctx context.Context, cfg *Config, lf digest.LogFile) string {
	raw, _, err := cfg.Objects.Get(ctx, lf.S3Bucket, lf.S3Object)
	if errors.Is(err, ErrNotFound) {
		return "not found"
	}
	if err != nil {
		return "unreadable: " + err.Error()
	}
	body, err := gunzip(raw)
	if err != nil {
		return "invalid format"
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != lf.HashValue {
		return "hash value doesn't match"
	}
	return ""
}

// unlistedLogs lists the source region's log files delivered (by their
// name's minute) within the digested period, from the first digest's
// start to the last digest's end, that no digest lists.
func unlistedLogs(ctx context.Context, cfg *Config, ds []*loaded, listed map[string]bool) ([]string, error) {
	var from, to string
	for _, d := range ds {
		if d.body == nil {
			continue
		}
		if from == "" || d.doc.DigestStartTime < from {
			from = d.doc.DigestStartTime
		}
		if d.doc.DigestEndTime > to {
			to = d.doc.DigestEndTime
		}
	}
	if from == "" {
		return nil, nil
	}
	start, _ := time.Parse(digest.TimeLayout, from)
	end, _ := time.Parse(digest.TimeLayout, to)
	// A file named at minute m was planned then; it is listed by the digest
	// after its commit, so only files a full minute inside the period are
	// sure to be due.
	lo := start.Add(time.Minute).Format("20060102T1504Z")
	hi := end.Add(-time.Minute).Format("20060102T1504Z")
	re := regexp.MustCompile(`_CloudTrail_` + regexp.QuoteMeta(cfg.SourceRegion) + `_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	folder := trail.LogFolder(cfg.Prefix, cfg.Account, cfg.SourceRegion)
	var out []string
	for day := start.Truncate(24 * time.Hour); !day.After(end); day = day.Add(24 * time.Hour) {
		prefix := folder + day.Format("2006/01/02") + "/"
		after := ""
		for {
			keys, more, err := cfg.Objects.List(ctx, cfg.Bucket, prefix, after)
			if err != nil {
				return nil, fmt.Errorf("validate: listing log files: %w", err)
			}
			for _, k := range keys {
				m := re.FindStringSubmatch(k)
				if m != nil && m[1] >= lo && m[1] <= hi && !listed[cfg.Bucket+"/"+k] {
					out = append(out, k)
				}
			}
			if !more || len(keys) == 0 {
				break
			}
			after = keys[len(keys)-1]
		}
	}
	return out, nil
}

// progress is a text progress bar redrawn in place.
type progress struct {
	w           io.Writer
	n, total    int
	lastPercent int
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: total, lastPercent: -1}
}

func (p *progress) step() {
	p.n++
	p.draw()
}

func (p *progress) draw() {
	if p.w == nil || p.total == 0 {
		return
	}
	pct := p.n * 100 / p.total
	if pct == p.lastPercent {
		return
	}
	p.lastPercent = pct
	const width = 30
	filled := width * p.n / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %d/%d files", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, p.n, p.total)
}

func (p *progress) done() {
	if p.w != nil && p.total > 0 {
		fmt.Fprintln(p.w)
	}
}

// Package digest owns CloudTrail log file integrity (spec §3): the digest
// document, its signature (RSA-2048, SHA256withRSA, over the string to
// sign of §3.3), the per-region signing keys with their rotation schedule
// (served by ListPublicKeys as PKCS#1 DER, fingerprint = MD5 of the DER),
// and the Writer that produces each trail's chained digests — hourly per
// source region by default, also for hours without log files, a starting
// digest when a chain begins and a final one when it ends.
//
// digest reads and moves digest chains only through internal/trail and
// writes objects only through its Objects interface (the S3 service's Go
// API, which evaluates the bucket policy for the CloudTrail principal).
package digest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Algorithms, as written in digests and their metadata.
const (
	SignatureAlgorithm = "SHA256withRSA"
	HashAlgorithm      = "SHA-256"
)

// Object metadata keys of a digest (x-amz-meta-*).
const (
	MetaSignature          = "signature"
	MetaSignatureAlgorithm = "signature-algorithm"
)

// TimeLayout is the digest's time format (to the second).
const TimeLayout = "2006-01-02T15:04:05Z"

// Document is a digest file's JSON (spec §3.2), fields in CloudTrail's
// order. Nil pointers are written as null.
type Document struct {
	AWSAccountID                string    `json:"awsAccountId"`
	DigestStartTime             string    `json:"digestStartTime"`
	DigestEndTime               string    `json:"digestEndTime"`
	DigestS3Bucket              string    `json:"digestS3Bucket"`
	DigestS3Object              string    `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string    `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string    `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string   `json:"newestEventTime"`
	OldestEventTime             *string   `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string   `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string   `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string   `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string   `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string   `json:"previousDigestSignature"`
	LogFiles                    []LogFile `json:"logFiles"`
}

// LogFile is a digest's entry for one log file.
type LogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// Marshal returns the document's compact JSON: the exact bytes stored
// (gzipped) and hashed.
func (d *Document) Marshal() []byte {
	if d.LogFiles == nil {
		d.LogFiles = []LogFile{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		panic(err) // plain strings only
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// FormatTime writes a digest time.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// StringToSign is the text a digest's signature covers (spec §3.3):
// digestEndTime, bucket/key, the hex SHA-256 of the uncompressed digest
// and the previous digest's signature (or "null"), separated by '\n'.
func StringToSign(endTime, bucket, key string, body []byte, previousSignature *string) string {
	sum := sha256.Sum256(body)
	prev := "null"
	if previousSignature != nil {
		prev = *previousSignature
	}
	return strings.Join([]string{endTime, bucket + "/" + key, hex.EncodeToString(sum[:]), prev}, "\n")
}

// Sign signs the string to sign with SHA256withRSA and returns the
// signature in lowercase hex.
func Sign(key *rsa.PrivateKey, stringToSign string) (string, error) {
	h := sha256.Sum256([]byte(stringToSign))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sig), nil
}

// Verify checks a hex signature over the string to sign.
func Verify(pub *rsa.PublicKey, stringToSign, signatureHex string) error {
	sig, err := hex.DecodeString(signatureHex)
	if err != nil {
		return rsa.ErrVerification
	}
	h := sha256.Sum256([]byte(stringToSign))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}

func strp(s string) *string { return &s }

package kms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

func testAEAD(t testing.TB) cipher.AEAD {
	b, err := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var testKey = &key{ID: "1234abcd-12ab-34cd-56ef-1234567890ab", Account: "123456789012", Region: "us-east-1"}

func TestBlobRoundTrip(t *testing.T) {
	a := testAEAD(t)
	ectx := map[string]string{"b": "2", "a": "1"}
	for _, pt := range [][]byte{{0}, []byte("hello"), bytes.Repeat([]byte{1}, MaxPlaintext)} {
		blob, err := seal(a, testKey, pt, ectx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseBlob(blob)
		if err != nil || b.keyARN() != testKey.ARN() {
			t.Fatalf("parse %v %+v", err, b)
		}
		got, err := b.open(a, map[string]string{"a": "1", "b": "2"})
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("open %v", err)
		}
		// Context pairs are length-prefixed: moving a byte between key and
		// value is another context.
		if _, err := b.open(a, map[string]string{"a": "1", "b2": ""}); err == nil {
			t.Fatal("shifted context opened")
		}
		// Every header byte is authenticated.
		for i := range b.header {
			bad := append([]byte(nil), blob...)
			bad[i] ^= 0x20
			if pb, err := parseBlob(bad); err == nil {
				if _, err := pb.open(a, ectx); err == nil {
					t.Fatalf("header byte %d not authenticated", i)
				}
			}
		}
	}
}

func TestParseBlobRejects(t *testing.T) {
	blob, _ := seal(testAEAD(t), testKey, []byte("x"), nil)
	for name, b := range map[string][]byte{
		"empty":      nil,
		"version":    append([]byte{2}, blob[1:]...),
		"no region":  append([]byte{1, 0}, blob[2:]...),
		"long":       append([]byte{1, 200}, blob[2:]...),
		"truncated":  blob[:len(blob)-17],
		"bad region": append(append([]byte{1, 9}, "US-EAST-1"...), blob[11:]...),
		"oversized":  append(append([]byte(nil), blob...), make([]byte, MaxCiphertextBlob)...),
	} {
		if _, err := parseBlob(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// FuzzParseBlob: the ciphertext-blob parser never panics, and what it
// accepts names a key whose header it reproduces exactly; opening never
// succeeds on bytes the key did not seal.
func FuzzParseBlob(f *testing.F) {
	a := testAEAD(f)
	// A fixed nonce: each fuzz worker process makes the same blob.
	blob, _ := sealNonce(a, testKey, []byte("seed"), map[string]string{"k": "v"}, make([]byte, nonceSize))
	f.Add(bytes.Clone(blob))
	f.Add(bytes.Clone(blob[:45]))
	f.Add([]byte{1, 9})
	f.Add([]byte("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"))
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := parseBlob(p)
		if err != nil {
			return
		}
		k := &key{ID: b.keyID, Account: b.account, Region: b.region}
		h, err := blobHeader(k)
		if err != nil || !bytes.Equal(h, b.header) || !bytes.HasPrefix(p, h) {
			t.Fatalf("header %x does not reproduce %x (%v)", h, b.header, err)
		}
		if pt, err := b.open(a, map[string]string{"k": "v"}); err == nil && !bytes.Equal(p, blob) {
			t.Fatalf("forged blob opened: %q (%x vs %x)", pt, p, blob)
		}
	})
}

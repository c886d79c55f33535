package digest

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lextrail/internal/secrets"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// awsSampleKeys are the public keys of the CloudTrail user guide's
// ListPublicKeys sample, with their published fingerprints (spec §9.22):
// the fingerprint is the MD5 of the DER bytes, whatever they hold (the
// third is an X.509 SubjectPublicKeyInfo, which validate-logs refuses).
var awsSampleKeys = []struct{ value, fingerprint string }{
	{"MIIBCgKCAQEAn11L2YZ9h7onug2ILi1MWyHiMRsTQjfWE+pHVRLk1QjfWhirG+lpOa8NrwQ/r7Ah5bNL6HepznOU9XTDSfmmnP97mqyc7z/upfZdS/AHhYcGaz7n6Wc/RRBU6VmiPCrAUojuSk6/GjvA8iOPFsYDuBtviXarvuLPlrT9kAd4Lb+rFfR5peEgBEkhlzc5HuWO7S0y+KunqxX6jQBnXGMtxmPBPP0FylgWGNdFtks/4YSKcgqwH0YDcawP9GGGDAeCIqPWIXDLG1jOjRRzWfCmD0iJUkz8vTsn4hq/5ZxRFE7UBAUiVcGbdnDdvVfhF9C3dQiDq3k7adQIziLT0cShgQIDAQAB", "8eba5db5bea9b640d1c96a77256fe7f2"},
	{"MIIBCgKCAQEApfYL2FiZhpN74LNWVUzhR+VheYhwhYm8w0n5Gf6i95ylW5kBAWKVEmnAQG7BvS5g9SMqFDQx52fW7NWV44IvfJ2xGXT+wT+DgR6ZQ+6yxskQNqV5YcXj4Aa5Zz4jJfsYjDuO2MDTZNIzNvBNzaBJ+r2WIWAJ/Xq54kyF63B6WE38vKuDE7nSd1FqQuEoNBFLPInvgggYe2Ym1Refe2z71wNcJ2kY+q0h1BSHrSM8RWuJIw7MXwF9iQncg9jYzUlNJomozQzAG5wSRfbplcCYNY40xvGd/aAmO0m+Y+XFMrKwtLCwseHPvj843qVno6x4BJN9bpWnoPo9sdsbGoiK3QIDAQAB", "8933b39ddc64d26d8e14ffbf6566fee4"},
	{"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqlzPJbvZJ42UdcmLfPUqXYNfOs6I8lCfao/tOs8CmzPOEdtLWugB9xoIUz78qVHdKIqxbaG4jWHfJBiOSSFBM0lt8cdVo4TnRa7oG9io5pysS6DJhBBAeXsicufsiFJR+wrUNh8RSLxL4k6G1+BhLX20tJkZ/erT97tDGBujAelqseGg3vPZbTx9SMfOLN65PdLFudLP7Gat0Z9p5jw/rjpclKfo9Bfc3heeBxWGKwBBOKnFAaN9V57pOaosCvPKmHd9bg7jsQkI9Xp22IzGLsTFJZYVA3KiTAElDMu80iFXPHEq9hKNbt9e4URFam+1utKVEiLkR2disdCmPTK0VQIDAQAB", "31e8b5433410dfb61a9dc45cc65b22ff"},
}

func TestFingerprint(t *testing.T) {
	for i, k := range awsSampleKeys {
		der, err := base64.StdEncoding.DecodeString(k.value)
		if err != nil {
			t.Fatal(err)
		}
		if got := Fingerprint(der); got != k.fingerprint {
			t.Errorf("key %d: fingerprint %s, want %s", i, got, k.fingerprint)
		}
		_, err = x509.ParsePKCS1PublicKey(der)
		if (err == nil) != (i < 2) {
			t.Errorf("key %d: PKCS#1 parse: %v", i, err)
		}
	}
}

// TestStringToSignVector is spec §9.23: the exact digest body, its hash
// and the string to sign of a starting digest for an empty hour.
func TestStringToSignVector(t *testing.T) {
	key := "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/01/01/111122223333_CloudTrail-Digest_us-east-1_my-trail_us-east-1_20260101T010000Z.json.gz"
	d := Document{
		AWSAccountID: "111122223333", DigestStartTime: "2026-01-01T00:00:00Z", DigestEndTime: "2026-01-01T01:00:00Z",
		DigestS3Bucket: "ct-test-bucket", DigestS3Object: key,
		DigestPublicKeyFingerprint: "8eba5db5bea9b640d1c96a77256fe7f2", DigestSignatureAlgorithm: "SHA256withRSA",
	}
	body := d.Marshal()
	want := `{"awsAccountId":"111122223333","digestStartTime":"2026-01-01T00:00:00Z","digestEndTime":"2026-01-01T01:00:00Z","digestS3Bucket":"ct-test-bucket","digestS3Object":"` + key +
		`","digestPublicKeyFingerprint":"8eba5db5bea9b640d1c96a77256fe7f2","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}`
	if string(body) != want {
		t.Fatalf("body:\n%s\nwant\n%s", body, want)
	}
	sum := sha256.Sum256(body)
	if h := hex.EncodeToString(sum[:]); h != "f836c19678d646987ce394875146e701c4a1398a67f8a50b885469cba53a7cac" {
		t.Fatalf("body hash %s", h)
	}
	sts := StringToSign(d.DigestEndTime, d.DigestS3Bucket, d.DigestS3Object, body, d.PreviousDigestSignature)
	if sts != "2026-01-01T01:00:00Z\nct-test-bucket/"+key+"\nf836c19678d646987ce394875146e701c4a1398a67f8a50b885469cba53a7cac\nnull" {
		t.Fatalf("string to sign %q", sts)
	}
	if s := sha256.Sum256([]byte(sts)); hex.EncodeToString(s[:]) != "88521908cffabb986fae69eb559b76e51ebf00605675c12c0d05d9bc4df67403" {
		t.Fatalf("string to sign hash %x", s)
	}
	if s := sha256.Sum256([]byte(`{"Records":[]}`)); hex.EncodeToString(s[:]) != "26a792db36a3afba23b1dd277fcc9f15a7313c4a92e4e4cc0494846af345ecff" {
		t.Fatal("empty log hash")
	}
}

func openDB(t testing.TB, pg bool) *store.DB {
	url := filepath.Join(t.TempDir(), "d.db")
	if pg {
		url = pgtest.Start(t)
	}
	db, err := store.Open(context.Background(), store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sealer(t testing.TB) *secrets.Sealer {
	s, err := secrets.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKeys: keys per region and rotation generation, sealed at rest,
// made once even when several callers race (two stores on one database
// stand for two processes); Public serves every key valid in a window;
// signatures verify with the public half only.
func TestKeys(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			db := openDB(t, pg)
			ctx := context.Background()
			cfg := KeysConfig{DB: db, Sealer: sealer(t), Rotation: time.Hour, Bits: 1024}
			a, b := NewKeys(cfg), NewKeys(cfg)
			at := time.Date(2026, 1, 1, 10, 30, 0, 0, time.UTC)
			var wg sync.WaitGroup
			fps := make([]string, 8)
			for i := range fps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ks := a
					if i%2 == 1 {
						ks = b
					}
					k, err := ks.Signing(ctx, "us-east-1", at)
					if err != nil {
						t.Error(err)
						return
					}
					fps[i] = k.Fingerprint
				}()
			}
			wg.Wait()
			for _, fp := range fps {
				if fp != fps[0] {
					t.Fatalf("racing callers got different keys: %v", fps)
				}
			}
			k10, _ := a.Signing(ctx, "us-east-1", at)
			k11, err := a.Signing(ctx, "us-east-1", at.Add(time.Hour))
			if err != nil || k11.Fingerprint == k10.Fingerprint || k11.Generation != k10.Generation+1 {
				t.Fatalf("rotation: %v %v", k11, err)
			}
			kEU, _ := a.Signing(ctx, "eu-west-1", at)
			if kEU.Fingerprint == k10.Fingerprint {
				t.Fatal("regions share a key")
			}
			if !k10.ValidFrom.Equal(at.Truncate(time.Hour)) || k10.ValidTo.Sub(k10.ValidFrom) != 90*time.Minute {
				t.Fatalf("validity %v..%v", k10.ValidFrom, k10.ValidTo)
			}
			if Fingerprint(k10.PublicDER) != k10.Fingerprint {
				t.Fatal("fingerprint is not MD5 of the DER")
			}
			// 11:15 is in both keys' validity (10:00-11:30, 11:00-12:30).
			pub, err := a.Public(ctx, "us-east-1", at.Add(45*time.Minute), at.Add(45*time.Minute))
			if err != nil || len(pub) != 2 {
				t.Fatalf("public keys at 11:15: %d %v", len(pub), err)
			}
			if pub, _ := a.Public(ctx, "us-east-1", at.Add(-5*time.Hour), at.Add(-4*time.Hour)); len(pub) != 0 {
				t.Fatalf("keys before any existed: %d", len(pub))
			}
			if pub[0].Private != nil {
				t.Fatal("Public returned a private key")
			}
			sig, err := Sign(k10.Private, "text")
			if err != nil || Verify(pub[0].Public, "text", sig) != nil || Verify(pub[0].Public, "other", sig) == nil {
				t.Fatalf("sign/verify: %v", err)
			}
			// The private key is sealed: the stored column is not the DER.
			var sealed string
			db.Read(ctx, func(tx *store.Tx) error {
				return tx.QueryRow(ctx, `SELECT private_sealed FROM trail_signing_keys WHERE region = 'us-east-1' AND generation = $1`, k10.Generation).Scan(&sealed)
			})
			if len(sealed) < 3 || sealed[:3] != "v1:" {
				t.Fatalf("private key stored as %.10q", sealed)
			}
		})
	}
}

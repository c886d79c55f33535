package validate

import (
	"bytes"
	"compress/gzip"
	"testing"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// FuzzParseDigest: a stored digest of any content (gzip or not, any
// JSON) is parsed or refused without panicking; what is accepted has the
// members validation reads.
func FuzzParseDigest(f *testing.F) {
	good := []byte(`{"awsAccountId":"111122223333","digestStartTime":"2026-01-01T00:00:00Z","digestEndTime":"2026-01-01T01:00:00Z","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"8eba5db5bea9b640d1c96a77256fe7f2","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}`)
	f.Add(gz(good), "ab", true)
	f.Add(good, "ab", true)
	f.Add(gz([]byte(`{"logFiles":[{"s3Object":1}]}`)), "", false)
	f.Add(gz([]byte(`[]`)), "x", true)
	f.Fuzz(func(t *testing.T, raw []byte, sig string, alg bool) {
		meta := map[string]string{"signature": sig}
		if alg {
			meta["signature-algorithm"] = "SHA256withRSA"
		}
		body, doc, s, why := ParseDigest(raw, meta)
		if why == "" && (body == nil || s == "" || doc.DigestEndTime == "" || doc.DigestStartTime == "") {
			t.Fatalf("accepted without its members: %+v", doc)
		}
	})
}

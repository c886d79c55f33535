package sigv4

import (
	"testing"

	"lextrail/internal/testenv/cputime"
)

// BenchmarkVerify measures Parse+Verify of a typical signed JSON 1.1
// request (CloudTrail LookupEvents, eight signed headers, ~100-byte body).
func BenchmarkVerify(b *testing.B) {
	r := jsonShape().signWithSDK(b, testNow)
	body := readBody(b, r)
	b.Run("Parse+Verify", func(b *testing.B) {
		b.ReportAllocs()
		done := cputime.Report(b)
		for b.Loop() {
			a, err := Parse(r, testNow)
			if err != nil {
				b.Fatal(err)
			}
			if err := a.Verify(r, testCreds.SecretAccessKey, body); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
	b.Run("VerifyOnly", func(b *testing.B) {
		a, err := Parse(r, testNow)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		done := cputime.Report(b)
		for b.Loop() {
			if err := a.Verify(r, testCreds.SecretAccessKey, body); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
	b.Run("Presigned-S3", func(b *testing.B) {
		pr := presignS3Shape().signWithSDK(b, testNow)
		b.ReportAllocs()
		done := cputime.Report(b)
		for b.Loop() {
			a, err := Parse(pr, testNow)
			if err != nil {
				b.Fatal(err)
			}
			if err := a.Verify(pr, testCreds.SecretAccessKey, nil); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
}

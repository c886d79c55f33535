package s3_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lextrail/internal/protocol/restxml"
	s3svc "lextrail/internal/services/s3"
)

// FuzzDecode feeds arbitrary XML bodies to the decoders of every S3
// operation that takes an XML document: no panic, only errors.
func FuzzDecode(f *testing.F) {
	f.Add(`<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>`)
	f.Add(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`)
	f.Add(`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`)
	f.Add(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)
	svc := s3svc.New(s3svc.Config{}).Catalog()
	codec := restxml.Codec{}
	f.Fuzz(func(t *testing.T, body string) {
		for _, name := range []string{"DeleteObjects", "CompleteMultipartUpload", "PutBucketEncryption", "CreateBucket", "PutBucketPolicy"} {
			op := svc.Op(name)
			r := httptest.NewRequest(http.MethodPost, "/b/k", strings.NewReader(body))
			in := op.NewInput()
			_ = codec.Decode(op, r, map[string]string{"Bucket": "b", "Key": "k"}, []byte(body), in)
		}
	})
}

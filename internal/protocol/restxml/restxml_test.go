package restxml

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
)

const s3ns = "http://s3.amazonaws.com/doc/2006-03-01/"

type bucket struct {
	Name         string        `xml:"Name"`
	CreationDate protocol.Time `xml:"CreationDate"`
}

type listBucketsOutput struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Buckets []bucket `xml:"Buckets>Bucket"`
	OwnerID string   `xml:"Owner>ID"`
}

type bucketInput struct {
	Bucket string `location:"uri" locationName:"Bucket"`
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

type createBucketInput struct {
	Bucket string                     `location:"uri" locationName:"Bucket"`
	ACL    string                     `location:"header" locationName:"x-amz-acl"`
	Config *createBucketConfiguration `location:"payload"`
}

type createBucketOutput struct {
	Location string `location:"header" locationName:"Location"`
}

type policyOutput struct {
	Policy string `location:"payload"`
}

type objectInput struct {
	Bucket      string            `location:"uri" locationName:"Bucket"`
	Key         string            `location:"uri" locationName:"Key"`
	ContentType string            `location:"header" locationName:"Content-Type"`
	Length      *int64            `location:"header" locationName:"Content-Length"`
	Metadata    map[string]string `location:"headers" locationName:"x-amz-meta-"`
	Since       *protocol.Time    `location:"header" locationName:"If-Modified-Since"`
	Body        io.ReadCloser     `location:"payload"`
}

type getObjectOutput struct {
	ETag          string            `location:"header" locationName:"ETag"`
	ContentLength *int64            `location:"header" locationName:"Content-Length"`
	LastModified  protocol.Time     `location:"header" locationName:"Last-Modified"`
	Metadata      map[string]string `location:"headers" locationName:"x-amz-meta-"`
	Body          io.ReadCloser     `location:"payload"`
}

type listObjectsV2Input struct {
	Bucket            string `location:"uri" locationName:"Bucket"`
	Prefix            string `location:"querystring" locationName:"prefix"`
	MaxKeys           *int32 `location:"querystring" locationName:"max-keys"`
	ContinuationToken string `location:"querystring" locationName:"continuation-token"`
	FetchOwner        bool   `location:"querystring" locationName:"fetch-owner"`
}

type object struct {
	Key          string        `xml:"Key"`
	LastModified protocol.Time `xml:"LastModified"`
	Size         int64         `xml:"Size"`
}

type listObjectsV2Output struct {
	XMLName     xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Charged     string   `location:"header" locationName:"x-amz-request-charged"`
	Name        string   `xml:"Name"`
	Prefix      string   `xml:"Prefix"`
	KeyCount    int      `xml:"KeyCount"`
	MaxKeys     int32    `xml:"MaxKeys"`
	IsTruncated bool     `xml:"IsTruncated"`
	Contents    []object `xml:"Contents"`
}

type deleteObjectsInput struct {
	Bucket string `location:"uri" locationName:"Bucket"`
	Delete struct {
		XMLName xml.Name `xml:"Delete"`
		Objects []struct {
			Key string `xml:"Key"`
		} `xml:"Object"`
		Quiet bool `xml:"Quiet"`
	} `location:"payload"`
}

func noSuchBucket(name string) error {
	return awserr.New(404, "NoSuchBucket", "The specified bucket does not exist").With("BucketName", name)
}

var lastPut [3]string // key, body, x-amz-meta-color of the last PutObject

var stamp = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var s3svc = catalog.NewService(&catalog.Service{
	Name: "s3", SigningName: "s3", Protocol: catalog.RestXML,
	Ops: []*catalog.Operation{
		catalog.Define(catalog.Operation{Name: "ListBuckets", HTTP: "GET /"}, func(_ context.Context, _ *catalog.Call, _ *struct{}) (*listBucketsOutput, error) {
			return &listBucketsOutput{Buckets: []bucket{{"b1", protocol.NewTime(stamp)}}, OwnerID: "o"}, nil
		}),
		catalog.Define(catalog.Operation{Name: "HeadBucket", HTTP: "HEAD /{Bucket}"}, func(_ context.Context, _ *catalog.Call, in *bucketInput) (*struct{}, error) {
			if in.Bucket != "b1" {
				return nil, noSuchBucket(in.Bucket)
			}
			return nil, nil
		}),
		catalog.Define(catalog.Operation{Name: "CreateBucket", HTTP: "PUT /{Bucket}"}, func(_ context.Context, _ *catalog.Call, in *createBucketInput) (*createBucketOutput, error) {
			if in.Config != nil && in.Config.LocationConstraint == "bad" {
				return nil, awserr.New(400, "InvalidLocationConstraint", "The specified location-constraint is not valid")
			}
			return &createBucketOutput{Location: "/" + in.Bucket}, nil
		}),
		catalog.Define(catalog.Operation{Name: "GetBucketPolicy", HTTP: "GET /{Bucket}?policy"}, func(_ context.Context, _ *catalog.Call, in *bucketInput) (*policyOutput, error) {
			if in.Bucket != "b1" {
				return nil, noSuchBucket(in.Bucket)
			}
			return &policyOutput{Policy: `{"Version":"2012-10-17"}`}, nil
		}),
		catalog.Define(catalog.Operation{Name: "DeleteObjects", HTTP: "POST /{Bucket}?delete"}, func(_ context.Context, _ *catalog.Call, in *deleteObjectsInput) (*struct{}, error) {
			return nil, nil
		}),
		catalog.Define(catalog.Operation{Name: "ListObjectsV2", HTTP: "GET /{Bucket}?list-type=2"}, func(_ context.Context, _ *catalog.Call, in *listObjectsV2Input) (*listObjectsV2Output, error) {
			if in.Bucket != "b1" {
				return nil, noSuchBucket(in.Bucket)
			}
			return &listObjectsV2Output{Charged: "requester", Name: in.Bucket, Prefix: in.Prefix, KeyCount: 1, MaxKeys: 1000,
				Contents: []object{{Key: in.Prefix + "a//b/./c", LastModified: protocol.NewTime(stamp), Size: 3}}}, nil
		}),
		catalog.Define(catalog.Operation{Name: "ListObjects", HTTP: "GET /{Bucket}"}, func(_ context.Context, _ *catalog.Call, in *bucketInput) (*struct{}, error) {
			return nil, nil
		}),
		catalog.Define(catalog.Operation{Name: "PutObject", HTTP: "PUT /{Bucket}/{Key+}", RawBody: true}, func(_ context.Context, c *catalog.Call, in *objectInput) (*struct {
			ETag string `location:"header" locationName:"ETag"`
		}, error) {
			b, _ := io.ReadAll(in.Body)
			lastPut = [3]string{in.Key, string(b), in.Metadata["color"]}
			return &struct {
				ETag string `location:"header" locationName:"ETag"`
			}{`"etag"`}, nil
		}),
		catalog.Define(catalog.Operation{Name: "GetObject", HTTP: "GET /{Bucket}/{Key+}"}, func(_ context.Context, _ *catalog.Call, in *objectInput) (*getObjectOutput, error) {
			n := int64(len(in.Key))
			return &getObjectOutput{ETag: `"e"`, ContentLength: &n, LastModified: protocol.NewTime(stamp),
				Metadata: map[string]string{"color": "blue"}, Body: io.NopCloser(strings.NewReader(in.Key))}, nil
		}),
		catalog.Define(catalog.Operation{Name: "HeadObject", HTTP: "HEAD /{Bucket}/{Key+}"}, func(_ context.Context, _ *catalog.Call, in *objectInput) (*getObjectOutput, error) {
			n := int64(0)
			return &getObjectOutput{ContentLength: &n}, nil
		}),
	},
})

func TestRoute(t *testing.T) {
	cases := []struct {
		method, url string
		op          string
		labels      map[string]string
		code        string
		status      int
	}{
		{"GET", "/", "ListBuckets", nil, "", 0},
		{"GET", "/b1", "ListObjects", map[string]string{"Bucket": "b1"}, "", 0},
		{"GET", "/b1/", "ListObjects", map[string]string{"Bucket": "b1"}, "", 0},
		{"GET", "/b1?list-type=2&prefix=x", "ListObjectsV2", nil, "", 0},
		{"GET", "/b1?list-type=1", "ListObjects", nil, "", 0},
		{"GET", "/b1?policy", "GetBucketPolicy", nil, "", 0},
		{"GET", "/b1?policy=", "GetBucketPolicy", nil, "", 0},
		{"POST", "/b1?delete", "DeleteObjects", nil, "", 0},
		{"HEAD", "/b1", "HeadBucket", nil, "", 0},
		{"PUT", "/b1/a/b.txt", "PutObject", map[string]string{"Bucket": "b1", "Key": "a/b.txt"}, "", 0},
		{"PUT", "/b1//a/../b/./c//", "PutObject", map[string]string{"Key": "/a/../b/./c//"}, "", 0},
		{"PUT", "/b1/dir/", "PutObject", map[string]string{"Key": "dir/"}, "", 0},
		{"GET", "/b1/a%2Fb%20c%25d+e", "GetObject", map[string]string{"Key": "a/b c%d+e"}, "", 0},
		{"GET", "/b1/%E2%82%AC", "GetObject", map[string]string{"Key": "€"}, "", 0},
		{"GET", "/b1/a?policy", "GetObject", map[string]string{"Key": "a"}, "", 0},
		{"POST", "/b1", "", nil, "MethodNotAllowed", 405},
		{"DELETE", "/", "", nil, "MethodNotAllowed", 405},
		{"PATCH", "/b1/k", "", nil, "MethodNotAllowed", 405},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		op, labels, err := Codec{}.Route(s3svc, r, nil)
		if tc.code != "" {
			e, ok := err.(*awserr.Error)
			if !ok || e.Code != tc.code || e.Status != tc.status {
				t.Errorf("%s %s: got %v %v", tc.method, tc.url, op, err)
			}
			continue
		}
		if err != nil || op.Name != tc.op {
			t.Errorf("%s %s: got %v %v", tc.method, tc.url, op, err)
			continue
		}
		for k, v := range tc.labels {
			if labels[k] != v {
				t.Errorf("%s %s: label %s = %q, want %q", tc.method, tc.url, k, labels[k], v)
			}
		}
	}
	// A service without catch-all routes answers NotImplemented.
	small := catalog.NewService(&catalog.Service{Name: "s3", Protocol: catalog.RestXML, Ops: s3svc.Ops[:1]})
	_, _, err := Codec{}.Route(small, httptest.NewRequest("GET", "/b1/k", nil), nil)
	if e, ok := err.(*awserr.Error); !ok || e.Code != "NotImplemented" || e.Status != 501 {
		t.Errorf("got %v", err)
	}
}

func decode(t *testing.T, r *http.Request, body string) (any, error) {
	t.Helper()
	op, labels, err := Codec{}.Route(s3svc, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := op.NewInput()
	var b []byte
	if !op.RawBody {
		b = []byte(body)
	}
	return in, Codec{}.Decode(op, r, labels, b, in)
}

func TestDecode(t *testing.T) {
	r := httptest.NewRequest("PUT", "/b2", nil)
	r.Header.Set("x-amz-acl", "private")
	in, err := decode(t, r, `<CreateBucketConfiguration xmlns="`+s3ns+`"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)
	if c := in.(*createBucketInput); err != nil || c.Bucket != "b2" || c.ACL != "private" || c.Config.LocationConstraint != "eu-west-1" {
		t.Fatalf("%+v %v", in, err)
	}
	in, err = decode(t, httptest.NewRequest("PUT", "/b2", nil), "")
	if c := in.(*createBucketInput); err != nil || c.Config != nil {
		t.Fatalf("%+v %v", in, err)
	}
	_, err = decode(t, httptest.NewRequest("PUT", "/b2", nil), "<CreateBucketConfiguration>")
	if e, ok := err.(*awserr.Error); !ok || e.Code != "MalformedXML" || e.Status != 400 {
		t.Fatalf("%v", err)
	}
	in, err = decode(t, httptest.NewRequest("POST", "/b1?delete", nil), `<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object><Quiet>true</Quiet></Delete>`)
	if d := in.(*deleteObjectsInput); err != nil || len(d.Delete.Objects) != 2 || !d.Delete.Quiet {
		t.Fatalf("%+v %v", in, err)
	}

	in, err = decode(t, httptest.NewRequest("GET", "/b1?list-type=2&prefix=p%2F&max-keys=10&fetch-owner=true&continuation-token=", nil), "")
	if l := in.(*listObjectsV2Input); err != nil || l.Prefix != "p/" || *l.MaxKeys != 10 || !l.FetchOwner || l.ContinuationToken != "" {
		t.Fatalf("%+v %v", in, err)
	}
	_, err = decode(t, httptest.NewRequest("GET", "/b1?list-type=2&max-keys=many", nil), "")
	if e, ok := err.(*awserr.Error); !ok || e.Code != "InvalidArgument" || e.Fields["ArgumentName"] != "max-keys" || e.Fields["ArgumentValue"] != "many" {
		t.Fatalf("%v", err)
	}

	r = httptest.NewRequest("PUT", "/b1/k%20ey", strings.NewReader("data"))
	r.Header.Set("Content-Type", "text/plain")
	r.Header.Set("X-Amz-Meta-Color", "blue")
	r.Header.Set("If-Modified-Since", "Fri, 02 Jan 2026 03:04:05 GMT")
	in, err = decode(t, r, "")
	o := in.(*objectInput)
	b, _ := io.ReadAll(o.Body)
	if err != nil || o.Key != "k ey" || o.ContentType != "text/plain" || *o.Length != 4 || o.Metadata["color"] != "blue" || !o.Since.Equal(stamp) || string(b) != "data" {
		t.Fatalf("%+v %v", o, err)
	}
	r = httptest.NewRequest("GET", "/b1/k", nil)
	r.Header.Set("If-Modified-Since", "last tuesday")
	_, err = decode(t, r, "")
	if e, ok := err.(*awserr.Error); !ok || e.Code != "InvalidArgument" || e.Fields["ArgumentName"] != "If-Modified-Since" {
		t.Fatalf("%v", err)
	}
}

func TestEncode(t *testing.T) {
	c := &catalog.Call{RequestID: "REQ1", Op: s3svc.Op("ListObjectsV2"), Header: http.Header{}}
	rec := httptest.NewRecorder()
	err := Codec{}.Encode(rec, c, &listObjectsV2Output{Charged: "requester", Name: "b1", KeyCount: 1, Contents: []object{{Key: "a&b", LastModified: protocol.NewTime(stamp), Size: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	want := XMLHeader + `<ListBucketResult xmlns="` + s3ns + `"><Name>b1</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>0</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b</Key><LastModified>2026-01-02T03:04:05Z</LastModified><Size>3</Size></Contents></ListBucketResult>`
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("x-amz-request-charged") != "requester" ||
		rec.Header().Get("Content-Type") != "application/xml" || rec.Header().Get("x-amz-request-id") != "REQ1" || rec.Header().Get("x-amz-id-2") == "" {
		t.Fatalf("%d %v\n%s", rec.Code, rec.Header(), rec.Body)
	}

	// Stream payload with headers.
	rec = httptest.NewRecorder()
	n := int64(5)
	c.Op = s3svc.Op("GetObject")
	if err := (Codec{}).Encode(rec, c, &getObjectOutput{ETag: `"e"`, ContentLength: &n, LastModified: protocol.NewTime(stamp), Metadata: map[string]string{"a": "b"}, Body: io.NopCloser(strings.NewReader("hello"))}); err != nil {
		t.Fatal(err)
	}
	h := rec.Header()
	if rec.Body.String() != "hello" || h.Get("ETag") != `"e"` || h.Get("Content-Length") != "5" || h.Get("Last-Modified") != "Fri, 02 Jan 2026 03:04:05 GMT" || h["x-amz-meta-a"][0] != "b" {
		t.Fatalf("%v %q", h, rec.Body)
	}

	// HEAD: headers only, zero Content-Length kept.
	rec = httptest.NewRecorder()
	c.Op, c.Request = s3svc.Op("HeadObject"), httptest.NewRequest("HEAD", "/b1/k", nil)
	zero := int64(0)
	if err := (Codec{}).Encode(rec, c, &getObjectOutput{ContentLength: &zero}); err != nil || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "0" {
		t.Fatalf("%v %v", rec.Header(), err)
	}
	c.Request = nil

	// Nil and empty outputs: no body.
	rec = httptest.NewRecorder()
	c.Op = s3svc.Op("HeadBucket")
	if err := (Codec{}).Encode(rec, c, nil); err != nil || rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("%d %q %v", rec.Code, rec.Body, err)
	}
}

func TestEncodeError(t *testing.T) {
	rec := httptest.NewRecorder()
	Codec{}.EncodeError(rec, s3svc, "REQ1", noSuchBucket("b<2>").(*awserr.Error))
	want := XMLHeader + `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b&lt;2&gt;</BucketName><RequestId>REQ1</RequestId><HostId>` + HostID("REQ1") + `</HostId></Error>`
	if rec.Code != 404 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/xml" || rec.Header().Get("x-amz-request-id") != "REQ1" {
		t.Fatalf("%d %v\n%s", rec.Code, rec.Header(), rec.Body)
	}
}

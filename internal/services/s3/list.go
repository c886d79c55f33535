package s3

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/objstore"
	"lextrail/internal/protocol"
)

// ListObjectsInput is ListObjects' (v1) input.
type ListObjectsInput struct {
	Bucket       string `location:"uri" locationName:"Bucket"`
	Prefix       string `location:"querystring" locationName:"prefix"`
	Delimiter    string `location:"querystring" locationName:"delimiter"`
	Marker       string `location:"querystring" locationName:"marker"`
	MaxKeys      *int32 `location:"querystring" locationName:"max-keys"`
	EncodingType string `location:"querystring" locationName:"encoding-type"`
}

func (o *ListObjectsInput) bucketName() string { return o.Bucket }

// ObjectEntry is a listed object.
type ObjectEntry struct {
	Key          string        `xml:"Key"`
	LastModified protocol.Time `xml:"LastModified"`
	ETag         string        `xml:"ETag"`
	Size         int64         `xml:"Size"`
	StorageClass string        `xml:"StorageClass"`
	Owner        *Owner        `xml:"Owner,omitempty"`
}

// CommonPrefix is a rolled-up prefix.
type CommonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// ListObjectsOutput is ListObjects' ListBucketResult.
type ListObjectsOutput struct {
	XMLName        xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	MaxKeys        int32          `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter,omitempty"`
	IsTruncated    bool           `xml:"IsTruncated"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	Contents       []ObjectEntry  `xml:"Contents"`
	CommonPrefixes []CommonPrefix `xml:"CommonPrefixes"`
}

func maxKeys(m *int32) (int32, error) {
	if m == nil {
		return 1000, nil
	}
	if *m < 0 {
		return 0, awserr.New(http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range").With("ArgumentName", "max-keys")
	}
	return min(*m, 1000), nil
}

// s3enc is S3's encoding-type=url: query escaping (space as '+').
func s3enc(enc, s string) string {
	if enc == "url" {
		return url.QueryEscape(s)
	}
	return s
}

func (s *Service) list(ctx context.Context, c *catalog.Call, bucketName, prefix, delim, after string, max int32) (objstore.ListPage, error) {
	b, err := s.bucket(ctx, c, bucketName)
	if err != nil {
		return objstore.ListPage{}, err
	}
	if err := s.authorize(ctx, c, b, "s3:ListBucket", "arn:aws:s3:::"+bucketName, map[string][]string{"s3:prefix": {prefix}, "s3:delimiter": {delim}}); err != nil {
		return objstore.ListPage{}, err
	}
	if max == 0 {
		return objstore.ListPage{}, nil
	}
	p, err := s.st.List(ctx, bucketName, objstore.ListOptions{Prefix: prefix, Delimiter: delim, After: after, MaxKeys: int(max)})
	return p, storeErr(err, bucketName, "")
}

func entries(p objstore.ListPage, enc string, owner *Owner) ([]ObjectEntry, []CommonPrefix) {
	objs := make([]ObjectEntry, 0, len(p.Objects))
	for _, o := range p.Objects {
		objs = append(objs, ObjectEntry{Key: s3enc(enc, o.Key), LastModified: protocol.NewTime(o.LastModified), ETag: o.ETag, Size: o.Size, StorageClass: "STANDARD", Owner: owner})
	}
	var cps []CommonPrefix
	for _, cp := range p.CommonPrefixes {
		cps = append(cps, CommonPrefix{Prefix: s3enc(enc, cp)})
	}
	return objs, cps
}

func (s *Service) listObjects(ctx context.Context, c *catalog.Call, in *ListObjectsInput) (*ListObjectsOutput, error) {
	max, err := maxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	p, err := s.list(ctx, c, in.Bucket, in.Prefix, in.Delimiter, in.Marker, max)
	if err != nil {
		return nil, err
	}
	b, _ := s.bucket(ctx, c, in.Bucket)
	owner := &Owner{ID: canonicalID(b.AccountID), DisplayName: "lextrail"}
	e := in.EncodingType
	out := &ListObjectsOutput{Name: in.Bucket, Prefix: s3enc(e, in.Prefix), Marker: s3enc(e, in.Marker), MaxKeys: max,
		Delimiter: s3enc(e, in.Delimiter), IsTruncated: p.IsTruncated, EncodingType: e}
	out.Contents, out.CommonPrefixes = entries(p, e, owner)
	if p.IsTruncated && in.Delimiter != "" {
		out.NextMarker = s3enc(e, p.Next)
	}
	return out, nil
}

// ListObjectsV2Input is ListObjectsV2's input.
type ListObjectsV2Input struct {
	Bucket            string `location:"uri" locationName:"Bucket"`
	Prefix            string `location:"querystring" locationName:"prefix"`
	Delimiter         string `location:"querystring" locationName:"delimiter"`
	ContinuationToken string `location:"querystring" locationName:"continuation-token"`
	StartAfter        string `location:"querystring" locationName:"start-after"`
	MaxKeys           *int32 `location:"querystring" locationName:"max-keys"`
	FetchOwner        bool   `location:"querystring" locationName:"fetch-owner"`
	EncodingType      string `location:"querystring" locationName:"encoding-type"`
}

func (o *ListObjectsV2Input) bucketName() string { return o.Bucket }

// ListObjectsV2Output is ListObjectsV2's ListBucketResult.
type ListObjectsV2Output struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	KeyCount              int            `xml:"KeyCount"`
	MaxKeys               int32          `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	Contents              []ObjectEntry  `xml:"Contents"`
	CommonPrefixes        []CommonPrefix `xml:"CommonPrefixes"`
}

func (s *Service) listObjectsV2(ctx context.Context, c *catalog.Call, in *ListObjectsV2Input) (*ListObjectsV2Output, error) {
	max, err := maxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	after := in.StartAfter
	if in.ContinuationToken != "" {
		t, err := base64.RawURLEncoding.DecodeString(in.ContinuationToken)
		if err != nil {
			return nil, awserr.New(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect").With("ArgumentName", "continuation-token")
		}
		after = string(t)
	}
	p, err := s.list(ctx, c, in.Bucket, in.Prefix, in.Delimiter, after, max)
	if err != nil {
		return nil, err
	}
	var owner *Owner
	if in.FetchOwner {
		b, _ := s.bucket(ctx, c, in.Bucket)
		owner = &Owner{ID: canonicalID(b.AccountID), DisplayName: "lextrail"}
	}
	e := in.EncodingType
	out := &ListObjectsV2Output{Name: in.Bucket, Prefix: s3enc(e, in.Prefix), MaxKeys: max, Delimiter: s3enc(e, in.Delimiter),
		IsTruncated: p.IsTruncated, EncodingType: e, ContinuationToken: in.ContinuationToken, StartAfter: s3enc(e, in.StartAfter)}
	out.Contents, out.CommonPrefixes = entries(p, e, owner)
	out.KeyCount = len(out.Contents) + len(out.CommonPrefixes)
	if p.IsTruncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(p.Next))
	}
	return out, nil
}

package s3

import "testing"

func TestStoredEncoding(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""}, {"gzip", "gzip"}, {"aws-chunked", ""}, {"aws-chunked,gzip", "gzip"},
		{"gzip, aws-chunked", "gzip"}, {"AWS-CHUNKED", ""}, {"br,gzip", "br,gzip"},
	} {
		if got := storedEncoding(tc.in); got != tc.want {
			t.Errorf("storedEncoding(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

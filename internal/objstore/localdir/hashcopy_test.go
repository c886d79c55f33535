package localdir

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

type failWriter struct {
	w    io.Writer
	left int
}

func (f *failWriter) Write(p []byte) (int, error) {
	if f.left < len(p) {
		return 0, errors.New("disk full")
	}
	f.left -= len(p)
	return f.w.Write(p)
}

func TestCopyHashing(t *testing.T) {
	data := make([]byte, 4*copyBuf+17)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		size    int
		reader  func(io.Reader) io.Reader
		failAt  int // writer fails once this many bytes were written; -1 never
		wantErr error
	}{
		{"empty", 0, nil, -1, nil},
		{"one byte", 1, nil, -1, nil},
		{"one buffer less one", copyBuf - 1, nil, -1, nil},
		{"one buffer", copyBuf, nil, -1, nil},
		{"one buffer plus one", copyBuf + 1, nil, -1, nil},
		{"more buffers than the ring", len(data), nil, -1, nil},
		{"short reads", len(data), func(r io.Reader) io.Reader { return iotest.HalfReader(r) }, -1, nil},
		{"data with EOF", len(data), func(r io.Reader) io.Reader { return iotest.DataErrReader(r) }, -1, nil},
		{"reader fails early", len(data), func(r io.Reader) io.Reader { return io.MultiReader(io.LimitReader(r, 100), iotest.ErrReader(boom)) }, -1, boom},
		{"reader fails late", len(data), func(r io.Reader) io.Reader {
			return io.MultiReader(io.LimitReader(r, 3*copyBuf+5), iotest.ErrReader(boom))
		}, -1, boom},
		{"writer fails first", len(data), nil, 0, errors.New("disk full")},
		{"writer fails later", len(data), nil, 2 * copyBuf, errors.New("disk full")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(data[:tc.size])
			if tc.reader != nil {
				r = tc.reader(r)
			}
			var out bytes.Buffer
			var w io.Writer = &out
			if tc.failAt >= 0 {
				w = &failWriter{w: &out, left: tc.failAt}
			}
			n, sum, err := copyHashing(w, r)
			if tc.wantErr != nil {
				if err == nil || err.Error() != tc.wantErr.Error() {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(tc.size) || !bytes.Equal(out.Bytes(), data[:tc.size]) {
				t.Fatalf("copied %d bytes (%d written), want %d", n, out.Len(), tc.size)
			}
			if want := md5.Sum(data[:tc.size]); sum != want {
				t.Fatalf("md5 %x, want %x", sum, want)
			}
		})
	}
}

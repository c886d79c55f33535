package localdir

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// segSize is the plaintext size of one encrypted segment; each segment
// adds a 16-byte GCM tag on disk.
const segSize = 64 << 10

const tagSize = 16

func segNonce(prefix []byte, i uint32, last bool) []byte {
	n := make([]byte, 12)
	copy(n, prefix[:7])
	binary.BigEndian.PutUint32(n[7:11], i)
	if last {
		n[11] = 1
	}
	return n
}

// segmentWriter encrypts a stream into sealed segments.
type segmentWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	prefix []byte
	buf    []byte
	out    []byte
	i      uint32
}

func newSegmentWriter(key, prefix []byte) (*segmentWriter, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	return &segmentWriter{aead: aead, prefix: prefix, buf: make([]byte, 0, segSize), out: make([]byte, 0, segSize+tagSize)}, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (s *segmentWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(s.buf) == segSize {
			// A full segment is sealed only once more data follows, so
			// that the last segment is always marked last.
			if err := s.seal(false); err != nil {
				return n, err
			}
		}
		k := copy(s.buf[len(s.buf):segSize], p)
		s.buf = s.buf[:len(s.buf)+k]
		p = p[k:]
		n += k
	}
	return n, nil
}

func (s *segmentWriter) seal(last bool) error {
	s.out = s.aead.Seal(s.out[:0], segNonce(s.prefix, s.i, last), s.buf, nil)
	s.i++
	s.buf = s.buf[:0]
	_, err := s.w.Write(s.out)
	return err
}

// Close seals the last (possibly empty) segment.
func (s *segmentWriter) Close() error { return s.seal(true) }

// segmentReader decrypts the plaintext range [off, off+n) of an object of
// size plaintext bytes.
type segmentReader struct {
	f      *os.File
	aead   cipher.AEAD
	prefix []byte
	nsegs  uint32
	seg    uint32
	skip   int64 // bytes to drop from the first segment
	left   int64
	enc    []byte
	pbuf   []byte
	plain  []byte
	pos    int
	err    error
}

func newSegmentReader(f *os.File, key, prefix []byte, size, off, n int64) (*segmentReader, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nsegs := uint32((size + segSize - 1) / segSize)
	if nsegs == 0 {
		nsegs = 1 // an empty object is one empty segment
	}
	seg := uint32(off / segSize)
	if _, err := f.Seek(int64(seg)*(segSize+tagSize), io.SeekStart); err != nil {
		return nil, err
	}
	return &segmentReader{f: f, aead: aead, prefix: prefix, nsegs: nsegs, seg: seg, skip: off % segSize, left: n,
		enc: make([]byte, segSize+tagSize), pbuf: make([]byte, 0, segSize)}, nil
}

var errCorrupt = errors.New("localdir: encrypted object is corrupt or truncated")

func (r *segmentReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	for r.pos >= len(r.plain) {
		if err := r.load(); err != nil {
			return 0, err
		}
	}
	avail := r.plain[r.pos:]
	if int64(len(avail)) > r.left {
		avail = avail[:r.left]
	}
	n := copy(p, avail)
	r.pos += n
	r.left -= int64(n)
	return n, nil
}

// WriteTo writes the rest of the range straight from the decrypted
// segments (no copy into a caller's buffer).
func (r *segmentReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.left > 0 {
		if r.pos >= len(r.plain) {
			if err := r.load(); err != nil {
				return total, err
			}
			continue
		}
		avail := r.plain[r.pos:]
		if int64(len(avail)) > r.left {
			avail = avail[:r.left]
		}
		n, err := w.Write(avail)
		r.pos += n
		r.left -= int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// load reads and opens the next segment.
func (r *segmentReader) load() error {
	if r.err != nil {
		return r.err
	}
	if r.seg >= r.nsegs {
		r.err = errCorrupt
		return r.err
	}
	last := r.seg == r.nsegs-1
	k, err := io.ReadFull(r.f, r.enc)
	if err != nil && !(last && errors.Is(err, io.ErrUnexpectedEOF)) {
		r.err = errCorrupt
		return r.err
	}
	plain, err := r.aead.Open(r.pbuf[:0], segNonce(r.prefix, r.seg, last), r.enc[:k], nil)
	if err != nil {
		r.err = errCorrupt
		return r.err
	}
	r.seg++
	r.plain, r.pos = plain, int(r.skip)
	r.skip = 0
	return nil
}

func (r *segmentReader) Close() error { return r.f.Close() }

package localdir

import (
	"crypto/md5"
	"io"
	"sync"
)

// copyBuf is the size of one copy buffer; a Put holds up to copyBufs of
// them while its MD5 trails the writes.
const (
	copyBuf  = 256 << 10
	copyBufs = 3
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBuf); return &b }}

// copyHashing copies r to w and returns the byte count and the MD5 of what
// was copied. The MD5 (the ETag, the costliest pass over a plain object's
// bytes) runs in a second goroutine over the buffers already written,
// overlapping the reading, the request's SHA-256 check and the writing:
// an object that fills more than one buffer has its MD5 ready about when
// its last byte is written instead of one whole pass later. Buffers are
// handed back only after both the write and the hash are done with them.
func copyHashing(w io.Writer, r io.Reader) (int64, [md5.Size]byte, error) {
	var sum [md5.Size]byte
	first := bufPool.Get().(*[]byte)
	k, rerr := fill(r, *first)
	if rerr != nil || k < len(*first) {
		// Small object: one buffer, hashed in line.
		defer bufPool.Put(first)
		if rerr != nil && rerr != io.EOF {
			return int64(k), sum, rerr
		}
		if _, err := w.Write((*first)[:k]); err != nil {
			return int64(k), sum, err
		}
		return int64(k), md5.Sum((*first)[:k]), nil
	}

	free := make(chan *[]byte, copyBufs)
	full := make(chan []byte, copyBufs)
	done := make(chan struct{})
	go func() {
		h := md5.New()
		for b := range full {
			h.Write(b)
			// The slice is a prefix of a pooled buffer: hand the
			// whole buffer back.
			bb := b[:cap(b)]
			free <- &bb
		}
		h.Sum(sum[:0])
		close(done)
	}()
	for range copyBufs - 1 {
		free <- bufPool.Get().(*[]byte)
	}
	var n int64
	var err error
	buf := first
	for {
		if k > 0 {
			if _, err = w.Write((*buf)[:k]); err != nil {
				free <- buf
				break
			}
			n += int64(k)
			full <- (*buf)[:k]
		} else {
			free <- buf
		}
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
		buf = <-free
		k, rerr = fill(r, *buf)
	}
	close(full)
	<-done
	for range copyBufs {
		bufPool.Put(<-free)
	}
	return n, sum, err
}

// fill reads into b until it is full, r fails or r ends (io.EOF, with the
// bytes read before it).
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

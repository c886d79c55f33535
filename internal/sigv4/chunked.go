package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"strconv"
	"strings"
)

// MaxChunkSize bounds one aws-chunked chunk; larger chunks are rejected so
// that the reader never holds more than this in memory.
const MaxChunkSize = 16 << 20

const (
	maxChunkLine = 4096 // chunk header or trailer line
	maxTrailers  = 16
)

var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// newChecksum returns the hash for an x-amz-checksum-* trailer name.
func newChecksum(name string) (hash.Hash, string, bool) {
	switch name {
	case "x-amz-checksum-crc32":
		return crc32.NewIEEE(), "CRC32", true
	case "x-amz-checksum-crc32c":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli)), "CRC32C", true
	case "x-amz-checksum-crc64nvme":
		return crc64.New(crc64NVME), "CRC64NVME", true
	case "x-amz-checksum-sha1":
		return sha1.New(), "SHA1", true
	case "x-amz-checksum-sha256":
		return sha256.New(), "SHA256", true
	}
	return nil, "", false
}

// ChunkedReader decodes an aws-chunked body and returns the decoded
// payload. Call it only after Verify accepted the request.
//
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signature is checked
//     (the chain starts at a.Signature).
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: as above, plus the
//     x-amz-trailer-signature over the trailer.
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER: no chunk signatures.
//
// In the trailer forms the checksum named by X-Amz-Trailer (crc32, crc32c,
// crc64nvme, sha1, sha256) is computed over the payload and compared with
// the trailer. A chunk is returned only after its signature was checked,
// so at most one chunk (MaxChunkSize) is buffered. Failures are *Error,
// returned from Read and repeated on every later Read; callers must read
// to io.EOF before trusting the payload.
func (a *Auth) ChunkedReader(body io.Reader, secret string) io.Reader {
	c := &chunkedReader{a: a, br: bufio.NewReaderSize(body, maxChunkLine)}
	switch a.PayloadHash {
	case streamingSigned:
		c.signed = true
	case streamingSignedTrailer:
		c.signed, c.trailer, c.signedTrailer = true, true, true
	case streamingUnsignedTrailer:
		c.trailer = true
	default:
		c.err = malformed(a.Presigned, "x-amz-content-sha256 '%s' is not an aws-chunked payload.", clip(a.PayloadHash))
		return c
	}
	if c.signed {
		c.key = signingKey(secret, a.ScopeDate, a.Region, a.Service)
		c.prev = strings.ToLower(a.Signature)
		c.scope = a.scope()
	}
	if c.trailer && a.Trailer != "" {
		h, name, ok := newChecksum(a.Trailer)
		if !ok {
			c.err = &Error{Kind: IncompleteBody, Message: "unsupported X-Amz-Trailer '" + clip(a.Trailer) + "'"}
			return c
		}
		c.sum, c.sumName = h, name
	}
	return c
}

type chunkedReader struct {
	a                              *Auth
	br                             *bufio.Reader
	signed, trailer, signedTrailer bool
	key                            []byte
	prev, scope                    string
	sum                            hash.Hash
	sumName                        string

	buf []byte
	off int
	err error
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	for {
		if c.off < len(c.buf) {
			n := copy(p, c.buf[c.off:])
			c.off += n
			return n, nil
		}
		if c.err != nil {
			return 0, c.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		c.err = c.next()
	}
}

func bad(msg string) *Error { return &Error{Kind: IncompleteBody, Message: msg} }

// line reads one CRLF-terminated line without the CRLF.
func (c *chunkedReader) line() ([]byte, *Error) {
	l, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, bad("aws-chunked line too long")
	}
	if err != nil {
		return nil, bad("aws-chunked body ended early")
	}
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return nil, bad("aws-chunked line not terminated by CRLF")
	}
	return l[:len(l)-2], nil
}

// next reads one chunk into c.buf; after the final chunk it checks the
// trailer and returns io.EOF.
func (c *chunkedReader) next() error {
	l, e := c.line()
	if e != nil {
		return e
	}
	sizeStr, ext, hasExt := bytes.Cut(l, []byte(";"))
	if len(sizeStr) == 0 || len(sizeStr) > 8 {
		return bad("invalid aws-chunked chunk size")
	}
	size, err := strconv.ParseUint(string(sizeStr), 16, 32)
	if err != nil {
		return bad("invalid aws-chunked chunk size")
	}
	if size > MaxChunkSize {
		return bad("aws-chunked chunk larger than " + strconv.Itoa(MaxChunkSize) + " bytes")
	}
	var sig string
	if c.signed {
		v, ok := bytes.CutPrefix(ext, []byte("chunk-signature="))
		if !hasExt || !ok || !isHex64(string(v)) {
			return bad("aws-chunked chunk without a valid chunk-signature")
		}
		sig = strings.ToLower(string(v))
	}
	if err := c.readChunk(int(size)); err != nil {
		return err
	}
	if c.signed {
		if !c.checkChunk(sig, c.buf) {
			c.buf = c.buf[:0]
			return &Error{Kind: SignatureMismatch, Message: "aws-chunked chunk signature does not match",
				accessKeyID: c.a.AccessKeyID, signature: sig}
		}
		c.prev = sig
	}
	if c.sum != nil {
		c.sum.Write(c.buf)
	}
	if size > 0 {
		l, e := c.line()
		if e != nil || len(l) != 0 {
			c.buf = c.buf[:0]
			return bad("aws-chunked chunk data not followed by CRLF")
		}
		return nil
	}
	if e := c.finish(); e != nil {
		return e
	}
	return io.EOF
}

func (c *chunkedReader) checkChunk(sig string, data []byte) bool {
	h := sha256.Sum256(data)
	var b [512]byte
	s := append(b[:0], "AWS4-HMAC-SHA256-PAYLOAD\n"...)
	s = append(s, c.a.amzDate...)
	s = append(s, '\n')
	s = append(s, c.scope...)
	s = append(s, '\n')
	s = append(s, c.prev...)
	s = append(s, "\n"+emptySHA256+"\n"...)
	s = hex.AppendEncode(s, h[:])
	return c.mac(s, sig)
}

func (c *chunkedReader) mac(s []byte, sig string) bool {
	m := hmac.New(sha256.New, c.key)
	m.Write(s)
	var want [32]byte
	if _, err := hex.Decode(want[:], []byte(sig)); err != nil {
		return false
	}
	return hmac.Equal(m.Sum(nil), want[:])
}

// finish reads the trailer section after the final chunk up to the blank
// line and checks the checksum and trailer signature.
func (c *chunkedReader) finish() *Error {
	var canon []byte // trailer headers as signed: "name:value\n"
	var trailerSig string
	var got string
	seen := false
	for i := 0; ; i++ {
		if i > maxTrailers {
			return bad("too many aws-chunked trailers")
		}
		l, e := c.line()
		if e != nil {
			return e
		}
		if len(l) == 0 {
			break
		}
		if !c.trailer {
			return bad("unexpected trailer in aws-chunked body")
		}
		name, val, ok := strings.Cut(string(l), ":")
		if !ok {
			return bad("malformed aws-chunked trailer")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.TrimSpace(val)
		if name == "x-amz-trailer-signature" {
			trailerSig = val
			continue
		}
		canon = append(canon, name...)
		canon = append(canon, ':')
		canon = append(canon, val...)
		canon = append(canon, '\n')
		if strings.HasPrefix(name, "x-amz-checksum-") {
			if name != c.a.Trailer || c.sum == nil {
				return bad("trailer " + clip(name) + " was not declared in X-Amz-Trailer")
			}
			if seen {
				return bad("duplicate trailer " + name)
			}
			seen, got = true, val
		}
	}
	if c.signedTrailer {
		if !isHex64(trailerSig) {
			return bad("aws-chunked trailer without x-amz-trailer-signature")
		}
		h := sha256.Sum256(canon)
		s := []byte("AWS4-HMAC-SHA256-TRAILER\n" + c.a.amzDate + "\n" + c.scope + "\n" + c.prev + "\n")
		s = hex.AppendEncode(s, h[:])
		if !c.mac(s, strings.ToLower(trailerSig)) {
			return &Error{Kind: SignatureMismatch, Message: "aws-chunked trailer signature does not match",
				accessKeyID: c.a.AccessKeyID, signature: trailerSig}
		}
	}
	if c.sum != nil {
		if !seen {
			return bad("declared trailer " + c.a.Trailer + " missing from aws-chunked body")
		}
		want := base64.StdEncoding.EncodeToString(c.sum.Sum(nil))
		if got != want {
			return &Error{Kind: ChecksumMismatch, checksumAlgName: c.sumName,
				Message: "The " + c.sumName + " you specified did not match the calculated checksum."}
		}
	}
	return nil
}

// readChunk reads size bytes into c.buf. The buffer grows with the data
// that actually arrives, so a chunk header claiming a large size costs no
// memory until the bytes are sent.
func (c *chunkedReader) readChunk(size int) error {
	c.buf, c.off = c.buf[:0], 0
	for len(c.buf) < size {
		if len(c.buf) == cap(c.buf) {
			nb := make([]byte, len(c.buf), min(size, max(2*cap(c.buf), 64<<10)))
			copy(nb, c.buf)
			c.buf = nb
		}
		n, err := c.br.Read(c.buf[len(c.buf):min(cap(c.buf), size)])
		c.buf = c.buf[:len(c.buf)+n]
		if err != nil && len(c.buf) < size {
			c.buf = c.buf[:0]
			return bad("aws-chunked body ended inside a chunk")
		}
	}
	return nil
}

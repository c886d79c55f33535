package logs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
)

// A block holds the events of one accepted PutLogEvents batch, sorted by
// timestamp, with consecutive sequence numbers from the block's first_seq.
//
// Codec (version 1):
//
//	byte    1 (version)
//	uvarint event count
//	per event: uvarint (timestamp - min_ts), uvarint len(message), message
//
// Decoding aliases the messages into the block's buffer (no copy per
// event), which is what lets FilterLogEvents walk a million events in well
// under a second.
const blockVersion = 1

// Block flags (logs_blocks.flags).
const (
	// flagAlnumEscape: some message hides an ASCII word character behind a
	// \u escape, so JSON-pattern hints cannot be checked against the bloom.
	flagAlnumEscape = 1 << 0
	// flagEncrypted: data and bloom are AES-256-GCM under dek_id.
	flagEncrypted = 1 << 1
)

// event is one log event.
type event struct {
	ts  int64
	seq int64
	msg []byte
}

var errCorruptBlock = errors.New("logs: corrupt block")

// encodeBlock encodes events (sorted by timestamp) relative to minTS.
func encodeBlock(events []event, minTS int64) []byte {
	size := 1 + binary.MaxVarintLen64
	for _, e := range events {
		size += 2*binary.MaxVarintLen64 + len(e.msg)
	}
	b := make([]byte, 0, size)
	b = append(b, blockVersion)
	b = binary.AppendUvarint(b, uint64(len(events)))
	for _, e := range events {
		b = binary.AppendUvarint(b, uint64(e.ts-minTS))
		b = binary.AppendUvarint(b, uint64(len(e.msg)))
		b = append(b, e.msg...)
	}
	return b
}

// decodeBlock decodes a block into dst (reused), numbering events from
// firstSeq. Messages alias data.
func decodeBlock(dst []event, data []byte, minTS, firstSeq int64) ([]event, error) {
	dst = dst[:0]
	if len(data) < 2 || data[0] != blockVersion {
		return nil, errCorruptBlock
	}
	p := 1
	n, k := binary.Uvarint(data[p:])
	if k <= 0 || n > uint64(len(data)) {
		return nil, errCorruptBlock
	}
	p += k
	for i := uint64(0); i < n; i++ {
		d, k := binary.Uvarint(data[p:])
		if k <= 0 {
			return nil, errCorruptBlock
		}
		p += k
		l, k := binary.Uvarint(data[p:])
		if k <= 0 || l > uint64(len(data)-p-k) {
			return nil, errCorruptBlock
		}
		p += k
		dst = append(dst, event{ts: minTS + int64(d), seq: firstSeq + int64(i), msg: data[p : p+int(l) : p+int(l)]})
		p += int(l)
	}
	if p != len(data) {
		return nil, errCorruptBlock
	}
	return dst, nil
}

// ---- trigram Bloom filter ----

// isWord is a byte that belongs to a trigram: ASCII letters, digits,
// underscore, and every byte of a non-ASCII character (the same class
// filter patterns call word characters).
func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

const (
	bloomMinBits = 512
	bloomMaxBits = 1 << 20
	bloomHashes  = 3
)

// bloomBuilder collects the trigrams of a block's messages.
type bloomBuilder struct {
	grams []uint32
}

func (bb *bloomBuilder) add(msg []byte) {
	run := 0
	for i, c := range msg {
		if !isWord(c) {
			run = 0
			continue
		}
		run++
		if run >= 3 {
			bb.grams = append(bb.grams, uint32(msg[i-2])|uint32(msg[i-1])<<8|uint32(c)<<16)
		}
	}
}

// build returns the filter's bits (a power-of-two number of bytes).
func (bb *bloomBuilder) build() []byte {
	m := max(bloomMinBits, min(bloomMaxBits, 1<<bits.Len(uint(len(bb.grams)*4))))
	bitsv := make([]byte, m/8)
	mask := uint32(m - 1)
	for _, g := range bb.grams {
		h1, h2 := bloomHash(g)
		for i := uint32(0); i < bloomHashes; i++ {
			p := (h1 + i*h2) & mask
			bitsv[p>>3] |= 1 << (p & 7)
		}
	}
	return bitsv
}

func bloomHash(g uint32) (uint32, uint32) {
	h1 := g * 0x9E3779B1
	h1 ^= h1 >> 15
	h2 := (g*0x85EBCA77 ^ g>>7) | 1
	return h1, h2
}

// bloomHas reports whether every trigram of every word run of lit (runs
// of three or more word bytes) may be in the filter. Literals with no such
// run carry no information and pass.
func bloomHas(filter, lit []byte) bool {
	if len(filter) == 0 {
		return true
	}
	mask := uint32(len(filter)*8 - 1)
	run := 0
	for i, c := range lit {
		if !isWord(c) {
			run = 0
			continue
		}
		run++
		if run < 3 {
			continue
		}
		g := uint32(lit[i-2]) | uint32(lit[i-1])<<8 | uint32(c)<<16
		h1, h2 := bloomHash(g)
		for k := uint32(0); k < bloomHashes; k++ {
			p := (h1 + k*h2) & mask
			if filter[p>>3]&(1<<(p&7)) == 0 {
				return false
			}
		}
	}
	return true
}

// hasAlnumEscape reports whether msg may hide an ASCII word character
// behind a \u00XX escape (see filter.Hint).
func hasAlnumEscape(msg []byte) bool {
	for {
		i := bytes.Index(msg, []byte(`\u00`))
		if i < 0 {
			return false
		}
		msg = msg[i+4:]
		if len(msg) >= 2 {
			c := unhex(msg[0])<<4 | unhex(msg[1])
			if c < 0x80 && isWord(byte(c)) {
				return true
			}
		}
	}
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 0
}

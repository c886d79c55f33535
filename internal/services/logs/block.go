package logs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"sync"

	"github.com/klauspost/compress/s2"
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
// event). The bytes are stored S2-compressed (flagS2) when that pays, then
// encrypted (flagEncrypted) for KMS groups.
const blockVersion = 1

// Block flags (logs_blocks.flags).
const (
	// flagAlnumEscape: some message hides an ASCII word character behind a
	// \u escape, so JSON-pattern hints cannot be checked against the bloom.
	flagAlnumEscape = 1 << 0
	// flagEncrypted: data and bloom are AES-256-GCM under dek_id.
	flagEncrypted = 1 << 1
	// flagS2: data is the codec's bytes compressed with S2 (before
	// encryption, when both).
	flagS2 = 1 << 2
	// flagTokens: the Bloom filter also holds every whole word token
	// (maximal run of word bytes), not only trigrams.
	flagTokens = 1 << 3
)

// compressBlock compresses encoded block bytes with S2 when that saves at
// least an eighth; JSON documents shrink five- to tenfold, which is most
// of what a full scan reads from the database, and S2 decodes at
// gigabytes per second per core.
func compressBlock(raw []byte) ([]byte, bool) { return compressBlockInto(nil, raw) }

// compressBlockInto is compressBlock writing into dst when it is large
// enough (s2.MaxEncodedLen).
func compressBlockInto(dst, raw []byte) ([]byte, bool) {
	enc := s2.Encode(dst, raw)
	if len(enc) > len(raw)-len(raw)/8 {
		return raw, false
	}
	return enc, true
}

// encodeBufs recycles the buffers a block is encoded and compressed into
// on ingest: the database copies a statement's arguments, so they are
// free again once the block's INSERT has run (a pass of Lex conversation
// logs or a PutLogEvents batch would otherwise allocate its size twice).
// A few are kept across garbage collections, which empty a sync.Pool
// between two passes of a busy server.
var encodeBufs struct {
	mu   sync.Mutex
	bufs [][]byte
}

func getEncodeBuf(n int) []byte {
	encodeBufs.mu.Lock()
	defer encodeBufs.mu.Unlock()
	for i, b := range encodeBufs.bufs {
		if cap(b) >= n {
			last := len(encodeBufs.bufs) - 1
			encodeBufs.bufs[i] = encodeBufs.bufs[last]
			encodeBufs.bufs = encodeBufs.bufs[:last]
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

func putEncodeBuf(b []byte) {
	if cap(b) == 0 || cap(b) > 4<<20 {
		return
	}
	encodeBufs.mu.Lock()
	defer encodeBufs.mu.Unlock()
	if len(encodeBufs.bufs) < 4 {
		encodeBufs.bufs = append(encodeBufs.bufs, b)
	}
}

// maxRawBlock bounds an encoded block (encodeBlock of what splitEvents
// puts in one block: MaxBatchBytes of messages, two varints per event).
// A compressed block declaring more is corrupt: it is refused before
// s2 allocates what it declares (up to 4 GiB).
const maxRawBlock = 1 + binary.MaxVarintLen64 + MaxBatchEvents*2*binary.MaxVarintLen64 + MaxBatchBytes

func decompressBlock(data []byte) ([]byte, error) {
	if n, err := s2.DecodedLen(data); err != nil || n > maxRawBlock {
		return nil, errCorruptBlock
	}
	out, err := s2.Decode(nil, data)
	if err != nil {
		return nil, errCorruptBlock
	}
	return out, nil
}

// blockBufs recycles the buffers blocks are decompressed into (a full
// block is about 1 MB): a scan decompresses hundreds of them per second,
// and fresh ones would each be zeroed and soon collected.
var blockBufs sync.Pool

// decompressPooled decompresses data into a pooled buffer; the caller
// returns buf with putBlockBuf once nothing aliases out.
func decompressPooled(data []byte) (buf *[]byte, out []byte, err error) {
	n, err := s2.DecodedLen(data)
	if err != nil || n > maxRawBlock {
		return nil, nil, errCorruptBlock
	}
	buf, _ = blockBufs.Get().(*[]byte)
	if buf == nil || cap(*buf) < n {
		if buf != nil {
			blockBufs.Put(buf)
		}
		b := make([]byte, max(n, MaxBatchBytes+MaxBatchEvents*2*binary.MaxVarintLen64))
		buf = &b
	}
	out, err = s2.Decode((*buf)[:cap(*buf)], data)
	if err != nil || len(out) != n {
		blockBufs.Put(buf)
		return nil, nil, errCorruptBlock
	}
	return buf, out, nil
}

func putBlockBuf(buf *[]byte) {
	if buf != nil {
		blockBufs.Put(buf)
	}
}

// event is one log event.
type event struct {
	ts  int64
	seq int64
	msg []byte
}

var errCorruptBlock = errors.New("logs: corrupt block")

// encodeBlock encodes events (sorted by timestamp) relative to minTS.
func encodeBlock(events []event, minTS int64) []byte { return encodeBlockInto(nil, events, minTS) }

// encodeBlockSize bounds the encoding of events.
func encodeBlockSize(events []event) int {
	size := 1 + binary.MaxVarintLen64
	for _, e := range events {
		size += 2*binary.MaxVarintLen64 + len(e.msg)
	}
	return size
}

// encodeBlockInto is encodeBlock appending to b[:0].
func encodeBlockInto(b []byte, events []event, minTS int64) []byte {
	if size := encodeBlockSize(events); cap(b) < size {
		b = make([]byte, 0, size)
	}
	b = b[:0]
	b = append(b, blockVersion)
	b = binary.AppendUvarint(b, uint64(len(events)))
	for _, e := range events {
		b = binary.AppendUvarint(b, uint64(e.ts-minTS))
		b = binary.AppendUvarint(b, uint64(len(e.msg)))
		b = append(b, e.msg...)
	}
	return b
}

// walkBlock calls fn for each event of a block in order, numbering them
// from firstSeq; messages alias data. It checks the whole encoding, and
// calls fn for none of the events of a corrupt block.
func walkBlock(data []byte, minTS, firstSeq int64, fn func(event)) error {
	if len(data) < 2 || data[0] != blockVersion {
		return errCorruptBlock
	}
	p := 1
	n, k := binary.Uvarint(data[p:])
	if k <= 0 || n > uint64(len(data)) {
		return errCorruptBlock
	}
	p += k
	// Check the framing first (cheap: varints only), so that fn never
	// sees part of a corrupt block.
	q := p
	for i := uint64(0); i < n; i++ {
		_, k := binary.Uvarint(data[q:])
		if k <= 0 {
			return errCorruptBlock
		}
		q += k
		l, k := binary.Uvarint(data[q:])
		if k <= 0 || l > uint64(len(data)-q-k) {
			return errCorruptBlock
		}
		q += k + int(l)
	}
	if q != len(data) {
		return errCorruptBlock
	}
	for i := uint64(0); i < n; i++ {
		d, k := binary.Uvarint(data[p:])
		p += k
		l, k := binary.Uvarint(data[p:])
		p += k
		fn(event{ts: minTS + int64(d), seq: firstSeq + int64(i), msg: data[p : p+int(l) : p+int(l)]})
		p += int(l)
	}
	return nil
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

// wordByte marks the bytes that belong to trigrams: ASCII letters, digits,
// underscore, and every byte of a non-ASCII character (the same class
// filter patterns call word characters).
var wordByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
	}
	return t
}()

func isWord(c byte) bool { return wordByte[c] }

const (
	bloomMinBits = 512
	bloomMaxBits = 1 << 20
	bloomHashes  = 3
)

// bloomBuilder sets the bits of a block's trigram filter. The filter has
// about two bits per message byte (a power of two between 512 bits and 1
// Mbit): a block's distinct trigrams are far fewer than its bytes (keys
// and common words repeat), which keeps false positives near 1%.
type bloomBuilder struct {
	bits []byte
	mask uint32
	// recent and recentTok remember trigrams and tokens just added (keys
	// and words repeat in every event of a block), so most are not hashed
	// into the filter again.
	recent    [4096]uint32
	recentTok [1024]uint32
}

func newBloom(rawBytes int64) *bloomBuilder {
	m := max(bloomMinBits, min(bloomMaxBits, 1<<bits.Len(uint(rawBytes*2))))
	spareBloom.mu.Lock()
	bb := spareBloom.b
	spareBloom.b = nil
	spareBloom.mu.Unlock()
	if bb == nil {
		return &bloomBuilder{bits: make([]byte, m/8), mask: uint32(m - 1)}
	}
	clear(bb.recent[:])
	clear(bb.recentTok[:])
	if cap(bb.bits) >= m/8 {
		bb.bits = bb.bits[:m/8]
		clear(bb.bits)
	} else {
		bb.bits = make([]byte, m/8)
	}
	bb.mask = uint32(m - 1)
	return bb
}

// spareBloom keeps one builder (20 kB of recent-hash tables, and its
// filter's bits) for the next block, across garbage collections.
var spareBloom struct {
	mu sync.Mutex
	b  *bloomBuilder
}

// release gives bb back for another block once nothing uses its bits (the
// INSERT that stored them has run).
func (bb *bloomBuilder) release() {
	spareBloom.mu.Lock()
	spareBloom.b = bb
	spareBloom.mu.Unlock()
}

func (bb *bloomBuilder) add(msg []byte) {
	run := 0
	var g uint32
	tok := uint32(fnvOffset)
	for _, c := range msg {
		if !wordByte[c] {
			if run > 0 {
				bb.addToken(tok)
			}
			run, tok = 0, fnvOffset
			continue
		}
		tok = (tok ^ uint32(c)) * fnvPrime
		g = (g<<8 | uint32(c)) & 0xffffff
		run++
		if run >= 3 {
			slot := (g * 0x9E3779B1) >> 20
			if bb.recent[slot] == g|1<<31 {
				continue
			}
			bb.recent[slot] = g | 1<<31
			bb.set(bloomHash(g))
		}
	}
	if run > 0 {
		bb.addToken(tok)
	}
}

func (bb *bloomBuilder) addToken(tok uint32) {
	slot := (tok * 0x9E3779B1) >> 22
	if bb.recentTok[slot] == tok|1 {
		return
	}
	bb.recentTok[slot] = tok | 1
	bb.set(tokenHash(tok))
}

func (bb *bloomBuilder) set(h1, h2 uint32) {
	for i := uint32(0); i < bloomHashes; i++ {
		p := (h1 + i*h2) & bb.mask
		bb.bits[p>>3] |= 1 << (p & 7)
	}
}

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// tokenHash spreads a token's FNV-1a hash (tokens and trigrams share the
// filter's bits).
func tokenHash(tok uint32) (uint32, uint32) {
	h := tok ^ 0x5bd1e995
	h ^= h >> 16
	h *= 0x85EBCA6B
	h ^= h >> 13
	return h, (h*0xC2B2AE35 ^ h>>11) | 1
}

func (f bloomFilter) has(h1, h2 uint32) bool {
	mask := uint32(len(f)*8 - 1)
	for k := uint32(0); k < bloomHashes; k++ {
		p := (h1 + k*h2) & mask
		if f[p>>3]&(1<<(p&7)) == 0 {
			return false
		}
	}
	return true
}

type bloomFilter []byte

func (bb *bloomBuilder) build() []byte { return bb.bits }

func bloomHash(g uint32) (uint32, uint32) {
	h1 := g * 0x9E3779B1
	h1 ^= h1 >> 15
	h2 := (g*0x85EBCA77 ^ g>>7) | 1
	return h1, h2
}

// bloomHas reports whether lit may occur in the block the filter
// describes: every trigram of its word runs may be there and, when tokens
// are indexed, every run that is a whole token of any message holding lit
// (runs bounded inside lit by non-word bytes, and the runs at lit's ends
// when whole says lit itself is bounded so). Literals with no run of three
// bytes and no whole token carry no information and pass.
func bloomHas(filter, lit []byte, whole, tokens bool) bool {
	if len(filter) == 0 {
		return true
	}
	f := bloomFilter(filter)
	run, start := 0, 0
	tok := uint32(fnvOffset)
	for i := 0; i <= len(lit); i++ {
		if i == len(lit) || !wordByte[lit[i]] {
			if run > 0 && tokens && (start > 0 || whole) && (i < len(lit) || whole) && !f.has(tokenHash(tok)) {
				return false
			}
			run, tok = 0, fnvOffset
			start = i + 1
			continue
		}
		c := lit[i]
		tok = (tok ^ uint32(c)) * fnvPrime
		run++
		if run < 3 {
			continue
		}
		if !f.has(bloomHash(uint32(lit[i-2])<<16 | uint32(lit[i-1])<<8 | uint32(c))) {
			return false
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

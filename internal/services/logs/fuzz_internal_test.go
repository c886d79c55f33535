package logs

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"lextrail/internal/logs/filter"
)

// FuzzDecodeBlock: stored block bytes (plain or S2) decode or fail with
// errCorruptBlock, never panic; what encodeBlock writes decodes to the
// same events.
func FuzzDecodeBlock(f *testing.F) {
	good := encodeBlock([]event{{ts: 5, msg: []byte("a")}, {ts: 9, msg: []byte(`{"x":1}`)}}, 5)
	f.Add(good, false)
	s2data, _ := compressBlock(bytes.Repeat(good, 1))
	f.Add(s2data, true)
	f.Add([]byte{1, 200, 1}, false)
	f.Fuzz(func(t *testing.T, data []byte, compressed bool) {
		if compressed {
			var err error
			if data, err = decompressBlock(data); err != nil {
				return
			}
		}
		evs, err := decodeBlock(nil, data, 100, 7)
		if err != nil {
			return
		}
		again, err := decodeBlock(nil, encodeBlock(evs, 100), 100, 7)
		if err != nil || len(again) != len(evs) {
			t.Fatalf("re-encoding: %v", err)
		}
		for i := range evs {
			if again[i].ts != evs[i].ts || again[i].seq != evs[i].seq || !bytes.Equal(again[i].msg, evs[i].msg) {
				t.Fatalf("event %d differs", i)
			}
		}
	})
}

// FuzzTokens: paging tokens from clients are parsed without panicking and
// only tokens lextrail made are accepted.
func FuzzTokens(f *testing.F) {
	hash := paramHash("x")
	f.Add(streamToken('f', 42, pos{ts: 1700000000000, stream: 42, seq: 3}))
	f.Add(encodeFilterToken(true, pos{1, 2, 3}, hash))
	f.Add(encodeNameToken("group", hash))
	f.Add(encodeStreamToken(5, "s", hash))
	f.Add("f/" + "0000000000000000000000000000000000000000000000000000000")
	f.Fuzz(func(t *testing.T, tok string) {
		if dir, c, ok := parseStreamToken(tok, 42); ok && streamToken(dir, 42, c) != tok {
			t.Fatalf("accepted a token it would not make: %q", tok)
		}
		if rev, c, ok := decodeFilterToken(tok, hash); ok && encodeFilterToken(rev, c, hash) != tok {
			t.Fatalf("filter token %q", tok)
		}
		decodeNameToken(tok, hash)
		decodeStreamToken(tok, hash)
	})
}

// FuzzBloom: a literal that occurs in a message always passes the filter
// built from it (no false negatives).
func FuzzBloom(f *testing.F) {
	f.Add([]byte(`{"botName":"OrderFlowers","userId":"user-4242"}`), 10, 9)
	f.Fuzz(func(t *testing.T, msg []byte, i, n int) {
		if len(msg) == 0 {
			return
		}
		i = ((i % len(msg)) + len(msg)) % len(msg)
		n = ((n % (len(msg) - i + 1)) + (len(msg) - i + 1)) % (len(msg) - i + 1)
		bb := newBloom(int64(len(msg)))
		bb.add(msg)
		lit := msg[i : i+n]
		if !bloomHas(bb.build(), lit, false, true) {
			t.Fatalf("bloom misses %q of %q", lit, msg)
		}
		// A literal bounded by non-word bytes (or the message's ends) is
		// whole: its edge runs are whole tokens.
		whole := (i == 0 || !isWord(msg[i-1])) && (i+n == len(msg) || !isWord(msg[i+n]))
		if whole && !bloomHas(bb.build(), lit, true, true) {
			t.Fatalf("bloom misses whole %q of %q", lit, msg)
		}
	})
}

// FuzzPatternBloom: a block's Bloom filter never rules out a message of
// the block that the pattern matches (the end-to-end property block
// skipping relies on).
func FuzzPatternBloom(f *testing.F) {
	f.Add(`{ $.userId = "user-4242" && $.missedUtterance IS TRUE }`, `{"userId":"user-4242","missedUtterance":true}`)
	f.Add(`{ $.a = "x*" }`, `{"a":"xyz"}`)
	f.Add(`{ $.a = *z }`, `{"a":"xyz"}`)
	f.Add(`"Failed to process" ?ERROR`, `x Failed to process ERRORS`)
	f.Add(`{ $.a = "é-b" }`, `{"a":"é-b"}`)
	f.Add(`%ERR[0-9]%`, `an ERR1`)
	f.Fuzz(func(t *testing.T, pattern, msg string) {
		p, err := filter.Parse(pattern)
		if err != nil || !p.Match([]byte(msg)) {
			return
		}
		bb := newBloom(int64(len(msg)))
		bb.add([]byte(msg))
		bloom := bb.build()
		jsonOK := !hasAlnumEscape([]byte(msg))
		if !p.Hint().MayMatchHint(func(h *filter.Hint) bool { return bloomHas(bloom, h.Lit, h.Whole, true) }, jsonOK) {
			t.Fatalf("the Bloom filter rules out %q, which %q matches", msg, pattern)
		}
	})
}

// TestDecompressDeclaredSize: a compressed block declaring more than any
// block can hold is corrupt, refused before anything that size is
// allocated (the fuzzer's 1.7 GB declaration); a full block still
// decompresses.
func TestDecompressDeclaredSize(t *testing.T) {
	huge := []byte("\xa9\xa5\xa2\xbc\x063\xf5n") // varint 1,736,004,265, then junk
	just := binary.AppendUvarint(nil, maxRawBlock+1)
	for _, data := range [][]byte{huge, append(just, 0)} {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		if _, err := decompressBlock(data); err != errCorruptBlock {
			t.Errorf("decompressBlock %x: %v", data, err)
		}
		if buf, _, err := decompressPooled(data); err != errCorruptBlock || buf != nil {
			t.Errorf("decompressPooled %x: %v", data, err)
		}
		runtime.ReadMemStats(&m1)
		if n := m1.TotalAlloc - m0.TotalAlloc; n > 1<<20 {
			t.Errorf("%x: %d bytes allocated", data, n)
		}
	}
	var evs []event
	msg := bytes.Repeat([]byte("x"), MaxBatchBytes/MaxBatchEvents-EventOverhead)
	for i := range MaxBatchEvents {
		evs = append(evs, event{ts: int64(i), msg: msg})
	}
	blocks := splitEvents(evs)
	if len(blocks) != 1 {
		t.Fatalf("%d blocks", len(blocks))
	}
	raw := encodeBlock(blocks[0], 0)
	if len(raw) > maxRawBlock {
		t.Fatalf("a full block is %d bytes, maxRawBlock %d", len(raw), maxRawBlock)
	}
	data, _ := compressBlock(raw)
	buf, out, err := decompressPooled(data)
	if err != nil || !bytes.Equal(out, raw) {
		t.Fatalf("full block: %v", err)
	}
	putBlockBuf(buf)
}

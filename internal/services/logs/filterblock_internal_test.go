package logs

import (
	"fmt"
	"math"
	"testing"

	"lextrail/internal/logs/filter"
)

// TestFilterBlockBuffers: filterBlock decompresses into pooled buffers
// that later blocks reuse; the events it returns must stay intact
// whether their messages were copied out (few kept) or kept in place
// (most kept), and a corrupt block returns an error and nothing.
func TestFilterBlockBuffers(t *testing.T) {
	mkBlock := func(b, n int) (blockMeta, []byte, []string) {
		var evs []event
		var msgs []string
		for i := range n {
			m := fmt.Sprintf(`{"block":%d,"i":%d,"pad":"%0200d","match":%v}`, b, i, i, i%7 == 0)
			msgs = append(msgs, m)
			evs = append(evs, event{ts: int64(1000*b + i), msg: []byte(m)})
		}
		raw := encodeBlock(evs, int64(1000*b))
		data, s2 := compressBlock(raw)
		meta := blockMeta{streamID: 1, firstSeq: int64(1000 * b), minTS: int64(1000 * b), maxTS: int64(1000*b + n - 1), events: int64(n)}
		if s2 {
			meta.flags |= flagS2
		}
		return meta, data, msgs
	}
	some, _ := filter.Parse(`{ $.match IS TRUE }`)
	all, _ := filter.Parse(`{ $.i >= 0 }`)
	for _, tc := range []struct {
		name string
		pat  *filter.Pattern
		keep func(i int) bool
	}{
		{"few kept (copied out)", some, func(i int) bool { return i%7 == 0 }},
		{"all kept (buffer handed over)", all, func(int) bool { return true }},
		{"no pattern", nil, func(int) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scan{lo: 0, hi: math.MaxInt64 - 1, pattern: tc.pat}
			type kept struct {
				evs  []event
				want []string
			}
			var got []kept
			for b := range 12 {
				meta, data, msgs := mkBlock(b, 300+b)
				if meta.flags&flagS2 == 0 {
					t.Fatal("test blocks should compress")
				}
				evs, err := filterBlock(sc, meta, data)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for i, m := range msgs {
					if tc.keep(i) {
						want = append(want, m)
					}
				}
				got = append(got, kept{evs, want})
			}
			// Only now, after every block went through the pool, compare.
			for b, k := range got {
				if len(k.evs) != len(k.want) {
					t.Fatalf("block %d: %d events, want %d", b, len(k.evs), len(k.want))
				}
				for i, e := range k.evs {
					if string(e.msg) != k.want[i] {
						t.Fatalf("block %d event %d: %q, want %q", b, i, e.msg, k.want[i])
					}
				}
			}
		})
	}
	t.Run("corrupt", func(t *testing.T) {
		sc := &scan{lo: 0, hi: math.MaxInt64 - 1}
		meta, data, _ := mkBlock(0, 50)
		bad := append([]byte(nil), data...)
		bad[len(bad)/2] ^= 0xff
		if evs, err := filterBlock(sc, meta, bad[:len(bad)-3]); err == nil {
			t.Fatalf("truncated S2 data: %d events, no error", len(evs))
		}
		raw := encodeBlock([]event{{ts: 1, msg: []byte("a")}, {ts: 2, msg: []byte("b")}}, 0)
		if evs, err := filterBlock(sc, blockMeta{events: 2}, raw[:len(raw)-1]); err == nil || evs != nil {
			t.Fatalf("truncated block: %v, %v", evs, err)
		}
	})
}

// TestBloomSampling: after bloomSample filters that ruled nothing out the
// reader stops reading filters for bloomPause blocks, then samples again;
// one block ruled out in a sample keeps them in use.
func TestBloomSampling(t *testing.T) {
	r := &reader{}
	for range bloomSample - 1 {
		if !r.useBloom() {
			t.Fatal("paused too early")
		}
		r.bloomResult(false)
	}
	r.useBloom()
	r.bloomResult(true) // one skipped: no pause
	if !r.useBloom() {
		t.Fatal("paused after a sample that ruled a block out")
	}
	r.bloomResult(false)
	for range bloomSample - 1 {
		r.useBloom()
		r.bloomResult(false)
	}
	for i := range bloomPause {
		if r.useBloom() {
			t.Fatalf("block %d of the pause read its filter", i)
		}
	}
	if !r.useBloom() {
		t.Fatal("no new sample after the pause")
	}
}

package filter

import "bytes"

// Finding a hint's literal in a message is most of the cost of ruling
// messages out. bytes.Index looks for the literal's first byte, which in
// JSON text is often as common as it gets (the quote of a member name,
// the 't' of true); containsAt looks for the literal's rarest byte
// instead (by a fixed ranking of how common bytes are in JSON and English
// text, as memchr-style searches do) and compares the literal around each
// hit.

// byteRank is how common a byte is in log text: higher is more common.
var byteRank = func() (r [256]uint8) {
	for c := range r {
		switch {
		case c >= 0x80:
			r[c] = 40
		case c >= 'A' && c <= 'Z':
			r[c] = 60
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			r[c] = 150
		default:
			r[c] = 100 // punctuation
		}
	}
	for _, c := range []byte(`"e:,taoinsr 0l1.`) {
		r[c] = 250
	}
	for _, c := range []byte(`dchmu-2_{}[]`) {
		r[c] = 200
	}
	return r
}()

// rareIndex is the index in lit of its least common byte (the last of
// equals, which makes the comparison around a hit start further in).
func rareIndex(lit []byte) int {
	k := 0
	for i := range lit {
		if byteRank[lit[i]] <= byteRank[lit[k]] {
			k = i
		}
	}
	return k
}

// containsAt reports whether lit occurs in s, searching for lit[k].
func containsAt(s, lit []byte, k int) bool {
	n := len(lit)
	switch {
	case n == 0:
		return true
	case n > len(s):
		return false
	case n == 1:
		return bytes.IndexByte(s, lit[0]) >= 0
	}
	c := lit[k]
	// Anchor positions: lit[k] at s[i] means lit starts at i-k.
	i, last := k, len(s)-n+k
	for fails := 0; i <= last; fails++ {
		j := bytes.IndexByte(s[i:last+1], c)
		if j < 0 {
			return false
		}
		i += j
		if bytes.Equal(s[i-k:i-k+n], lit) {
			return true
		}
		i++
		if fails > 8 {
			// The anchor byte is common here after all.
			return bytes.Contains(s[i-k:], lit)
		}
	}
	return false
}

// setAnchors records each literal's rarest byte in the hint tree.
func (h *Hint) setAnchors() {
	if h == nil {
		return
	}
	h.anchor = rareIndex(h.Lit)
	for _, k := range h.Kids {
		k.setAnchors()
	}
}

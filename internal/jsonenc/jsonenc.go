// Package jsonenc owns lextrail's hand-written JSON encoding primitives,
// shared by the encoders that build documents byte by byte for speed (the
// CloudTrail record, the conversation-log document) and must produce
// exactly what encoding/json would.
package jsonenc

import (
	"slices"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain8 reports whether none of the eight bytes of s needs attention in a
// JSON string: no control character (< 0x20), quote, backslash or non-ASCII
// byte. It tests all eight at once (SWAR): for a byte x, (x - n) & ^x has
// its high bit set when x < n (borrows only ever add false positives above
// a true one), and a byte equal to q becomes zero after x ^ q.
func plain8(s string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	ctl := (x - lo*0x20) & ^x
	q := x ^ (lo * '"')
	q = (q - lo) & ^q
	bs := x ^ (lo * '\\')
	bs = (bs - lo) & ^bs
	return (ctl|q|bs|x)&hi == 0
}

// AppendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, U+2028/U+2029
// escaped (as encoding/json does; no HTML escaping).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip eight plain bytes at a time (most of a record).
		for i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendMap appends m as a JSON object with its keys sorted (as
// encoding/json orders them), each value appended by val.
func AppendMap[V any](b []byte, m map[string]V, val func([]byte, V) []byte) []byte {
	return AppendMapKeys(b, m, AppendString, val)
}

// AppendMapKeys is AppendMap with each key appended by key: for an encoder
// whose strings are escaped otherwise (encoding/json's default HTML
// escaping, say).
func AppendMapKeys[V any](b []byte, m map[string]V, key func([]byte, string) []byte, val func([]byte, V) []byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = key(b, k)
		b = append(b, ':')
		b = val(b, m[k])
	}
	return append(b, '}')
}

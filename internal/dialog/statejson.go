package dialog

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"lextrail/internal/jsonenc"
)

// AppendJSON appends json.Marshal(s) to b — the same bytes, or its
// error (the runtime stores a session's State with every turn, and
// encoding/json's reflection was most of what writing it cost).
// TestAppendJSON compares the two over every field; a field added to
// State and not here fails it.
func (s *State) AppendJSON(b []byte) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	if in := s.Intent; in != nil && in.Confidence != nil && (math.IsNaN(*in.Confidence) || math.IsInf(*in.Confidence, 0)) {
		_, err := json.Marshal(s) // json's UnsupportedValueError
		return b, err
	}
	b = append(b, `{"sessionId":`...)
	b = appendString(b, s.SessionID)
	b = append(b, `,"turns":`...)
	b = strconv.AppendInt(b, int64(s.Turns), 10)
	if len(s.Attributes) > 0 {
		b = append(b, `,"attributes":`...)
		b = appendStrMap(b, s.Attributes)
	}
	if len(s.Contexts) > 0 {
		b = appendArray(append(b, `,"contexts":`...), s.Contexts)
	}
	if s.Intent != nil {
		b = append(b, `,"intent":`...)
		b = s.Intent.appendJSON(b)
	}
	if s.Action != nil {
		b = append(b, `,"action":`...)
		b = s.Action.appendJSON(b)
	}
	if len(s.Recent) > 0 {
		b = appendArray(append(b, `,"recent":`...), s.Recent)
	}
	if s.ClarifyAttempts != 0 {
		b = append(b, `,"clarifyAttempts":`...)
		b = strconv.AppendInt(b, int64(s.ClarifyAttempts), 10)
	}
	if f := s.FollowUp; f != nil {
		b = append(b, `,"followUp":{"intent":`...)
		b = appendString(b, f.Intent)
		if len(f.Slots) > 0 {
			b = append(b, `,"slots":`...)
			b = appendSlots(b, f.Slots)
		}
		if f.Attempts != 0 {
			b = append(b, `,"attempts":`...)
			b = strconv.AppendInt(b, int64(f.Attempts), 10)
		}
		b = append(b, '}')
	}
	if s.LastCard != nil {
		b = append(b, `,"lastCard":`...)
		b = appendMarshal(b, s.LastCard) // rare
	}
	return append(b, '}'), nil
}

func (c *Context) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, c.Name)
	if len(c.Parameters) > 0 {
		b = append(b, `,"parameters":`...)
		b = appendStrMap(b, c.Parameters)
	}
	if c.TurnsLeft != nil {
		b = append(b, `,"turnsLeft":`...)
		b = strconv.AppendInt(b, int64(*c.TurnsLeft), 10)
	}
	if c.ExpiresMs != 0 {
		b = append(b, `,"expiresMs":`...)
		b = strconv.AppendInt(b, c.ExpiresMs, 10)
	}
	return append(b, '}')
}

func (in *IntentState) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, in.Name)
	b = append(b, `,"slots":`...)
	if in.Slots == nil {
		b = append(b, "null"...)
	} else {
		b = appendSlots(b, in.Slots)
	}
	if len(in.Details) > 0 {
		b = append(b, `,"details":`...)
		b = appendMap(b, in.Details, appendSlotDetail)
	}
	b = append(b, `,"confirmation":`...)
	b = appendString(b, in.Confirmation)
	if in.Attempts != 0 {
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(in.Attempts), 10)
	}
	if in.Confidence != nil {
		b = append(b, `,"confidence":`...)
		b = appendFloat(b, *in.Confidence)
	}
	return append(b, '}')
}

func (a *DialogAction) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, a.Type)
	b = appendOptString(b, `,"intentName":`, a.IntentName)
	if len(a.Slots) > 0 {
		b = append(b, `,"slots":`...)
		b = appendSlots(b, a.Slots)
	}
	b = appendOptString(b, `,"slotToElicit":`, a.SlotToElicit)
	b = appendOptString(b, `,"fulfillmentState":`, a.FulfillmentState)
	if a.Message != nil {
		b = append(b, `,"message":`...)
		b = appendString(b, *a.Message)
	}
	b = appendOptString(b, `,"messageFormat":`, a.MessageFormat)
	return append(b, '}')
}

func (r *IntentSummary) appendJSON(b []byte) []byte {
	b = append(b, '{')
	n := len(b)
	b = appendOptString(b, `,"intentName":`, r.IntentName)
	b = appendOptString(b, `,"checkpointLabel":`, r.CheckpointLabel)
	if len(r.Slots) > 0 {
		b = append(b, `,"slots":`...)
		b = appendSlots(b, r.Slots)
	}
	b = appendOptString(b, `,"confirmationStatus":`, r.ConfirmationStatus)
	b = append(b, `,"dialogActionType":`...)
	b = appendString(b, r.DialogActionType)
	b = appendOptString(b, `,"fulfillmentState":`, r.FulfillmentState)
	b = appendOptString(b, `,"slotToElicit":`, r.SlotToElicit)
	b = append(b[:n], b[n+1:]...) // the first member's comma
	return append(b, '}')
}

func appendOptString(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(append(b, key...), v)
}

// appendMap appends m as a JSON object in json.Marshal's key order (sorted)
// and escaping (appendString), each value written by val.
func appendMap[V any](b []byte, m map[string]V, val func([]byte, V) []byte) []byte {
	return jsonenc.AppendMapKeys(b, m, appendString, val)
}

// appendArray appends xs as a JSON array, each element written by its
// appendJSON.
func appendArray[T any, P interface {
	*T
	appendJSON([]byte) []byte
}](b []byte, xs []T) []byte {
	b = append(b, '[')
	for i := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = P(&xs[i]).appendJSON(b)
	}
	return append(b, ']')
}

func appendStrMap(b []byte, m map[string]string) []byte { return appendMap(b, m, appendString) }

func appendSlots(b []byte, m map[string]*string) []byte { return appendMap(b, m, appendStrPtr) }

// appendSlotDetail appends one slot's details (null for nil).
func appendSlotDetail(b []byte, d *SlotDetail) []byte {
	if d == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"resolutions":`...)
	if d.Resolutions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for j, r := range d.Resolutions {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"value":`...)
			b = appendString(b, r.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"originalValue":`...)
	b = appendStrPtr(b, d.OriginalValue)
	return append(b, '}')
}

func appendStrPtr(b []byte, p *string) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return appendString(b, *p)
}

// appendString appends s as encoding/json writes it: plain printable
// ASCII and valid UTF-8 as they are, anything json escapes (quotes,
// backslashes, control characters, <, >, &, U+2028, U+2029, invalid
// UTF-8) through json.Marshal itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendMarshal(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendMarshal(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendFloat appends a finite f as encoding/json does (the values a
// confidence takes directly, others through json.Marshal).
func appendFloat(b []byte, f float64) []byte {
	if a := math.Abs(f); f != 0 && (a < 1e-6 || a >= 1e21) {
		return appendMarshal(b, f)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func appendMarshal(b []byte, v any) []byte {
	j, _ := json.Marshal(v) // strings, and a card of strings: no error
	return append(b, j...)
}

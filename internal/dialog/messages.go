package dialog

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"lextrail/internal/awserr"
)

// Message formats (messageFormat).
const (
	PlainText     = "PlainText"
	SSML          = "SSML"
	CustomPayload = "CustomPayload"
	Composite     = "Composite"
)

// rendered is a chosen, placeholder-filled message.
type rendered struct {
	text   *string
	format string
	card   *ResponseCard
}

// vars are what placeholders resolve against.
type vars struct {
	slots    map[string]*string
	session  map[string]string
	request  map[string]string
	contexts func(name, param string) (string, bool)
}

// render picks one message per group (spec §2.10): messages without a
// groupNumber form group 1. With one group the message is sent as is
// (messageFormat its contentType); with several, messageFormat is
// Composite and the message a JSON document listing one message per
// group. accept (x-amz-lex:accept-content-types) filters the candidates;
// a group left with none is NoUsableMessageException (400).
func (t *turn) render(msgs []Message, card *string) (rendered, error) {
	var r rendered
	if len(msgs) == 0 {
		r.card = t.card(card)
		return r, nil
	}
	groups := map[int][]Message{}
	var nums []int
	for _, m := range msgs {
		g := 1
		if m.GroupNumber != nil {
			g = *m.GroupNumber
		}
		if _, ok := groups[g]; !ok {
			nums = append(nums, g)
		}
		groups[g] = append(groups[g], m)
	}
	sort.Ints(nums)
	accept := t.acceptTypes()
	type pick struct {
		group int
		m     Message
	}
	var picks []pick
	for _, g := range nums {
		cands := groups[g]
		if accept != nil {
			var ok []Message
			for _, m := range cands {
				if accept[m.ContentType] {
					ok = append(ok, m)
				}
			}
			if len(ok) == 0 {
				return r, awserr.New(http.StatusBadRequest, "BadRequestException",
					"NoUsableMessageException: message group %d has no message of the content types accepted by x-amz-lex:accept-content-types.", g)
			}
			cands = ok
		}
		m := cands[t.choose(g, len(cands))]
		m.Content = t.fill(m.Content)
		picks = append(picks, pick{g, m})
	}
	if len(picks) == 1 {
		r.text, r.format = &picks[0].m.Content, picks[0].m.ContentType
	} else {
		type part struct {
			Type  string `json:"type"`
			Group int    `json:"group"`
			Value string `json:"value"`
		}
		var doc struct {
			Messages []part `json:"messages"`
		}
		for _, p := range picks {
			doc.Messages = append(doc.Messages, part{p.m.ContentType, p.group, p.m.Content})
		}
		b, _ := json.Marshal(doc)
		s := string(b)
		r.text, r.format = &s, Composite
	}
	r.card = t.card(card)
	return r, nil
}

// acceptTypes reads x-amz-lex:accept-content-types (nil: every type).
func (t *turn) acceptTypes() map[string]bool {
	v, ok := t.in.RequestAttributes["x-amz-lex:accept-content-types"]
	if !ok {
		return nil
	}
	m := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			m[p] = true
		}
	}
	return m
}

// choose picks one of n candidates, deterministically per session, turn
// and group (so a test can replay a conversation, and a Repeat of the same
// turn would choose the same message).
func (t *turn) choose(group, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(t.s.SessionID))
	seed := h.Sum64()
	r := rand.New(rand.NewPCG(seed, uint64(t.s.Turns)<<8|uint64(group)))
	return r.IntN(n)
}

// fill resolves placeholders: {Slot} → the slot's value, [Attr] → the
// session attribute, ((Attr)) → the request attribute; an unknown or
// unset one becomes empty text. \{ \[ \( keep the character.
func (t *turn) fill(s string) string {
	if !strings.ContainsAny(s, "{[(\\") {
		return s
	}
	v := t.vars()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("{}[]()\\", s[i+1]) >= 0:
			b.WriteByte(s[i+1])
			i++
		case c == '{':
			if end := strings.IndexByte(s[i+1:], '}'); end >= 0 {
				name := s[i+1 : i+1+end]
				if p, ok := v.slots[name]; ok {
					if p != nil {
						b.WriteString(*p)
					}
					i += end + 1
					continue
				}
			}
			b.WriteByte(c)
		case c == '[':
			if end := strings.IndexByte(s[i+1:], ']'); end >= 0 && validName(s[i+1:i+1+end]) {
				b.WriteString(v.session[s[i+1:i+1+end]])
				i += end + 1
				continue
			}
			b.WriteByte(c)
		case c == '(' && i+1 < len(s) && s[i+1] == '(':
			if end := strings.Index(s[i+2:], "))"); end >= 0 && validName(s[i+2:i+2+end]) {
				b.WriteString(v.request[s[i+2:i+2+end]])
				i += end + 3
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func validName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func (t *turn) vars() vars {
	v := vars{session: t.s.Attributes, request: t.in.RequestAttributes, slots: map[string]*string{}}
	if t.s.Intent != nil {
		v.slots = t.s.Intent.Slots
	} else if t.closed != nil {
		v.slots = t.closed.Slots
	}
	return v
}

// card turns a stored response card (a JSON string with placeholders)
// into the runtime structure; an unreadable card is left out.
func (t *turn) card(src *string) *ResponseCard {
	if src == nil || *src == "" {
		return nil
	}
	return parseCard([]byte(t.fill(*src)))
}

// parseCard reads a response card whose version may be a number (model
// building, Lambda) or a string.
func parseCard(b []byte) *ResponseCard {
	var raw struct {
		Version            json.RawMessage     `json:"version"`
		ContentType        string              `json:"contentType"`
		GenericAttachments []GenericAttachment `json:"genericAttachments"`
	}
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	rc := &ResponseCard{ContentType: raw.ContentType, GenericAttachments: raw.GenericAttachments}
	if rc.GenericAttachments == nil {
		rc.GenericAttachments = []GenericAttachment{}
	}
	if rc.ContentType == "" {
		rc.ContentType = "application/vnd.amazonaws.card.generic"
	}
	var n float64
	var s string
	switch {
	case len(raw.Version) == 0 || string(raw.Version) == "null":
		rc.Version = "1"
	case json.Unmarshal(raw.Version, &n) == nil:
		rc.Version = strconv.FormatFloat(n, 'f', -1, 64)
	case json.Unmarshal(raw.Version, &s) == nil:
		rc.Version = s
	default:
		return nil
	}
	return rc
}

// maxAttempts of a prompt (2 when unset).
func maxAttempts(p *Prompt) int {
	if p == nil || p.MaxAttempts == nil {
		return 2
	}
	return *p.MaxAttempts
}

func promptMessages(p *Prompt) ([]Message, *string) {
	if p == nil {
		return nil, nil
	}
	return p.Messages, p.ResponseCard
}

func statementMessages(s *Statement) ([]Message, *string) {
	if s == nil {
		return nil, nil
	}
	return s.Messages, s.ResponseCard
}

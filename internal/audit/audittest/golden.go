// Package audittest compares CloudTrail records with golden files field by
// field and type by type, in order. A golden string value "<uuid>",
// "<time>" (whole-second UTC) or "<string>" (any non-empty string) matches
// a value that varies between runs; everything else must be equal.
package audittest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"testing"
)

// Update rewrites golden files from the actual records (go test -update),
// with the run-dependent fields replaced by placeholders. Review the diff.
var Update = flag.Bool("update", false, "rewrite golden files")

// Variable names the fields whose values vary between runs, and the
// placeholder Update writes for them.
var Variable = map[string]string{
	"eventID": "<uuid>", "requestID": "<uuid>", "eventTime": "<time>", "creationDate": "<time>",
	"sourceIPAddress": "<string>", "userAgent": "<string>",
	"createDate": "<time>", "expiration": "<time>",
}

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	timeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
)

// node is an ordered JSON value.
type node struct {
	kind string // object, array, string, number, bool, null
	keys []string
	vals []*node
	str  string // string value or number literal
	b    bool
}

func parse(data []byte) (*node, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	n, err := parseValue(d)
	if err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return n, nil
}

func parseValue(d *json.Decoder) (*node, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &node{kind: "object"}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				val, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
				n.vals = append(n.vals, val)
			}
			_, err := d.Token()
			return n, err
		case '[':
			n := &node{kind: "array"}
			for d.More() {
				val, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, val)
			}
			_, err := d.Token()
			return n, err
		}
	case string:
		return &node{kind: "string", str: v}, nil
	case json.Number:
		return &node{kind: "number", str: string(v)}, nil
	case bool:
		return &node{kind: "bool", b: v}, nil
	case nil:
		return &node{kind: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// Match reports every difference between a golden record and an actual
// one: missing, extra or reordered keys, JSON type changes and values.
func Match(golden, actual []byte) []string {
	g, err := parse(golden)
	if err != nil {
		return []string{"golden: " + err.Error()}
	}
	a, err := parse(actual)
	if err != nil {
		return []string{"actual: " + err.Error()}
	}
	var diffs []string
	compare("$", g, a, &diffs)
	return diffs
}

func compare(path string, g, a *node, diffs *[]string) {
	if g.kind == "string" && a.kind == "string" {
		switch g.str {
		case "<uuid>":
			if !uuidRE.MatchString(a.str) {
				*diffs = append(*diffs, fmt.Sprintf("%s: %q is not a UUID", path, a.str))
			}
			return
		case "<time>":
			if !timeRE.MatchString(a.str) {
				*diffs = append(*diffs, fmt.Sprintf("%s: %q is not a whole-second UTC time", path, a.str))
			}
			return
		case "<string>":
			if a.str == "" {
				*diffs = append(*diffs, fmt.Sprintf("%s: empty string", path))
			}
			return
		}
	}
	if g.kind != a.kind {
		*diffs = append(*diffs, fmt.Sprintf("%s: type %s, want %s", path, a.kind, g.kind))
		return
	}
	switch g.kind {
	case "object":
		if fmt.Sprint(g.keys) != fmt.Sprint(a.keys) {
			*diffs = append(*diffs, fmt.Sprintf("%s: keys %v, want %v", path, a.keys, g.keys))
		}
		for i, k := range g.keys {
			for j, ak := range a.keys {
				if ak == k {
					compare(path+"."+k, g.vals[i], a.vals[j], diffs)
				}
			}
		}
	case "array":
		if len(g.vals) != len(a.vals) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d elements, want %d", path, len(a.vals), len(g.vals)))
			return
		}
		for i := range g.vals {
			compare(fmt.Sprintf("%s[%d]", path, i), g.vals[i], a.vals[i], diffs)
		}
	case "string", "number":
		if g.str != a.str {
			*diffs = append(*diffs, fmt.Sprintf("%s: %q, want %q", path, a.str, g.str))
		}
	case "bool":
		if g.b != a.b {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v, want %v", path, a.b, g.b))
		}
	}
}

// Check compares record with the golden file path (or rewrites it with
// -update).
func Check(t testing.TB, path string, record []byte) {
	t.Helper()
	if *Update {
		var v any
		d := json.NewDecoder(bytes.NewReader(record))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out, err := indentOrdered(record)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create)", path, err)
	}
	for _, d := range Match(golden, record) {
		t.Errorf("%s: %s", path, d)
	}
	if t.Failed() {
		t.Logf("actual record: %s", record)
	}
}

// indentOrdered pretty-prints record keeping key order, with Variable
// fields replaced by their placeholders.
func indentOrdered(record []byte) ([]byte, error) {
	n, err := parse(record)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	write(&b, n, "", "")
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func write(b *bytes.Buffer, n *node, indent, key string) {
	switch n.kind {
	case "object":
		if len(n.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range n.keys {
			b.WriteString(indent + "  ")
			b.Write(marshalString(k))
			b.WriteString(": ")
			write(b, n.vals[i], indent+"  ", k)
			if i < len(n.keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case "array":
		if len(n.vals) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, v := range n.vals {
			b.WriteString(indent + "  ")
			write(b, v, indent+"  ", "")
			if i < len(n.vals)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case "string":
		s := n.str
		if p, ok := Variable[key]; ok {
			s = p
		}
		b.Write(marshalString(s))
	case "number":
		b.WriteString(n.str)
	case "bool":
		fmt.Fprint(b, n.b)
	case "null":
		b.WriteString("null")
	}
}

func marshalString(s string) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

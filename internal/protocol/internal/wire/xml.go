package wire

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
)

// WriteXMLFields writes error fields as elements, sorted by name; names
// that are not valid XML names are skipped.
func WriteXMLFields(buf *bytes.Buffer, fields map[string]any) {
	if len(fields) == 0 {
		return
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if validXMLName(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		buf.WriteString("<" + k + ">")
		xml.EscapeText(buf, []byte(fmt.Sprint(fields[k])))
		buf.WriteString("</" + k + ">")
	}
}

func validXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		case i > 0 && (c == '-' || c == '.' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return !strings.HasPrefix(strings.ToLower(s), "xml")
}

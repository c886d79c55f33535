package wire

import (
	"net/http"
	"strconv"
)

// Write sends a buffered response: headers already in w, then
// Content-Type (when ct is non-empty and none is set), Content-Length,
// status and body.
func Write(w http.ResponseWriter, status int, ct string, body []byte) error {
	h := w.Header()
	if ct != "" && h.Get("Content-Type") == "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if len(body) == 0 {
		return nil
	}
	_, err := w.Write(body)
	return err
}

// ErrorStatus is e's status, 500 when unset.
func ErrorStatus(status int) int {
	if status < 100 || status > 999 {
		return http.StatusInternalServerError
	}
	return status
}

// CopyHeader sets every header of src in dst, replacing dst's values.
func CopyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst.Del(k)
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}

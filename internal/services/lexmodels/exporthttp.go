package lexmodels

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"lextrail/internal/store"
)

// ExportPathPrefix is where export downloads are served. The path cannot
// collide with an AWS API route (S3 bucket names cannot start with "_").
// Mount ExportHandler for this prefix in front of the gateway.
const ExportPathPrefix = "/_lextrail/lex-exports/"

// urlSigner signs export URLs with an HMAC key kept in lex_secrets, so
// every node sharing the database accepts every node's URLs.
type urlSigner struct {
	db  *store.DB
	mu  sync.Mutex
	key []byte
}

func newURLSigner(db *store.DB) *urlSigner { return &urlSigner{db: db} }

const exportKeyName = "lex-export-url-hmac"

// secret loads (or, the first time, creates) the HMAC key.
func (u *urlSigner) secret(ctx context.Context) ([]byte, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.key != nil {
		return u.key, nil
	}
	var hexKey string
	err := u.db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT value FROM lex_secrets WHERE name=$1`, exportKeyName).Scan(&hexKey)
	})
	if errors.Is(err, errNoRows) {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, err
		}
		err = u.db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO lex_secrets (name, value, created_ms) VALUES ($1,$2,$3) ON CONFLICT (name) DO NOTHING`,
				exportKeyName, hex.EncodeToString(fresh), time.Now().UnixMilli()); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT value FROM lex_secrets WHERE name=$1`, exportKeyName).Scan(&hexKey)
		})
	}
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(hexKey)
	if err != nil {
		return nil, err
	}
	u.key = key
	return key, nil
}

func (u *urlSigner) sign(ctx context.Context, e exportSpec, expires int64) (string, error) {
	key, err := u.secret(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s\n%s\n%s\n%s\n%s\n%s\n%d", e.Account, e.Region, e.ResourceType, e.ExportType, e.Name, e.Version, expires)
	return hex.EncodeToString(m.Sum(nil)), nil
}

// url returns the download URL for e, valid until expires.
func (u *urlSigner) url(ctx context.Context, base string, e exportSpec, expires time.Time) (string, error) {
	exp := expires.Unix()
	sig, err := u.sign(ctx, e, exp)
	if err != nil {
		return "", err
	}
	path := ExportPathPrefix + strings.Join([]string{e.Account, e.Region, e.ResourceType, e.ExportType, e.Name, e.Version}, "/") + ".zip"
	q := url.Values{"Expires": {strconv.FormatInt(exp, 10)}, "Signature": {sig}}
	return base + path + "?" + q.Encode(), nil
}

// NewExportHandler returns the handler for ExportPathPrefix: GET of a URL
// GetExport signed, before it expires, returns the zip.
func NewExportHandler(db *store.DB, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return &exportHandler{db: db, now: now, signer: newURLSigner(db)}
}

type exportHandler struct {
	db     *store.DB
	now    func() time.Time
	signer *urlSigner
}

func (h *exportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, ExportPathPrefix)
	rest, ok2 := strings.CutSuffix(rest, ".zip")
	parts := strings.Split(rest, "/")
	if !ok || !ok2 || len(parts) != 6 {
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	e := exportSpec{Account: parts[0], Region: parts[1], ResourceType: parts[2], ExportType: parts[3], Name: parts[4], Version: parts[5]}
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Query-string authentication requires the Signature and Expires parameters.")
		return
	}
	want, err := h.signer.sign(r.Context(), e, exp)
	if err != nil {
		s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	if !hmac.Equal([]byte(want), []byte(q.Get("Signature"))) {
		s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	if h.now().Unix() > exp {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	var data []byte
	var name string
	var found bool
	err = h.db.Read(r.Context(), func(tx *store.Tx) error {
		var err error
		data, name, found, err = buildExport(r.Context(), tx, e)
		return err
	})
	if err != nil {
		s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	if !found {
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(data)
	}
}

// s3Error answers like an S3 pre-signed URL does.
func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, html.EscapeString(msg))
}

package sns

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"lextrail/internal/secrets"
	"lextrail/internal/store"
)

// signer holds the key messages are signed with. The key and its
// self-signed certificate are made on first use and kept in
// sns_signing_keys, so every lextrail process sharing the database signs
// with the same key and serves the same certificate.
type signer struct {
	db     *store.DB
	sealer *secrets.Sealer
	now    func() time.Time

	mu     sync.Mutex
	key    *rsa.PrivateKey
	certID string
	pem    []byte
}

const signingKeyName = "current"

// load returns the key, its certificate ID and PEM, creating them the
// first time.
func (g *signer) load(ctx context.Context) (*rsa.PrivateKey, string, []byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.key != nil {
		return g.key, g.certID, g.pem, nil
	}
	if g.sealer == nil {
		return nil, "", nil, errors.New("sns: no sealer configured for the signing key")
	}
	var certID, certPEM, sealed string
	read := func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT cert_id, cert_pem, key_sealed FROM sns_signing_keys WHERE name = $1`, signingKeyName).
			Scan(&certID, &certPEM, &sealed)
	}
	err := g.db.Read(ctx, read)
	if errors.Is(err, sql.ErrNoRows) {
		id, cp, ks, gerr := g.generate()
		if gerr != nil {
			return nil, "", nil, gerr
		}
		// Another process may have won the race; everyone reads the winner.
		err = g.db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO sns_signing_keys (name, cert_id, cert_pem, key_sealed, created_ms) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (name) DO NOTHING`, signingKeyName, id, cp, ks, store.Millis(g.now())); err != nil {
				return err
			}
			return read(tx)
		})
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("sns: signing key: %w", err)
	}
	der, err := g.sealer.Open(sealed, "sns-signing-key:"+certID)
	if err != nil {
		return nil, "", nil, fmt.Errorf("sns: signing key: %w", err)
	}
	key, err := x509.ParsePKCS1PrivateKey([]byte(der))
	if err != nil {
		return nil, "", nil, fmt.Errorf("sns: signing key: %w", err)
	}
	g.key, g.certID, g.pem = key, certID, []byte(certPEM)
	return g.key, g.certID, g.pem, nil
}

// generate makes an RSA-2048 key and a self-signed certificate valid for
// ten years.
func (g *signer) generate() (certID, certPEM, keySealed string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", "", err
	}
	now := g.now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "lextrail Simple Notification Service", Organization: []string{"lextrail"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", "", err
	}
	sum := sha256.Sum256(der)
	certID = hex.EncodeToString(sum[:16])
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keySealed, err = g.sealer.Seal(string(x509.MarshalPKCS1PrivateKey(key)), "sns-signing-key:"+certID)
	return certID, certPEM, keySealed, err
}

// certFile is the certificate's file name under HTTPPathPrefix.
func certFile(certID string) string { return "SimpleNotificationService-" + certID + ".pem" }

// stringToSign is SNS's canonical form of a message: the signed fields,
// in byte order of their names, each as "Name\nvalue\n". Notifications
// sign Message, MessageId, Subject (when present), Timestamp, TopicArn and
// Type; confirmations sign Message, MessageId, SubscribeURL, Timestamp,
// Token, TopicArn and Type.
func stringToSign(m *wireMessage) string {
	var b strings.Builder
	add := func(name, value string) {
		b.WriteString(name)
		b.WriteByte('\n')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == typeNotification {
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != typeNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// sign signs the canonical string with SHA1withRSA (version "1") or
// SHA256withRSA (version "2") and returns the base64 signature.
func sign(key *rsa.PrivateKey, version, canonical string) (string, error) {
	var h crypto.Hash
	var sum []byte
	switch version {
	case "2":
		s := sha256.Sum256([]byte(canonical))
		h, sum = crypto.SHA256, s[:]
	default:
		s := sha1.Sum([]byte(canonical))
		h, sum = crypto.SHA1, s[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, sum)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// sigCache remembers notification signatures: they do not depend on the
// subscription, so a message fanned out to many subscribers is signed
// once, even when their deliveries run at the same moment.
type sigCache struct {
	mu sync.Mutex
	m  map[string]*sigEntry
}

type sigEntry struct {
	once sync.Once
	sig  string
	err  error
}

func newSigCache() *sigCache { return &sigCache{m: map[string]*sigEntry{}} }

// get returns the signature for k, computing it with sign the first time
// (concurrent callers wait for that one computation).
func (c *sigCache) get(k string, sign func() (string, error)) (string, error) {
	c.mu.Lock()
	e := c.m[k]
	if e == nil {
		if len(c.m) >= 10000 {
			c.m = map[string]*sigEntry{}
		}
		e = &sigEntry{}
		c.m[k] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.sig, e.err = sign() })
	if e.err != nil {
		c.mu.Lock()
		if c.m[k] == e {
			delete(c.m, k)
		}
		c.mu.Unlock()
	}
	return e.sig, e.err
}

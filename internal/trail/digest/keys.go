package digest

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"lextrail/internal/secrets"
	"lextrail/internal/store"
)

// KeysConfig configures the signing key store.
type KeysConfig struct {
	DB *store.DB
	// Sealer seals private keys at rest. Required.
	Sealer *secrets.Sealer
	// Rotation is how often a region gets a new signing key. Default 20
	// days (AWS publishes a new key about every 20 days).
	Rotation time.Duration
	// Validity is how long a key is valid from the start of its rotation
	// period. Default (and when less than Rotation) 1.5 x Rotation: 30
	// days for the default rotation, overlapping as AWS's keys do.
	Validity time.Duration
	// Bits is the RSA key size. Default 2048.
	Bits int
	// Now is the clock (creation times). Default time.Now.
	Now func() time.Time
}

// Keys is the per-region digest signing keys (table trail_signing_keys).
// Key generation g of a region is valid from g×Rotation for Validity; it
// signs the digests whose end time falls in [g×Rotation, (g+1)×Rotation).
// Keys are made on first use; several processes making the same key
// agree on the first one stored.
type Keys struct {
	cfg   KeysConfig
	mu    sync.Mutex
	cache map[string]*Key // region/generation
}

// Key is a signing key.
type Key struct {
	Region      string
	Generation  int64
	Fingerprint string // hex MD5 of PublicDER
	PublicDER   []byte // PKCS#1 RSAPublicKey
	ValidFrom   time.Time
	ValidTo     time.Time
	Private     *rsa.PrivateKey
	Public      *rsa.PublicKey
}

// NewKeys returns the key store.
func NewKeys(cfg KeysConfig) *Keys {
	if cfg.Rotation <= 0 {
		cfg.Rotation = 20 * 24 * time.Hour
	}
	if cfg.Validity < cfg.Rotation {
		cfg.Validity = cfg.Rotation * 3 / 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Bits == 0 {
		cfg.Bits = 2048
	}
	return &Keys{cfg: cfg, cache: map[string]*Key{}}
}

// Fingerprint is CloudTrail's key fingerprint: hex MD5 of the DER bytes.
func Fingerprint(der []byte) string {
	s := md5.Sum(der)
	return hex.EncodeToString(s[:])
}

func (k *Keys) generation(at time.Time) int64 {
	return at.UnixMilli() / k.cfg.Rotation.Milliseconds()
}

// Signing returns the region's key for signing a digest that ends at at,
// making it if it does not exist yet.
func (k *Keys) Signing(ctx context.Context, region string, at time.Time) (*Key, error) {
	g := k.generation(at)
	ck := region + "/" + strconv.FormatInt(g, 10)
	k.mu.Lock()
	if key := k.cache[ck]; key != nil {
		k.mu.Unlock()
		return key, nil
	}
	k.mu.Unlock()
	key, err := k.load(ctx, region, g, true)
	if errors.Is(err, sql.ErrNoRows) {
		if err := k.create(ctx, region, g); err != nil {
			return nil, err
		}
		key, err = k.load(ctx, region, g, true)
	}
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.cache[ck] = key
	k.mu.Unlock()
	return key, nil
}

// Current makes sure the region's key for now exists and returns it.
func (k *Keys) Current(ctx context.Context, region string, now time.Time) (*Key, error) {
	return k.Signing(ctx, region, now)
}

func (k *Keys) load(ctx context.Context, region string, g int64, private bool) (*Key, error) {
	var der, sealed, fp string
	var from, to int64
	err := k.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT fingerprint, public_der, private_sealed, valid_from_ms, valid_to_ms FROM trail_signing_keys WHERE region = $1 AND generation = $2`, region, g).
			Scan(&fp, &der, &sealed, &from, &to)
	})
	if err != nil {
		return nil, err
	}
	return k.decode(region, g, fp, der, sealed, from, to, private)
}

func (k *Keys) decode(region string, g int64, fp, der, sealed string, from, to int64, private bool) (*Key, error) {
	pub, err := base64.StdEncoding.DecodeString(der)
	if err != nil {
		return nil, fmt.Errorf("digest: key %s/%d: %w", region, g, err)
	}
	key := &Key{Region: region, Generation: g, Fingerprint: fp, PublicDER: pub, ValidFrom: store.FromMillis(from), ValidTo: store.FromMillis(to)}
	if key.Public, err = x509.ParsePKCS1PublicKey(pub); err != nil {
		return nil, fmt.Errorf("digest: key %s/%d: %w", region, g, err)
	}
	if private {
		plain, err := k.cfg.Sealer.Open(sealed, aad(region, g))
		if err != nil {
			return nil, fmt.Errorf("digest: key %s/%d: %w", region, g, err)
		}
		raw, err := base64.StdEncoding.DecodeString(plain)
		if err != nil {
			return nil, fmt.Errorf("digest: key %s/%d: %w", region, g, err)
		}
		if key.Private, err = x509.ParsePKCS1PrivateKey(raw); err != nil {
			return nil, fmt.Errorf("digest: key %s/%d: %w", region, g, err)
		}
	}
	return key, nil
}

func aad(region string, g int64) string {
	return "trail-signing-key:" + region + ":" + strconv.FormatInt(g, 10)
}

func (k *Keys) create(ctx context.Context, region string, g int64) error {
	priv, err := rsa.GenerateKey(rand.Reader, k.cfg.Bits)
	if err != nil {
		return err
	}
	pub := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	sealed, err := k.cfg.Sealer.Seal(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(priv)), aad(region, g))
	if err != nil {
		return err
	}
	from := g * k.cfg.Rotation.Milliseconds()
	to := from + k.cfg.Validity.Milliseconds()
	return k.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO trail_signing_keys (region, generation, fingerprint, public_der, private_sealed, valid_from_ms, valid_to_ms, created_ms)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (region, generation) DO NOTHING`,
			region, g, Fingerprint(pub), base64.StdEncoding.EncodeToString(pub), sealed, from, to, k.cfg.Now().UnixMilli())
		return err
	})
}

// Public returns the region's keys whose validity overlaps [start, end],
// oldest first (public halves only).
func (k *Keys) Public(ctx context.Context, region string, start, end time.Time) ([]*Key, error) {
	var out []*Key
	err := k.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT generation, fingerprint, public_der, valid_from_ms, valid_to_ms FROM trail_signing_keys
 WHERE region = $1 AND valid_from_ms <= $3 AND valid_to_ms >= $2 ORDER BY generation`, region, start.UnixMilli(), end.UnixMilli())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g, from, to int64
			var fp, der string
			if err := rows.Scan(&g, &fp, &der, &from, &to); err != nil {
				return err
			}
			key, err := k.decode(region, g, fp, der, "", from, to, false)
			if err != nil {
				return err
			}
			out = append(out, key)
		}
		return rows.Err()
	})
	return out, err
}

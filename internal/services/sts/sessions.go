package sts

import (
	"context"
	"errors"
	"time"

	"lextrail/internal/accounts"
	"lextrail/internal/identity"
	"lextrail/internal/store"
)

// access_keys principal types of temporary credentials.
const (
	// TypeAssumedRoleKey marks AssumeRole keys (principal_name = role name).
	TypeAssumedRoleKey = identity.TypeAssumedRole
	// TypeSessionTokenKey marks GetSessionToken keys (principal_name = user
	// name, "" for root).
	TypeSessionTokenKey = "SessionToken"
)

// Session kinds stored in sts_sessions.kind.
const (
	kindRole = "role"
	kindUser = "user"
	kindRoot = "root"
)

// session is an sts_sessions row.
type session struct {
	keyID          string
	account        string
	kind           string
	issuerName     string // role or user name
	issuerID       string // AROA... / AIDA... / account
	issuerARN      string
	sessionName    string
	token          string
	policy         string
	sourceIdentity string
	mfa            bool
	created        time.Time
	expires        time.Time
}

// tokenAlphabet is what session tokens are drawn from (base64 characters,
// as AWS's tokens are).
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func newToken() string { return "LXT" + accounts.RandomID(tokenAlphabet, 253) }

// SessionARN is an assumed-role session's ARN.
func SessionARN(accountID, roleName, sessionName string) string {
	return "arn:aws:sts::" + accountID + ":assumed-role/" + roleName + "/" + sessionName
}

// insert stores the session and its key inside tx and returns the key pair.
func (s *Service) insert(ctx context.Context, tx *store.Tx, ss *session) (accounts.Credentials, error) {
	creds := accounts.Credentials{AccessKeyID: accounts.NewKeyID("ASIA"), SecretAccessKey: accounts.NewSecret()}
	ss.keyID = creds.AccessKeyID
	ss.token = newToken()
	ptype := TypeAssumedRoleKey
	if ss.kind != kindRole {
		ptype = TypeSessionTokenKey
	}
	if err := s.cfg.Accounts.InsertKey(ctx, tx, ss.account, ptype, ss.issuerName, creds); err != nil {
		return creds, err
	}
	sealed, err := s.cfg.Accounts.Sealer().Seal(ss.token, "sts-session:"+ss.keyID)
	if err != nil {
		return creds, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sts_sessions (access_key_id, account_id, kind, issuer_name, issuer_id, issuer_arn, session_name,
		token_sealed, session_policy, source_identity, mfa, created_ms, expires_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		ss.keyID, ss.account, ss.kind, ss.issuerName, ss.issuerID, ss.issuerARN, ss.sessionName, sealed, ss.policy,
		ss.sourceIdentity, ss.mfa, store.Millis(ss.created), store.Millis(ss.expires)); err != nil {
		return creds, err
	}
	if s.issued.Add(1)%256 == 0 {
		if err := s.purge(ctx, tx, ss.created.Add(-time.Hour)); err != nil {
			return creds, err
		}
	}
	return creds, nil
}

// purge deletes sessions (and their keys) that expired before cutoff.
func (s *Service) purge(ctx context.Context, tx *store.Tx, cutoff time.Time) error {
	c := store.Millis(cutoff)
	if _, err := tx.Exec(ctx, `DELETE FROM access_keys WHERE access_key_id IN
		(SELECT access_key_id FROM sts_sessions WHERE expires_ms < $1)`, c); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM sts_sessions WHERE expires_ms < $1`, c)
	return err
}

var errNoSession = errors.New("sts: session row missing")

// loadSession is the accounts.PrincipalLoader of temporary keys.
func (s *Service) loadSession(ctx context.Context, tx *store.Tx, row accounts.Row, key *accounts.Key) error {
	var ss session
	var sealed string
	var created, expires int64
	err := tx.QueryRow(ctx, `SELECT account_id, kind, issuer_name, issuer_id, issuer_arn, session_name, token_sealed,
		session_policy, source_identity, mfa, created_ms, expires_ms FROM sts_sessions WHERE access_key_id = $1`, row.AccessKeyID).
		Scan(&ss.account, &ss.kind, &ss.issuerName, &ss.issuerID, &ss.issuerARN, &ss.sessionName, &sealed,
			&ss.policy, &ss.sourceIdentity, &ss.mfa, &created, &expires)
	if err != nil {
		return errors.Join(errNoSession, err)
	}
	ss.keyID = row.AccessKeyID
	ss.created, ss.expires = store.FromMillis(created), store.FromMillis(expires)
	if ss.token, err = s.cfg.Accounts.Sealer().Open(sealed, "sts-session:"+ss.keyID); err != nil {
		return err
	}
	key.SessionToken = ss.token
	key.Expiration = ss.expires
	key.Principal = ss.principal()
	return nil
}

// principal builds the caller a session's key stands for.
func (ss *session) principal() *identity.Principal {
	sess := &identity.Session{IssuerPrincipalID: ss.issuerID, IssuerARN: ss.issuerARN, IssuerAccountID: ss.account,
		IssuerUserName: ss.issuerName, SessionName: ss.sessionName, CreationDate: ss.created, Expiration: ss.expires,
		SourceIdentity: ss.sourceIdentity, Policy: ss.policy}
	switch ss.kind {
	case kindRole:
		sess.IssuerType = "Role"
		pid := ss.issuerID + ":" + ss.sessionName
		return &identity.Principal{Type: identity.TypeAssumedRole, AccountID: ss.account,
			ARN: SessionARN(ss.account, ss.issuerName, ss.sessionName), PrincipalID: pid, UserID: pid,
			AccessKeyID: ss.keyID, Session: sess, MFA: ss.mfa}
	case kindUser:
		sess.IssuerType = identity.TypeIAMUser
		return &identity.Principal{Type: identity.TypeIAMUser, AccountID: ss.account, ARN: ss.issuerARN,
			PrincipalID: ss.issuerID, UserID: ss.issuerID, UserName: ss.issuerName, AccessKeyID: ss.keyID,
			Session: sess, MFA: ss.mfa}
	default:
		p := identity.Root(ss.account, ss.keyID)
		sess.IssuerType = identity.TypeRoot
		p.Session = sess
		p.MFA = ss.mfa
		return p
	}
}

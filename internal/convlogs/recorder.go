package convlogs

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"lextrail/internal/services/lexruntime"
	"lextrail/internal/store"
)

// Queue row kinds.
const (
	kindText  = "text"
	kindAudio = "audio"
)

const insertQuery = `INSERT INTO convlogs_queue (id, kind, group_key, account_id, region, bot_name, bot_alias, role_arn, source_arn,
	destination, prefix, kms_key, content_type, body, turn_ms, enqueued_ms, next_ms)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) ON CONFLICT (id) DO NOTHING`

// entry is one queue row to insert.
type entry struct {
	id, kind, group, role, source, dest, prefix, kms, contentType, body string
}

func groupKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// PrepareTurn implements lexruntime.TurnRecorder: for a turn of a session
// that started with conversation logs on (and not on $LATEST, nor for a
// child-directed bot), it builds the text document (TEXT logging) and the
// audio object (AUDIO logging of a PostContent audio turn) on the request's
// goroutine, and returns the write that queues them in the turn's
// transaction.
func (s *Service) PrepareTurn(t *lexruntime.Turn) lexruntime.TxWrite {
	if len(t.ConversationLogs) == 0 || t.BotAlias == latestAlias {
		return nil
	}
	if t.ChildDirected {
		s.m.dropped.WithLabelValues("all", "child_directed").Inc()
		return nil
	}
	st, err := s.settingsOf(t.ConversationLogs)
	if err != nil {
		s.m.dropped.WithLabelValues("all", "bad_settings").Inc()
		s.log.Error("conversation logs: unusable settings; turn not logged", "bot", t.BotName, "alias", t.BotAlias, "request_id", t.RequestID, "err", err)
		return nil
	}
	prefix := ResourcePrefix(t.BotName, t.BotAlias, t.BotVersion)
	// Queue IDs start with the turn's time, so that rows are appended at
	// the right edge of the primary key (a request ID alone is random).
	id := fmt.Sprintf("%013d/%s/", store.Millis(t.Timestamp), t.RequestID)
	source := aliasARN(t.Region, t.AccountID, t.BotName, t.BotAlias)
	var es []entry
	s3Path := ""
	if a := st.Audio; a != nil && t.InputDialogMode == "Speech" && len(t.Audio) > 0 {
		key := AudioKey(prefix, t.SessionID, t.RequestID, t.AudioContentType)
		s3Path = a.Bucket + "/" + key
		es = append(es, entry{id: id + kindAudio, kind: kindAudio, group: groupKey(kindAudio, t.AccountID, t.Region, st.Role, source, a.Bucket, a.KMSKey),
			role: st.Role, source: source, dest: a.Bucket, prefix: key, kms: a.KMSKey, contentType: t.AudioContentType,
			body: base64.StdEncoding.EncodeToString(t.Audio)})
	}
	if g := st.Text; g != nil {
		doc := NewDocument(t, s3Path).Marshal()
		es = append(es, entry{id: id + kindText, kind: kindText, group: groupKey(kindText, t.AccountID, t.Region, st.Role, source, g.ARN, prefix),
			role: st.Role, source: source, dest: g.ARN, prefix: prefix, body: string(doc)})
	}
	if len(es) == 0 {
		return nil
	}
	turnMS := store.Millis(t.Timestamp)
	return func(ctx context.Context, tx *store.Tx) error {
		now := store.Millis(s.cfg.Now())
		for _, e := range es {
			if _, err := tx.ExecStmt(ctx, s.insert, e.id, e.kind, e.group, t.AccountID, t.Region, t.BotName, t.BotAlias, e.role, e.source,
				e.dest, e.prefix, e.kms, e.contentType, e.body, turnMS, now); err != nil {
				return err
			}
		}
		tx.AfterCommit(func() {
			for _, e := range es {
				s.m.enqueued.WithLabelValues(e.kind).Inc()
			}
			s.Wake()
		})
		return nil
	}
}

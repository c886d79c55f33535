package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"lextrail/internal/store"
)

// Insert stores events in tx, taking their sequence numbers from the
// counter. Call it as late as possible in a transaction: on PostgreSQL the
// counter row stays locked until commit, which is what makes sequence
// order equal commit order.
func Insert(ctx context.Context, tx *store.Tx, evs []*Event) error {
	if len(evs) == 0 {
		return nil
	}
	var last int64
	if err := tx.QueryRow(ctx, `UPDATE audit_counter SET n = n + $1 WHERE id = 1 RETURNING n`, int64(len(evs))).Scan(&last); err != nil {
		return fmt.Errorf("audit: sequence: %w", err)
	}
	first := last - int64(len(evs)) + 1
	for i, ev := range evs {
		ev.Seq = first + int64(i)
	}
	for start := 0; start < len(evs); start += insertChunk {
		chunk := evs[start:min(start+insertChunk, len(evs))]
		args := make([]any, 0, len(chunk)*eventCols)
		for _, ev := range chunk {
			args = append(args, ev.Seq, ev.EventID, ev.RequestID, ev.AccountID, ev.Region, ev.TimeMs,
				ev.Category, readOnlyValue(ev.ReadOnly), ev.EventName, ev.EventSource, ev.Username,
				ev.AccessKeyID, string(ev.Record))
		}
		if _, err := tx.Exec(ctx, insertSQL(len(chunk)), args...); err != nil {
			return fmt.Errorf("audit: insert events: %w", err)
		}
	}
	var attrs []any
	n := 0
	for _, ev := range evs {
		if ev.Category != CategoryManagement {
			continue
		}
		// One row per distinct (attribute, value) of the event.
		var seen []string
		add := func(attr, value string) {
			if value == "" {
				return
			}
			for i := 0; i < len(seen); i += 2 {
				if seen[i] == attr && seen[i+1] == value {
					return
				}
			}
			seen = append(seen, attr, value)
			attrs = append(attrs, ev.AccountID, ev.Region, attr, value, ev.TimeMs, ev.Seq)
			n++
		}
		for _, r := range ev.Resources {
			add(AttrResourceType, r.Type)
			add(AttrResourceName, r.ARN)
			add(AttrResourceName, ResourceName(r.ARN))
		}
	}
	for start := 0; start < n; start += insertChunk {
		end := min(start+insertChunk, n)
		if _, err := tx.Exec(ctx, attrSQL(end-start), attrs[start*6:end*6]...); err != nil {
			return fmt.Errorf("audit: insert event attributes: %w", err)
		}
	}
	return nil
}

// ResourceName is the short name LookupEvents shows for a resource ARN:
// the part after the last '/' or ':' ("arn:aws:iam::1:user/alice" ->
// "alice", "arn:aws:lex:r:1:bot:B" -> "B").
func ResourceName(arn string) string {
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 && i < len(arn)-1 {
		return arn[i+1:]
	}
	return arn
}

const (
	eventCols   = 13
	insertChunk = 1
)

var sqlCache sync.Map // string key -> string

func insertSQL(n int) string {
	key := "e" + strconv.Itoa(n)
	if s, ok := sqlCache.Load(key); ok {
		return s.(string)
	}
	s := valuesSQL(`INSERT INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, record) VALUES `, n, eventCols)
	sqlCache.Store(key, s)
	return s
}

func attrSQL(n int) string {
	key := "a" + strconv.Itoa(n)
	if s, ok := sqlCache.Load(key); ok {
		return s.(string)
	}
	s := valuesSQL(`INSERT INTO event_attrs (account_id, region, attr, value, event_time_ms, seq) VALUES `, n, 6)
	sqlCache.Store(key, s)
	return s
}

func valuesSQL(prefix string, rows, cols int) string {
	var b strings.Builder
	b.WriteString(prefix)
	p := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}

package logs

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// stream is a row of logs_streams.
type stream struct {
	ID, GroupID  int64
	Name         string
	CreatedMS    int64
	FirstEventMS int64 // -1: none
	LastEventMS  int64
	LastIngestMS int64
	NextSeq      int64
}

const streamCols = `stream_id, group_id, name, created_ms, first_event_ms, last_event_ms, last_ingest_ms, next_seq`

func scanStream(r rowScanner) (*stream, error) {
	var st stream
	err := r.Scan(&st.ID, &st.GroupID, &st.Name, &st.CreatedMS, &st.FirstEventMS, &st.LastEventMS, &st.LastIngestMS, &st.NextSeq)
	return &st, err
}

func loadStream(ctx context.Context, q querier, groupID int64, name string) (*stream, error) {
	st, err := scanStream(q.QueryRow(ctx, `SELECT `+streamCols+` FROM logs_streams WHERE group_id = $1 AND name = $2`, groupID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errStreamNotFound()
	}
	return st, err
}

// seqToken renders a sequence number as CloudWatch Logs' 56-digit
// sequence tokens (accepted and ignored on input).
func seqToken(seq int64) string { return fmt.Sprintf("%056d", seq) }

// ---- CreateLogStream / DeleteLogStream ----

// StreamInput is the request of CreateLogStream and DeleteLogStream.
type StreamInput struct {
	LogGroupName  *string `json:"logGroupName,omitempty"`
	LogStreamName *string `json:"logStreamName,omitempty"`
}

func (in *StreamInput) groupIdent() string { return deref(in.LogGroupName) }
func (in *StreamInput) streamName() string { return deref(in.LogStreamName) }

func (s *Service) createLogStream(ctx context.Context, c *catalog.Call, in *StreamInput) (*Empty, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	v.streamName("logStreamName", in.LogStreamName)
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	_, err = createStream(ctx, c.Tx, g.ID, *in.LogStreamName, c.Now)
	return &Empty{}, err
}

func createStream(ctx context.Context, tx *store.Tx, groupID int64, name string, now time.Time) (*stream, error) {
	st := &stream{ID: randomID(), GroupID: groupID, Name: name, CreatedMS: now.UnixMilli(), FirstEventMS: -1, LastEventMS: -1, LastIngestMS: -1}
	_, err := tx.Exec(ctx, `INSERT INTO logs_streams (stream_id, group_id, name, created_ms) VALUES ($1, $2, $3, $4)`, st.ID, groupID, name, st.CreatedMS)
	if store.IsUniqueViolation(err) {
		return nil, awserr.New(400, "ResourceAlreadyExistsException", "The specified log stream already exists")
	}
	return st, err
}

func (s *Service) deleteLogStream(ctx context.Context, c *catalog.Call, in *StreamInput) (*Empty, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	v.streamName("logStreamName", in.LogStreamName)
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	st, err := loadStream(ctx, c.Tx, g.ID, *in.LogStreamName)
	if err != nil {
		return nil, err
	}
	var bytes sql.NullInt64
	if err := c.Tx.QueryRow(ctx, `SELECT SUM(raw_bytes) FROM logs_blocks WHERE stream_id = $1`, st.ID).Scan(&bytes); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `INSERT INTO logs_trash (stream_id, deleted_ms) VALUES ($1, $2) ON CONFLICT (stream_id) DO NOTHING`, st.ID, store.Millis(c.Now)); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `DELETE FROM logs_streams WHERE stream_id = $1`, st.ID); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `UPDATE logs_groups SET stored_bytes = stored_bytes - $1 WHERE group_id = $2`, bytes.Int64, g.ID); err != nil {
		return nil, err
	}
	c.Tx.AfterCommit(s.wakePurge)
	return &Empty{}, nil
}

// ---- DescribeLogStreams ----

// DescribeLogStreamsInput is DescribeLogStreams' request.
type DescribeLogStreamsInput struct {
	LogGroupName        *string `json:"logGroupName,omitempty"`
	LogGroupIdentifier  *string `json:"logGroupIdentifier,omitempty"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix,omitempty"`
	OrderBy             *string `json:"orderBy,omitempty"`
	Descending          *bool   `json:"descending,omitempty"`
	NextToken           *string `json:"nextToken,omitempty"`
	Limit               *int32  `json:"limit,omitempty"`
}

func (in *DescribeLogStreamsInput) groupIdent() string {
	return groupIdent(in.LogGroupName, in.LogGroupIdentifier)
}

// LogStream is one DescribeLogStreams item.
type LogStream struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	Arn                 string `json:"arn"`
	// StoredBytes is always 0 for streams (AWS: no longer supported since
	// June 2019).
	StoredBytes int64 `json:"storedBytes"`
}

// DescribeLogStreamsOutput is DescribeLogStreams' response.
type DescribeLogStreamsOutput struct {
	LogStreams []LogStream `json:"logStreams"`
	NextToken  string      `json:"nextToken,omitempty"`
}

func optMS(ms int64) *int64 {
	if ms < 0 {
		return nil
	}
	return &ms
}

func (s *Service) describeLogStreams(ctx context.Context, c *catalog.Call, in *DescribeLogStreamsInput) (*DescribeLogStreamsOutput, error) {
	var v validator
	v.groupRef(in.LogGroupName, in.LogGroupIdentifier)
	if in.LogStreamNamePrefix != nil && v.length("logStreamNamePrefix", *in.LogStreamNamePrefix, 1, 512) {
		v.pattern("logStreamNamePrefix", *in.LogStreamNamePrefix, streamNameRE, streamNamePattern)
	}
	if in.OrderBy != nil && *in.OrderBy != "LogStreamName" && *in.OrderBy != "LastEventTime" {
		v.add(quoteValue(*in.OrderBy), "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
	}
	v.rangeInt("limit", in.Limit, 1, 50)
	if err := v.err(); err != nil {
		return nil, err
	}
	byTime := in.OrderBy != nil && *in.OrderBy == "LastEventTime"
	if byTime && in.LogStreamNamePrefix != nil {
		return nil, invalidParam("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	g, err := loadGroup(ctx, c.Tx, c, in.groupIdent())
	if err != nil {
		return nil, err
	}
	desc := in.Descending != nil && *in.Descending
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	hash := paramHash("DescribeLogStreams", fmt.Sprint(g.ID), deref(in.LogStreamNamePrefix), fmt.Sprint(byTime, desc))
	// The cursor is the last (lastEventTime, name) returned.
	var curTS int64
	var curName string
	haveCur := false
	if in.NextToken != nil {
		var ok bool
		if curTS, curName, ok = decodeStreamToken(*in.NextToken, hash); !ok {
			return nil, errInvalidToken()
		}
		haveCur = true
	}
	dir, cmp := "", ">"
	if desc {
		dir, cmp = " DESC", "<"
	}
	q := `SELECT ` + streamCols + ` FROM logs_streams WHERE group_id = $1`
	args := []any{g.ID}
	switch {
	case byTime:
		if haveCur {
			q += ` AND (last_event_ms ` + cmp + ` $2 OR (last_event_ms = $2 AND name ` + cmp + ` $3))`
			args = append(args, curTS, curName)
		}
		q += ` ORDER BY last_event_ms` + dir + `, name` + dir
	default:
		if haveCur {
			q += ` AND name ` + cmp + ` $2`
			args = append(args, curName)
		}
		if in.LogStreamNamePrefix != nil && !desc {
			q += fmt.Sprintf(` AND name >= $%d`, len(args)+1)
			args = append(args, *in.LogStreamNamePrefix)
		}
		q += ` ORDER BY name` + dir
	}
	rows, err := c.Tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &DescribeLogStreamsOutput{LogStreams: []LogStream{}}
	var last *stream
	for rows.Next() {
		st, err := scanStream(rows)
		if err != nil {
			return nil, err
		}
		if p := in.LogStreamNamePrefix; p != nil && !strings.HasPrefix(st.Name, *p) {
			if !desc || st.Name < *p {
				break // past the prefix's range
			}
			continue
		}
		if len(out.LogStreams) == limit {
			out.NextToken = encodeStreamToken(last.LastEventMS, last.Name, hash)
			break
		}
		out.LogStreams = append(out.LogStreams, LogStream{
			LogStreamName: st.Name, CreationTime: st.CreatedMS,
			FirstEventTimestamp: optMS(st.FirstEventMS), LastEventTimestamp: optMS(st.LastEventMS), LastIngestionTime: optMS(st.LastIngestMS),
			UploadSequenceToken: seqToken(st.NextSeq), Arn: StreamARN(c.Region, g.AccountID, g.Name, st.Name),
		})
		last = st
	}
	return out, rows.Err()
}

func encodeStreamToken(ts int64, name string, hash []byte) string {
	b := append([]byte{2}, hash...)
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	b = append(b, name...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeStreamToken(tok string, hash []byte) (int64, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 17 || b[0] != 2 || string(b[1:9]) != string(hash) {
		return 0, "", false
	}
	return int64(binary.BigEndian.Uint64(b[9:17])), string(b[17:]), true
}

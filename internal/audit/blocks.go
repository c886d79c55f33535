package audit

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"

	"lextrail/internal/store"
)

// Record blocks (migration 0262): on SQLite the records that one Insert
// stores together (a group commit's, a committer batch's) go compressed
// into event_blocks rows of up to blockEvents consecutive events, and
// their events rows carry an empty record.
//
// A block's data is its encoding byte followed by the encoded block.
// Decoded, a block is its records in sequence order, each a uvarint length
// and the record's JSON. The encodings (part of the stored format: never
// change one, add one):
//
//   - blockS2: the decoded block compressed as one S2 block
//     (github.com/klauspost/compress/s2). Six IAM records of ~1 KB each
//     take ~1 KB together.
const blockS2 = 0x01

// A block holds two to blockEvents records of at most blockBytes bytes in
// all (a record that shares a block with no neighbour stays in its row): a
// reader decodes a whole block for one record of it, and a lookup's page
// of 50 events may come from 50 blocks.
const (
	blockEvents = 16
	blockBytes  = 64 << 10
)

// insertBlocks stores the records of evs (numbered, consecutive) in tx as
// blocks of consecutive events and reports which events it stored (the
// others keep their record in their row: the last of a run that makes no
// block of two, or one over maxBlock).
func insertBlocks(ctx context.Context, tx *store.Tx, evs []*Event) ([]bool, error) {
	blocked := make([]bool, len(evs))
	var recs [][]byte
	for i := 0; i < len(evs); {
		j, size := i, 0
		for j < len(evs) && j-i < blockEvents && (j == i || size+len(evs[j].Record) <= blockBytes) {
			size += len(evs[j].Record)
			j++
		}
		if j-i >= 2 {
			recs = recs[:0]
			for _, ev := range evs[i:j] {
				recs = append(recs, ev.Record)
			}
			if data, ok := appendBlock(nil, recs); ok {
				if _, err := tx.Exec(ctx, `INSERT INTO event_blocks (last_seq, first_seq, data) VALUES ($1, $2, $3)`, evs[j-1].Seq, evs[i].Seq, data); err != nil {
					return nil, err
				}
				for k := i; k < j; k++ {
					blocked[k] = true
				}
			}
		}
		i = j
	}
	return blocked, nil
}

// maxBlock bounds a block appendBlock makes and decodeBlock accepts (above
// insertBlocks' blockBytes: a stored block larger than this is corrupt).
const maxBlock = 4 << 20

var errBlock = errors.New("audit: corrupt record block")

// appendBlock appends the stored block of recs to b; it reports false,
// appending nothing, when they are too large for one.
func appendBlock(b []byte, recs [][]byte) ([]byte, bool) {
	n := 0
	for _, r := range recs {
		n += binary.MaxVarintLen32 + len(r)
	}
	if n > maxBlock {
		return b, false
	}
	raw := blockPool.Get().(*[]byte)
	defer func() {
		if cap(*raw) <= 1<<20 {
			blockPool.Put(raw)
		}
	}()
	d := (*raw)[:0]
	for _, r := range recs {
		d = binary.AppendUvarint(d, uint64(len(r)))
		d = append(d, r...)
	}
	*raw = d
	p := len(b)
	b = append(b, blockS2)
	need := s2.MaxEncodedLen(len(d))
	b = slices.Grow(b, need)
	enc := s2.Encode(b[p+1:p+1+need], d)
	return b[:p+1+len(enc)], true
}

var blockPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// decodeBlock returns the records of a stored block of count records.
func decodeBlock(data []byte, count int64) ([][]byte, error) {
	if len(data) < 1 || data[0] != blockS2 || count <= 0 {
		return nil, errBlock
	}
	n, err := s2.DecodedLen(data[1:])
	if err != nil || n > maxBlock || int64(n) < count {
		return nil, errBlock
	}
	d, err := s2.Decode(make([]byte, n), data[1:])
	if err != nil {
		return nil, errBlock
	}
	recs := make([][]byte, 0, min(count, 1024))
	for len(d) > 0 {
		l, k := binary.Uvarint(d)
		if k <= 0 || l > uint64(len(d)-k) {
			return nil, errBlock
		}
		recs = append(recs, d[k:k+int(l):k+int(l)])
		d = d[k+int(l):]
	}
	if int64(len(recs)) != count {
		return nil, errBlock
	}
	return recs, nil
}

// blockReader finds the records that events rows do not hold, keeping
// the last block it decoded (readers ask for nearby sequence numbers).
type blockReader struct {
	tx          *store.Tx
	first, last int64
	recs        [][]byte
}

// record returns the record of event seq, whose events row holds col:
// col itself when it is not empty, else the record from its block.
func (br *blockReader) record(ctx context.Context, seq int64, col []byte) ([]byte, error) {
	if len(col) > 0 {
		return col, nil
	}
	if br.recs == nil || seq < br.first || seq > br.last {
		var first, last int64
		var data []byte
		err := br.tx.QueryRow(ctx, `SELECT first_seq, last_seq, data FROM event_blocks WHERE last_seq >= $1 ORDER BY last_seq LIMIT 1`, seq).Scan(&first, &last, &data)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && first > seq) {
			return nil, fmt.Errorf("audit: event %d: no record and no block", seq)
		}
		if err != nil {
			return nil, fmt.Errorf("audit: event %d: block: %w", seq, err)
		}
		recs, err := decodeBlock(data, last-first+1)
		if err != nil {
			return nil, fmt.Errorf("audit: event %d: block %d-%d: %w", seq, first, last, err)
		}
		br.first, br.last, br.recs = first, last, recs
	}
	return br.recs[seq-br.first], nil
}

// StoredRecords calls fn with every stored event's sequence number and
// record, in sequence order, in tx (tests that inspect what is stored).
func StoredRecords(ctx context.Context, tx *store.Tx, fn func(seq int64, record []byte) error) error {
	rs, err := tx.Query(ctx, `SELECT seq, record FROM events ORDER BY seq`)
	if err != nil {
		return err
	}
	type row struct {
		seq int64
		col []byte
	}
	var rows []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.seq, &r.col); err != nil {
			rs.Close()
			return err
		}
		rows = append(rows, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	br := blockReader{tx: tx}
	for _, r := range rows {
		rec, err := br.record(ctx, r.seq, r.col)
		if err != nil {
			return err
		}
		if err := fn(r.seq, rec); err != nil {
			return err
		}
	}
	return nil
}

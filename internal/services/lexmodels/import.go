package lexmodels

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// Import (spec §2.13). StartImport checks the archive at once (a payload
// that is not a LEX zip of the requested resource type is a 400) and
// queues the job; the worker applies it. Decision: an import is applied in
// one transaction, so a failed import leaves nothing half-imported (the
// real service keeps earlier $LATEST changes; atomic is strictly kinder).
// Dependencies (slot types of an intent, intents and slot types of a bot)
// go to $LATEST and are then published as new numbered versions (an
// unchanged $LATEST reuses its newest version); the imported resource
// itself is left at $LATEST, and an imported bot is built.

const (
	mergeFail      = "FAIL_ON_CONFLICT"
	mergeOverwrite = "OVERWRITE_LATEST"
	importRunning  = "IN_PROGRESS"
	importComplete = "COMPLETE"
	importFailed   = "FAILED"
)

// lexFile is a parsed LEX export.
type lexFile struct {
	Type     string // BOT, INTENT or SLOT_TYPE
	Name     string
	Bot      *exportBot
	Intent   *exportIntent
	SlotType *exportSlotType
}

// parseLexZip reads a LEX zip: one JSON document.
func parseLexZip(payload []byte) (*lexFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(payload), int64(len(payload)))
	if err != nil {
		return nil, badRequest("The payload is not a valid zip archive: %v", err)
	}
	var doc []byte
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(strings.ToLower(f.Name), ".json") {
			continue
		}
		if doc != nil {
			return nil, badRequest("The archive holds more than one JSON file; a LEX export holds exactly one.")
		}
		rc, err := f.Open()
		if err != nil {
			return nil, badRequest("The archive entry %s cannot be read: %v", f.Name, err)
		}
		doc, err = io.ReadAll(io.LimitReader(rc, 50<<20))
		rc.Close()
		if err != nil {
			return nil, badRequest("The archive entry %s cannot be read: %v", f.Name, err)
		}
	}
	if doc == nil {
		return nil, badRequest("The archive holds no JSON file.")
	}
	return parseLexJSON(doc)
}

func parseLexJSON(doc []byte) (*lexFile, error) {
	var d exportDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, badRequest("The export file is not valid JSON: %v", err)
	}
	if d.Metadata.ImportType != "LEX" || d.Metadata.ImportFormat != "JSON" {
		return nil, badRequest("The export file's metadata must have importType LEX and importFormat JSON.")
	}
	if d.Metadata.SchemaVersion != "1.0" {
		return nil, badRequest("The export file's schemaVersion %q is not supported; only 1.0 is.", d.Metadata.SchemaVersion)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(d.Resource, &probe); err != nil || probe == nil {
		return nil, badRequest("The export file has no resource object.")
	}
	f := &lexFile{}
	dec := func(v any) error {
		if err := json.Unmarshal(d.Resource, v); err != nil {
			return badRequest("The export file's resource is malformed: %v", err)
		}
		return nil
	}
	_, hasLocale := probe["locale"]
	_, hasValues := probe["enumerationValues"]
	_, hasParentType := probe["parentSlotTypeSignature"]
	_, hasStrategy := probe["valueSelectionStrategy"]
	switch {
	case hasLocale:
		f.Type, f.Bot = "BOT", &exportBot{}
		if err := dec(f.Bot); err != nil {
			return nil, err
		}
		f.Name = f.Bot.Name
	case hasValues || hasParentType || hasStrategy:
		f.Type, f.SlotType = "SLOT_TYPE", &exportSlotType{}
		if err := dec(f.SlotType); err != nil {
			return nil, err
		}
		f.Name = f.SlotType.Name
	default:
		f.Type, f.Intent = "INTENT", &exportIntent{}
		if err := dec(f.Intent); err != nil {
			return nil, err
		}
		f.Name = f.Intent.Name
	}
	if f.Name == "" {
		return nil, badRequest("The export file's resource has no name.")
	}
	return f, nil
}

// conflicts lists the resources of f that already exist.
func (f *lexFile) conflicts(ctx context.Context, tx *store.Tx, sc scope) ([]string, error) {
	type item struct{ kind, name string }
	var items []item
	addTypes := func(ts []exportSlotType) {
		for _, t := range ts {
			items = append(items, item{kindSlotType, t.Name})
		}
	}
	switch f.Type {
	case "BOT":
		addTypes(f.Bot.SlotTypes)
		for _, in := range f.Bot.Intents {
			items = append(items, item{kindIntent, in.Name})
		}
		items = append(items, item{kindBot, f.Name})
	case "INTENT":
		addTypes(f.Intent.SlotTypes)
		items = append(items, item{kindIntent, f.Name})
	default:
		items = append(items, item{kindSlotType, f.Name})
	}
	var out []string
	seen := map[item]bool{}
	for _, it := range items {
		if seen[it] {
			continue
		}
		seen[it] = true
		ok, err := exists(ctx, tx, sc, it.kind, it.name, latest)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, fmt.Sprintf("%s %s already exists.", kindTitle(it.kind), it.name))
		}
	}
	return out, nil
}

// currentChecksum returns the $LATEST checksum of an existing resource
// (for overwriting), or nil.
func currentChecksum(ctx context.Context, tx *store.Tx, sc scope, kind, name string) (*string, error) {
	r, err := getResource(ctx, tx, sc, kind, name, latest)
	if err != nil || r == nil {
		return nil, err
	}
	return &r.Checksum, nil
}

// apply writes f into the account. It returns the failure reasons of a
// refused import (conflicts, invalid definitions); err is internal.
func (s *Service) apply(ctx context.Context, tx *store.Tx, sc scope, f *lexFile, merge string, tags []Tag, now time.Time) ([]string, error) {
	if merge == mergeFail {
		c, err := f.conflicts(ctx, tx, sc)
		if err != nil || len(c) > 0 {
			return c, err
		}
	}
	refuse := func(err error) ([]string, error) {
		var ae *awserr.Error
		if errors.As(err, &ae) && ae.Client() {
			return []string{ae.Message}, nil
		}
		return nil, err
	}
	// Slot types first; map their file versions to the published numbers.
	typeVersion := map[string]string{}
	importTypes := func(ts []exportSlotType) error {
		for _, t := range ts {
			d := t.def()
			if err := validateSlotType(t.Name, &d); err != nil {
				return err
			}
			ck, err := currentChecksum(ctx, tx, sc, kindSlotType, t.Name)
			if err != nil {
				return err
			}
			if _, err := s.storeSlotType(ctx, tx, sc, t.Name, &d, ck, now); err != nil {
				return err
			}
			v, err := publish(ctx, tx, sc, kindSlotType, t.Name, nil, now, nil)
			if err != nil {
				return err
			}
			typeVersion[t.Name+"\x00"+t.Version] = v.Version
		}
		return nil
	}
	intentDef := func(ei exportIntent) IntentDef {
		d := ei.def()
		for i, sl := range d.Slots {
			if sl.SlotType == nil || sl.SlotTypeVersion == nil {
				continue
			}
			if v, ok := typeVersion[*sl.SlotType+"\x00"+*sl.SlotTypeVersion]; ok {
				d.Slots[i].SlotTypeVersion = &v
			}
		}
		return d
	}
	storeIntent := func(ei exportIntent) error {
		d := intentDef(ei)
		ck, err := currentChecksum(ctx, tx, sc, kindIntent, ei.Name)
		if err != nil {
			return err
		}
		_, err = s.storeIntent(ctx, tx, sc, ei.Name, &d, ck, now)
		return err
	}
	switch f.Type {
	case "SLOT_TYPE":
		d := f.SlotType.def()
		if err := validateSlotType(f.Name, &d); err != nil {
			return refuse(err)
		}
		ck, err := currentChecksum(ctx, tx, sc, kindSlotType, f.Name)
		if err != nil {
			return nil, err
		}
		if _, err := s.storeSlotType(ctx, tx, sc, f.Name, &d, ck, now); err != nil {
			return refuse(err)
		}
	case "INTENT":
		if err := importTypes(f.Intent.SlotTypes); err != nil {
			return refuse(err)
		}
		if err := storeIntent(*f.Intent); err != nil {
			return refuse(err)
		}
	case "BOT":
		if err := importTypes(f.Bot.SlotTypes); err != nil {
			return refuse(err)
		}
		intentVersion := map[string]string{}
		for _, ei := range f.Bot.Intents {
			if err := storeIntent(ei); err != nil {
				return refuse(err)
			}
			v, err := publishIntent(ctx, tx, sc, ei.Name, nil, now)
			if err != nil {
				return refuse(err)
			}
			intentVersion[ei.Name] = v.Version
		}
		d := f.Bot.BotDef
		d.Intents = nil
		for _, ei := range f.Bot.Intents {
			d.Intents = append(d.Intents, IntentRef{IntentName: ei.Name, IntentVersion: intentVersion[ei.Name]})
		}
		if d.IdleSessionTTLInSeconds == 0 {
			d.IdleSessionTTLInSeconds = defaultIdleTTL
		}
		if err := validateBot(f.Name, &d); err != nil {
			return refuse(err)
		}
		ck, err := currentChecksum(ctx, tx, sc, kindBot, f.Name)
		if err != nil {
			return nil, err
		}
		_, created, err := s.storeBot(ctx, tx, sc, f.Name, &d, ck, true, now)
		if err != nil {
			return refuse(err)
		}
		if created && len(tags) > 0 {
			if err := putTags(ctx, tx, sc, botARN(sc, f.Name), tags); err != nil {
				return refuse(err)
			}
		}
	}
	return nil, nil
}

// StartImportInput is POST /imports/.
type StartImportInput struct {
	Payload       []byte `json:"payload"`
	ResourceType  string `json:"resourceType"`
	MergeStrategy string `json:"mergeStrategy"`
	Tags          []Tag  `json:"tags,omitempty"`
}

// ImportOutput is StartImport's and GetImport's result.
type ImportOutput struct {
	Name          string         `json:"name,omitempty"`
	ResourceType  string         `json:"resourceType,omitempty"`
	MergeStrategy string         `json:"mergeStrategy,omitempty"`
	ImportID      string         `json:"importId,omitempty"`
	ImportStatus  string         `json:"importStatus,omitempty"`
	FailureReason []string       `json:"failureReason,omitempty"`
	Tags          []Tag          `json:"tags,omitempty"`
	CreatedDate   *protocol.Time `json:"createdDate,omitempty"`
}

func checkImportParams(resourceType, merge string) error {
	var ck checker
	if ck.required(resourceType != "", "resourceType") {
		ck.enum("resourceType", resourceType, exportResourceTypes...)
	}
	if ck.required(merge != "", "mergeStrategy") {
		ck.enum("mergeStrategy", merge, mergeOverwrite, mergeFail)
	}
	return ck.err()
}

func (s *Service) startImport(ctx context.Context, c *catalog.Call, in *StartImportInput) (*ImportOutput, error) {
	var ck checker
	ck.required(len(in.Payload) > 0, "payload")
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := checkImportParams(in.ResourceType, in.MergeStrategy); err != nil {
		return nil, err
	}
	if err := validateTags("tags", in.Tags); err != nil {
		return nil, err
	}
	f, err := parseLexZip(in.Payload)
	if err != nil {
		return nil, err
	}
	if f.Type != in.ResourceType {
		return nil, badRequest("The export file holds a %s, but resourceType is %s.", f.Type, in.ResourceType)
	}
	sc := scopeOf(c)
	id := strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	var tags string
	if len(in.Tags) > 0 {
		tags = string(mustJSON(in.Tags))
	}
	if _, err := c.Tx.Exec(ctx, `INSERT INTO lex_imports (account_id, region, import_id, name, resource_type, merge_strategy, status, payload, tags, created_ms)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, sc.acct, sc.region, id, f.Name, in.ResourceType, in.MergeStrategy, importRunning,
		base64.StdEncoding.EncodeToString(in.Payload), tags, store.Millis(c.Now)); err != nil {
		return nil, err
	}
	c.Tx.AfterCommit(s.wake)
	return &ImportOutput{Name: f.Name, ResourceType: in.ResourceType, MergeStrategy: in.MergeStrategy, ImportID: id,
		ImportStatus: importRunning, Tags: in.Tags, CreatedDate: protocol.TimePtr(c.Now)}, nil
}

// GetImportInput is GET /imports/{importId}.
type GetImportInput struct {
	ImportID string `location:"uri" locationName:"importId" json:"importId"`
}

func (s *Service) getImport(ctx context.Context, c *catalog.Call, in *GetImportInput) (*ImportOutput, error) {
	sc := scopeOf(c)
	var out ImportOutput
	var reasons string
	var created int64
	err := c.Tx.QueryRow(ctx, `SELECT import_id, name, resource_type, merge_strategy, status, failure_reason, created_ms FROM lex_imports WHERE account_id=$1 AND region=$2 AND import_id=$3`,
		sc.acct, sc.region, in.ImportID).Scan(&out.ImportID, &out.Name, &out.ResourceType, &out.MergeStrategy, &out.ImportStatus, &reasons, &created)
	if errors.Is(err, errNoRows) {
		return nil, notFound("The import %s does not exist.", in.ImportID)
	}
	if err != nil {
		return nil, err
	}
	if reasons != "" {
		if err := json.Unmarshal([]byte(reasons), &out.FailureReason); err != nil {
			return nil, err
		}
	}
	out.CreatedDate = protocol.TimePtr(store.FromMillis(created))
	return &out, nil
}

// importPass claims and applies queued imports.
func (w *Worker) importPass(ctx context.Context) (int, error) {
	db := w.s.cfg.DB
	now := store.Millis(w.s.cfg.Now())
	type job struct{ acct, region, id string }
	var jobs []job
	err := db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT account_id, region, import_id FROM lex_imports WHERE status='IN_PROGRESS' AND (owner='' OR lease_ms < $1) ORDER BY created_ms LIMIT 10`, now)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j job
			if err := rows.Scan(&j.acct, &j.region, &j.id); err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	ran := 0
	for _, j := range jobs {
		claimed := false
		err := db.Write(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(ctx, `UPDATE lex_imports SET owner=$1, lease_ms=$2 WHERE account_id=$3 AND region=$4 AND import_id=$5 AND status='IN_PROGRESS' AND (owner='' OR lease_ms < $6)`,
				w.id, now+w.s.cfg.Lease.Milliseconds(), j.acct, j.region, j.id, now)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			claimed = n == 1
			return nil
		})
		if err != nil {
			return ran, err
		}
		if !claimed {
			continue
		}
		if err := w.runImport(ctx, scope{j.acct, j.region}, j.id); err != nil {
			return ran, err
		}
		ran++
	}
	return ran, nil
}

func (w *Worker) runImport(ctx context.Context, sc scope, id string) error {
	db := w.s.cfg.DB
	var reasons []string
	err := db.Write(ctx, func(tx *store.Tx) error {
		var payload, merge, tagsJSON string
		if err := tx.QueryRow(ctx, `SELECT payload, merge_strategy, tags FROM lex_imports WHERE account_id=$1 AND region=$2 AND import_id=$3`, sc.acct, sc.region, id).
			Scan(&payload, &merge, &tagsJSON); err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			return err
		}
		var tags []Tag
		if tagsJSON != "" {
			if err := json.Unmarshal([]byte(tagsJSON), &tags); err != nil {
				return err
			}
		}
		f, err := parseLexZip(raw)
		if err != nil {
			reasons = []string{awserr.As(err).Message}
			return errRefused
		}
		reasons, err = w.s.apply(ctx, tx, sc, f, merge, tags, w.s.cfg.Now())
		if err != nil {
			return err
		}
		if len(reasons) > 0 {
			return errRefused // roll back whatever was applied
		}
		_, err = tx.Exec(ctx, `UPDATE lex_imports SET status='COMPLETE', owner='', payload='' WHERE account_id=$1 AND region=$2 AND import_id=$3 AND owner=$4`, sc.acct, sc.region, id, w.id)
		return err
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, errRefused) {
		w.s.log.Error("lex import failed", "import_id", id, "err", err)
		reasons = []string{"Internal error while importing."}
	}
	return db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE lex_imports SET status='FAILED', failure_reason=$1, owner='', payload='' WHERE account_id=$2 AND region=$3 AND import_id=$4 AND owner=$5`,
			string(mustJSON(reasons)), sc.acct, sc.region, id, w.id)
		return err
	})
}

var errRefused = errors.New("import refused")

// ImportOptions configure ImportFile.
type ImportOptions struct {
	AccountID, Region string
	// ResourceType defaults to the type found in the file.
	ResourceType string
	// MergeStrategy defaults to FAIL_ON_CONFLICT.
	MergeStrategy string
	Now           time.Time
}

// ImportFile applies one LEX export zip directly to the database (the
// `lextrail import` command). It returns the resource's type and name;
// a refused import is an error listing the reasons. Imported bots are
// queued for a build that a running server's worker performs.
func ImportFile(ctx context.Context, db *store.DB, payload []byte, o ImportOptions) (typ, name string, err error) {
	f, err := parseLexZip(payload)
	if err != nil {
		return "", "", err
	}
	if o.ResourceType == "" {
		o.ResourceType = f.Type
	}
	if o.MergeStrategy == "" {
		o.MergeStrategy = mergeFail
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if err := checkImportParams(o.ResourceType, o.MergeStrategy); err != nil {
		return f.Type, f.Name, err
	}
	if f.Type != o.ResourceType {
		return f.Type, f.Name, fmt.Errorf("the file holds a %s, not a %s", f.Type, o.ResourceType)
	}
	s := New(Config{DB: db})
	var reasons []string
	err = db.Write(ctx, func(tx *store.Tx) error {
		var err error
		reasons, err = s.apply(ctx, tx, scope{o.AccountID, o.Region}, f, o.MergeStrategy, nil, o.Now)
		if err == nil && len(reasons) > 0 {
			err = errRefused
		}
		return err
	})
	if errors.Is(err, errRefused) {
		sort.Strings(reasons)
		return f.Type, f.Name, errors.New(strings.Join(reasons, "; "))
	}
	return f.Type, f.Name, err
}

package lexmodels

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lextrail/internal/store"
)

func TestImportFiles(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, TestDrivers[0])
	dir := t.TempDir()
	write := func(name, doc string) string {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("x_Export.json")
		w.Write([]byte(doc))
		zw.Close()
		p := filepath.Join(dir, name)
		os.WriteFile(p, buf.Bytes(), 0o600)
		return p
	}
	good := write("colors.zip", `{"metadata":{"schemaVersion":"1.0","importType":"LEX","importFormat":"JSON"},
		"resource":{"name":"Colors","version":"1","enumerationValues":[{"value":"red","synonyms":[]}],"valueSelectionStrategy":"ORIGINAL_VALUE"}}`)
	bad := write("bad.zip", `{"metadata":{"schemaVersion":"1.0","importType":"LEX","importFormat":"JSON"},"resource":{"name":"Bad-Name","enumerationValues":[]}}`)
	var out bytes.Buffer
	err := ImportFiles(ctx, db, []string{good, bad, filepath.Join(dir, "missing.zip")}, ImportOptions{AccountID: "123456789012", Region: "us-east-1"}, &out)
	if err == nil || !strings.Contains(err.Error(), "2 of 3") {
		t.Fatalf("err %v", err)
	}
	text := out.String()
	for _, want := range []string{"[1/3] colors.zip: SLOT_TYPE Colors imported", "[2/3] bad.zip: SLOT_TYPE Bad-Name: FAILED", "[3/3] missing.zip: FAILED", "1 imported, 2 failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	db.Read(ctx, func(tx *store.Tx) error {
		ok, err := exists(ctx, tx, scope{"123456789012", "us-east-1"}, kindSlotType, "Colors", latest)
		if !ok || err != nil {
			t.Errorf("Colors not imported: %v", err)
		}
		return nil
	})
	// Importing the same file again conflicts.
	out.Reset()
	if err := ImportFiles(ctx, db, []string{good}, ImportOptions{AccountID: "123456789012", Region: "us-east-1"}, &out); err == nil || !strings.Contains(out.String(), "already exists") {
		t.Fatalf("re-import: %v\n%s", err, out.String())
	}
}

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lex "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lextypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/accounts"
	"lextrail/internal/server"
)

// botExport is a LEX-format bot export (spec §2.13) named after n.
func botExport(n string) string {
	return `{"metadata":{"schemaVersion":"1.0","importType":"LEX","importFormat":"JSON"},
 "resource":{"name":"Bot` + n + `","version":"1","locale":"en-US","childDirected":false,"idleSessionTTLInSeconds":300,
  "clarificationPrompt":{"messages":[{"contentType":"PlainText","content":"Sorry?"}],"maxAttempts":2},
  "abortStatement":{"messages":[{"contentType":"PlainText","content":"Bye"}]},
  "intents":[{"name":"Order` + n + `","version":"1","fulfillmentActivity":{"type":"ReturnIntent"},
    "sampleUtterances":["order {Thing}","I want a thing"],
    "slots":[{"name":"Thing","slotConstraint":"Required","slotType":"Things` + n + `","slotTypeVersion":"1","priority":1,
      "valueElicitationPrompt":{"messages":[{"contentType":"PlainText","content":"Which thing?"}],"maxAttempts":2}}]}],
  "slotTypes":[{"name":"Things` + n + `","version":"1","enumerationValues":[{"value":"cups","synonyms":[]},{"value":"plates","synonyms":["plate"]}],
    "valueSelectionStrategy":"ORIGINAL_VALUE"}]}}`
}

func writeZip(t *testing.T, path, entry, doc string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(entry)
	io.WriteString(w, doc)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestImportCommand runs "lextrail import" over a dozen LEX export zips
// (and a broken one), checks its per-file progress lines, summary and exit
// status, and then that a server started on the same data dir serves the
// imported bots and builds them.
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	var files []string
	names := []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima"}
	for _, n := range names {
		p := filepath.Join(dir, "exports", n+".zip")
		os.MkdirAll(filepath.Dir(p), 0o700)
		writeZip(t, p, "Bot"+n+"_Export.json", botExport(n))
		files = append(files, p)
	}
	broken := filepath.Join(dir, "exports", "broken.zip")
	os.WriteFile(broken, []byte("not a zip"), 0o600)

	args := append([]string{"import", "--data-dir", dir, "--account", "111122223333", "--region", "us-east-1"}, files...)
	out, errs, code := runCmd(t, append(args, broken)...)
	if code != 1 {
		t.Fatalf("exit %d with a broken file, want 1\n%s%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(files)+2 {
		t.Fatalf("%d lines for %d files:\n%s", len(lines), len(files)+1, out)
	}
	for i, n := range names {
		want := fmt.Sprintf("[%2d/13] %s.zip: BOT Bot%s imported", i+1, n, n)
		if lines[i] != want {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], want)
		}
	}
	if !strings.HasPrefix(lines[12], "[13/13] broken.zip: FAILED: ") {
		t.Errorf("broken file: %q", lines[12])
	}
	if !regexp.MustCompile(`^12 imported, 1 failed in \d`).MatchString(lines[13]) || !strings.Contains(errs, "1 of 13 imports failed") {
		t.Errorf("summary %q / %q", lines[13], errs)
	}
	// Importing them again conflicts (FAIL_ON_CONFLICT is the default),
	// then OVERWRITE_LATEST succeeds.
	if out, _, code := runCmd(t, args[:len(args)-len(files)+1]...); code != 1 || !strings.Contains(out, "already exists") {
		t.Fatalf("re-import: %d\n%s", code, out)
	}
	if out, errs, code := runCmd(t, append([]string{"import", "--data-dir", dir, "--account", "111122223333", "--merge-strategy", "OVERWRITE_LATEST"}, files[0])...); code != 0 {
		t.Fatalf("OVERWRITE_LATEST: %d %s %s", code, out, errs)
	}
	if _, _, code := runCmd(t, "import", "--data-dir", dir); code != 2 {
		t.Errorf("no files: exit %d, want 2", code)
	}

	// A server on the data dir has the bots and builds them.
	creds := accounts.NewRootCredentials()
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, CredentialsOut: io.Discard,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Bootstrap: accounts.Bootstrap{AccountID: "111122223333", AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.RunWorkers(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	c := lex.New(lex.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1, HTTPClient: sdkHTTP(),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	bots, err := c.GetBots(context.Background(), &lex.GetBotsInput{MaxResults: aws.Int32(50)})
	if err != nil || len(bots.Bots) != len(names) {
		t.Fatalf("GetBots: %v %v", bots, err)
	}
	for _, n := range names {
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, err := c.GetBot(context.Background(), &lex.GetBotInput{Name: aws.String("Bot" + n), VersionOrAlias: aws.String("$LATEST")})
			if err != nil {
				t.Fatal(err)
			}
			if b.Status == lextypes.StatusReady {
				break
			}
			if b.Status == lextypes.StatusFailed || time.Now().After(deadline) {
				t.Fatalf("Bot%s: %s %s", n, b.Status, aws.ToString(b.FailureReason))
			}
			time.Sleep(10 * time.Millisecond)
		}
		st, err := c.GetSlotType(context.Background(), &lex.GetSlotTypeInput{Name: aws.String("Things" + n), Version: aws.String("1")})
		if err != nil || len(st.EnumerationValues) != 2 {
			t.Fatalf("Things%s version 1: %v %v", n, st, err)
		}
	}
}

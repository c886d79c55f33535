package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lex "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lextypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	_ "modernc.org/sqlite"

	"lextrail/internal/accounts"
)

type eventLine struct {
	EventName         string `json:"eventName"`
	RequestID         string `json:"requestID"`
	ErrorCode         string `json:"errorCode"`
	RequestParameters struct {
		Name string `json:"name"`
	} `json:"requestParameters"`
}

func eventsCLI(t *testing.T, args ...string) []eventLine {
	t.Helper()
	out, errs, code := runCmd(t, append([]string{"events"}, args...)...)
	if code != 0 {
		t.Fatalf("lextrail events %v: %d %s", args, code, errs)
	}
	var evs []eventLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev eventLine
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestCrashKeepsAcknowledgedEvents runs the lextrail binary under
// concurrent mutating load (Lex PutSlotType), kills it with SIGKILL,
// restarts it, and checks that every call that got a 2xx has exactly one
// event (by request ID) and that every recorded success has its state
// change (the slot type exists). The history is read with "lextrail
// events", which also covers the offline CLI.
func TestCrashKeepsAcknowledgedEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	creds := accounts.NewRootCredentials()
	env := append(os.Environ(), "LEXTRAIL_ACCOUNT_ID=111122223333",
		"LEXTRAIL_ROOT_ACCESS_KEY_ID="+creds.AccessKeyID, "LEXTRAIL_ROOT_SECRET_ACCESS_KEY="+creds.SecretAccessKey)
	start := func() (*exec.Cmd, string) {
		addr := freePort(t)
		cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := waitReady(addr, 10*time.Second); err != nil {
			cmd.Process.Kill()
			t.Fatal(err)
		}
		return cmd, addr
	}
	cmd, addr := start()
	client := lex.New(lex.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr), RetryMaxAttempts: 1, HTTPClient: sdkHTTP(),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})

	var mu sync.Mutex
	acked := map[string]string{} // request ID -> slot type name
	var wg sync.WaitGroup
	var killed atomic.Bool
	stop := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("Crash%c%s", 'a'+g, letters(i)) // Lex names have no digits
				out, err := client.PutSlotType(context.Background(), &lex.PutSlotTypeInput{Name: aws.String(name),
					EnumerationValues: []lextypes.EnumerationValue{{Value: aws.String("v")}}})
				if err != nil {
					// Any failure once the kill is under way is the
					// server going away (reset, broken pipe, EOF, refused).
					if !killed.Load() {
						t.Errorf("PutSlotType before the kill: %v", err)
					}
					return
				}
				id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
				mu.Lock()
				acked[id] = name
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	killed.Store(true)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d acknowledged calls before the kill", len(acked))
	}

	// Restart (recovery), then stop cleanly and read offline.
	cmd, _ = start()
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	evs := eventsCLI(t, "--data-dir", dir, "--account", "111122223333", "--region", "us-east-1",
		"--attribute", "EventName=PutSlotType", "--max", "0")
	count := map[string]int{}
	for _, ev := range evs {
		count[ev.RequestID]++
	}
	for id, name := range acked {
		if count[id] != 1 {
			t.Errorf("acknowledged PutSlotType %s (%s) has %d events", id, name, count[id])
		}
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "lextrail.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every slot type that exists has exactly one successful event: no
	// state change without its event.
	okEvents := map[string]int{}
	for _, ev := range evs {
		if ev.ErrorCode == "" {
			okEvents[ev.RequestParameters.Name]++
		}
	}
	rows, err := db.Query(`SELECT name FROM lex_resources WHERE kind = 'slottype' AND version = '$LATEST'`)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for rows.Next() {
		var name string
		rows.Scan(&name)
		stored++
		if okEvents[name] != 1 {
			t.Errorf("slot type %s exists with %d successful events", name, okEvents[name])
		}
	}
	rows.Close()
	if stored < len(acked) {
		t.Errorf("%d slot types stored, %d acknowledged", stored, len(acked))
	}
	for _, ev := range evs {
		if ev.ErrorCode != "" {
			continue
		}
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM lex_resources WHERE name = ?`, ev.RequestParameters.Name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("event %s for slot type %s without its state change", ev.RequestID, ev.RequestParameters.Name)
		}
	}
	t.Logf("%d acknowledged calls, %d events, %d slot types after SIGKILL and restart", len(acked), len(evs), stored)
}

func TestEventsCLIFilters(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	creds := accounts.NewRootCredentials()
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir, "--event-retention", "48h")
	cmd.Env = append(os.Environ(), "LEXTRAIL_ACCOUNT_ID=111122223333",
		"LEXTRAIL_ROOT_ACCESS_KEY_ID="+creds.AccessKeyID, "LEXTRAIL_ROOT_SECRET_ACCESS_KEY="+creds.SecretAccessKey)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if err := waitReady(addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	client := lex.New(lex.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://" + addr), RetryMaxAttempts: 1, HTTPClient: sdkHTTP(),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	for _, n := range []string{"One", "Two", "Three"} {
		if _, err := client.PutSlotType(context.Background(), &lex.PutSlotTypeInput{Name: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	client.GetSlotTypes(context.Background(), &lex.GetSlotTypesInput{})
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 4},
		{[]string{"--region", "eu-west-1", "--account", "111122223333"}, 4},
		{[]string{"--region", "us-east-1"}, 0},
		{[]string{"--account", "999999999999"}, 0},
		{[]string{"--attribute", "ResourceName=Two"}, 1},
		{[]string{"--attribute", "ReadOnly=true"}, 1},
		{[]string{"--max", "2"}, 2},
		{[]string{"--start-time", "2000-01-01T00:00:00Z", "--end-time", "2001-01-01T00:00:00Z"}, 0},
		{[]string{"--start-time", fmt.Sprint(time.Now().Add(-time.Hour).Unix())}, 4},
	} {
		got := eventsCLI(t, append([]string{"--data-dir", dir}, tc.args...)...)
		if len(got) != tc.want {
			t.Errorf("events %v: %d lines, want %d", tc.args, len(got), tc.want)
		}
	}
	if _, _, code := runCmd(t, "events", "--data-dir", dir, "--attribute", "Bogus=x"); code == 0 {
		t.Error("bad attribute accepted")
	}
}

func letters(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		i /= 26
		if i == 0 {
			return s
		}
	}
}

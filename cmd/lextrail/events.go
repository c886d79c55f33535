package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"lextrail/internal/audit"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// events is "lextrail events": it queries the event history offline, from
// the data dir or database, with LookupEvents' filters, and prints the
// CloudTrail records as JSON lines, newest first.
func events(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	account := fs.String("account", "", "account ID (default: every account)")
	region := fs.String("region", "", "region, as recorded in awsRegion (default: every region)")
	attribute := fs.String("attribute", "", "one lookup attribute Key=Value; keys: "+strings.Join(audit.Attributes, ", "))
	start := fs.String("start-time", "", "earliest eventTime, inclusive (RFC 3339 or epoch seconds)")
	end := fs.String("end-time", "", "latest eventTime, inclusive (RFC 3339 or epoch seconds)")
	max := fs.Int("max", 1000, "print at most this many events (0: all)")
	data := fs.Bool("include-data-events", false, "also print data events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("events: unexpected argument %q", fs.Arg(0))
	}
	q := audit.Query{AccountID: *account, Region: *region, IncludeData: *data}
	if *attribute != "" {
		k, v, ok := strings.Cut(*attribute, "=")
		if !ok || v == "" || !slices.Contains(audit.Attributes, k) {
			return fmt.Errorf("--attribute must be Key=Value with Key one of %s", strings.Join(audit.Attributes, ", "))
		}
		q.Attr, q.Value = k, v
	}
	var err error
	if q.Start, err = parseWhen(*start); err != nil {
		return fmt.Errorf("--start-time: %w", err)
	}
	if q.End, err = parseWhen(*end); err != nil {
		return fmt.Errorf("--end-time: %w", err)
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.Start.After(q.End) {
		return fmt.Errorf("--start-time is after --end-time")
	}
	ctx := context.Background()
	cfg := c.config()
	url := cfg.DatabaseURL
	if url == "" {
		url = "sqlite://" + cfg.DataDir + "/lextrail.db"
	}
	db, err := store.Open(ctx, store.Config{URL: url})
	if err != nil {
		return err
	}
	defer db.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	printed := 0
	for {
		q.Limit = 500
		if *max > 0 {
			q.Limit = min(q.Limit, *max-printed)
		}
		rows, err := audit.Lookup(ctx, db, q)
		if err != nil {
			return err
		}
		for _, r := range rows {
			w.WriteString(r.Record)
			w.WriteByte('\n')
		}
		printed += len(rows)
		if len(rows) < q.Limit || (*max > 0 && printed >= *max) {
			return nil
		}
		p := rows[len(rows)-1].Position()
		q.After = &p
	}
}

func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, ok := protocol.ParseEpoch(s); ok {
		return t, nil
	}
	return protocol.ParseISO8601(s)
}

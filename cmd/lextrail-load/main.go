// Command lextrail-load is lextrail's load generator: it sends authenticated
// STS GetCallerIdentity calls (or, with -op PutSlotType / PutIntent, Lex
// model-building calls creating distinct slot types or intents: cheap
// mutating calls whose CloudTrail event is written in the call's
// transaction; with -op CreateDeleteUser, IAM CreateUser/DeleteUser pairs;
// with -op
// AssumeRole, STS AssumeRole calls by an IAM user the generator creates
// first, each issuing a session and recording its event; with -op PostText,
// Lex runtime conversation turns against a 50-intent bot, each turn
// classifying or filling a slot and writing its session; with -op Empty,
// a PostText-sized POST to an empty net/http handler, the floor the
// loopback, the HTTP stack and the Go scheduler set) over keep-alive
// HTTP connections and reports throughput and latency percentiles. -rate
// makes it open-loop: requests are scheduled at that total rate and latency
// is measured from each request's scheduled time, so a stalled server
// cannot hide its queueing.
//
//	go run ./cmd/lextrail-load                      # starts an in-process server in a temp dir
//	go run ./cmd/lextrail-load -audit=false         # same server and calls, but its gateway records no events
//	go run ./cmd/lextrail-load -op PutSlotType      # audited writes
//	go run ./cmd/lextrail-load -op AssumeRole       # sessions issued by trust policy
//	go run ./cmd/lextrail-load -op PostText -rate 3000 -connections 16
//	go run ./cmd/lextrail-load -op PostText -convlogs   # the alias logs every turn's text (conversation logs)
//	go run ./cmd/lextrail-load -op Empty -rate 3000 -connections 16   # the floor: an in-process empty handler
//	go run ./cmd/lextrail-load -serve-empty 127.0.0.1:4600 &          # the floor's handler in a process of its own,
//	go run ./cmd/lextrail-load -op Empty -endpoint http://127.0.0.1:4600 -rate 3000 -connections 16
//	go run ./cmd/lextrail-load -endpoint http://127.0.0.1:4566 -access-key AK -secret-key SK
//	go run ./cmd/lextrail-load -op PostText -rate 3000 -connections 16 -client sdk   # net/http and the SDK signer
//	go run ./cmd/lextrail-load -op PostText -rate 3000 -connections 16 -trace /tmp/t.out   # then go tool trace /tmp/t.out
//	go tool trace -d=parsed /tmp/t.out | go run ./cmd/lextrail-load -trace-report -      # its tail sources in text
//
// The in-process server is the default one: SQLite in WAL mode with
// synchronous=NORMAL (a commit is durable against a process crash, and
// against power loss once the WAL is synced at the next checkpoint).
// -audit=false swaps in a gateway built the same way but without the
// auditor, so the two runs differ only by the audit trail.
//
// PostText and Empty requests go through the lean client by default
// (lean.go): every request signed by the generator's own SigV4 signer
// (tested equal to the SDK's) and written on one kept-alive net.Conn per
// connection, so that on a small machine the client takes little of the
// CPU the server is measured on; -client sdk sends them through net/http
// and the AWS SDK for Go v2 signer instead. Other operations use net/http
// and the SDK signer, a GetCallerIdentity request being signed once per
// second and replayed within it. The server verifies every request's
// signature in full. -trace writes an execution trace of the measured
// window with the turns slower than 10 ms logged in it. Only loopback
// endpoints are accepted, and the run is bounded by -duration and
// -max-requests.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/prometheus/client_golang/prometheus"

	"lextrail/internal/accounts"
	"lextrail/internal/gateway"
	"lextrail/internal/server"
)

func main() {
	endpoint := flag.String("endpoint", "", "lextrail endpoint (loopback only); empty starts an in-process server")
	accessKey := flag.String("access-key", os.Getenv("AWS_ACCESS_KEY_ID"), "access key ID")
	secretKey := flag.String("secret-key", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret access key")
	conns := flag.Int("connections", 32, "concurrent keep-alive connections")
	duration := flag.Duration("duration", 10*time.Second, "how long to run (at most 5m)")
	maxReq := flag.Int64("max-requests", 5_000_000, "stop after this many requests")
	warmup := flag.Duration("warmup", time.Second, "warm-up time not counted")
	dbURL := flag.String("database-url", "", "in-process server only: its database (postgres://...; empty: SQLite in a temp dir)")
	audited := flag.Bool("audit", true, "in-process server only: record CloudTrail events (false: same server, gateway without auditor)")
	op := flag.String("op", "GetCallerIdentity", "operation: GetCallerIdentity (read-only, audited through the group committer), PutSlotType or PutIntent (Lex, mutating, audited in the call's transaction; distinct names), CreateDeleteUser (IAM CreateUser then DeleteUser of the same user, each counted), AssumeRole (an IAM user assumes a role trusting it; the root credentials create both) or PostText (Lex runtime turns; a 50-intent bot is deployed first)")
	rate := flag.Float64("rate", 0, "open loop: total requests per second, spread over the connections (0: closed loop, as fast as answers come)")
	users := flag.Int("users", 50, "PostText: conversations per connection")
	serveEmpty := flag.String("serve-empty", "", "serve the empty handler of -op Empty on this loopback address until killed (the floor's server in a process of its own)")
	convlogs := flag.Bool("convlogs", false, "PostText: the alias has text conversation logs (a log group and a role are created; delivery is checked at the end)")
	ab := flag.Int("ab", 0, "PostText: alternate N rounds of -duration/(2N) without and with text conversation logs on one server (two aliases), the logged slices including the time to deliver their logs; other ops (in-process server only): alternate N rounds without and with the audit trail on one server (two gateways), the audited slices including the time to index their events and every slice the checkpoint of the WAL it wrote; prints both, the ratio and the per-round ratios")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole process (client and in-process server) to this file")
	client := flag.String("client", "lean", "PostText and Empty: lean (requests signed by the generator's own SigV4 signer and written as bytes on one kept-alive net.Conn per connection, responses parsed on the same goroutine: the least client CPU) or sdk (net/http Transport and the AWS SDK v4 signer, signatures cached per path and body for a minute; -op Empty sends unsigned POSTs). Both send the same signed HTTP/1.1 keep-alive requests for PostText, each verified in full by the server; other ops always use sdk")
	traceFile := flag.String("trace", "", "write a runtime/trace execution trace of the measured window (client and in-process server) to this file; turns slower than 10ms are logged in it as user logs of category \"slow\" (go tool trace FILE)")
	traceRep := flag.String("trace-report", "", "summarise a -trace file's tail sources (slow turns, GC pauses and assists, waits for a P, blocking syscalls by site and how long they kept their P) from the text of go tool trace -d=parsed FILE, given as a file or - for stdin, and exit")
	serverPID := flag.Int("server-pid", 0, "with -endpoint: the server's process ID; its CPU over the measured window (Linux /proc) is reported with the generator's")
	memprofile := flag.String("memprofile", "", "write a heap profile (allocations since start: go tool pprof -sample_index=alloc_space) of the whole process to this file at the end")
	flag.Parse()
	if *memprofile != "" {
		defer func() {
			f, err := os.Create(*memprofile)
			if err == nil {
				err = errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			}
		}()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *traceRep != "" {
		in := os.Stdin
		if *traceRep != "-" {
			f, err := os.Open(*traceRep)
			if err != nil {
				fmt.Fprintln(os.Stderr, "lextrail-load:", err)
				os.Exit(1)
			}
			defer f.Close()
			in = f
		}
		if err := traceReport(in, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(1)
		}
		return
	}
	switch *op {
	case "GetCallerIdentity", "PutSlotType", "PutIntent", "CreateDeleteUser", "AssumeRole", "PostText", "Empty":
	default:
		fmt.Fprintln(os.Stderr, "lextrail-load: -op must be GetCallerIdentity, PutSlotType, PutIntent, CreateDeleteUser, AssumeRole, PostText or Empty")
		os.Exit(2)
	}
	if *duration > 5*time.Minute {
		*duration = 5 * time.Minute
	}
	if *serveEmpty != "" {
		if err := loopbackOnly("http://" + *serveEmpty); err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(2)
		}
		ln, err := net.Listen("tcp", *serveEmpty)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(1)
		}
		fmt.Println("serving the empty handler on http://" + ln.Addr().String())
		fmt.Fprintln(os.Stderr, http.Serve(ln, emptyHandler{}))
		os.Exit(1)
	}

	if *endpoint == "" && *op == "Empty" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(1)
		}
		go http.Serve(ln, emptyHandler{})
		*endpoint = "http://" + ln.Addr().String()
	}
	if *endpoint == "" {
		server.TuneGC() // as lextrail serve does
		ep, ak, sk, stop, err := inProcess(*audited, *dbURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(1)
		}
		defer stop()
		*endpoint, *accessKey, *secretKey = ep, ak, sk
	}
	if err := loopbackOnly(*endpoint); err != nil {
		fmt.Fprintln(os.Stderr, "lextrail-load:", err)
		os.Exit(2)
	}
	switch *client {
	case "lean", "sdk":
	default:
		fmt.Fprintln(os.Stderr, "lextrail-load: -client must be lean or sdk")
		os.Exit(2)
	}
	opts := Options{Endpoint: *endpoint, AccessKey: *accessKey, SecretKey: *secretKey,
		Connections: *conns, Duration: *duration, Warmup: *warmup, MaxRequests: *maxReq, Op: *op, Rate: *rate, Users: *users, ConvLogs: *convlogs,
		Client: *client, ServerPID: *serverPID}
	if *traceFile != "" {
		if *ab > 0 {
			fmt.Fprintln(os.Stderr, "lextrail-load: -trace traces one run; it cannot be combined with -ab")
			os.Exit(2)
		}
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(1)
		}
		defer f.Close()
		opts.Trace = f
	}
	if *ab > 0 && (*op == "PostText" || local != nil) {
		var out string
		var err error
		if *op == "PostText" {
			out, err = RunAB(opts, *ab)
		} else {
			out, err = RunABAudit(local, opts, *ab)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "lextrail-load:", err)
			os.Exit(1)
		}
		fmt.Print(out)
		return
	}
	res, err := Run(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lextrail-load:", err)
		os.Exit(1)
	}
	clientUsed := "sdk"
	if *client == "lean" && (*op == "PostText" || *op == "Empty") {
		clientUsed = "lean"
	}
	fmt.Printf("op %s, client %s, audit %v, convlogs %v, connections %d, rate %v\n", *op, clientUsed, *audited, *convlogs && *op == "PostText", *conns, *rate)
	fmt.Print(res)
	if local != nil && *op == "PostText" {
		fmt.Printf("session cache: %d turns found stale and run again\n", local.LexRuntime.StaleTurns())
		fmt.Print("server-side turn timings (in-process server):\n" + local.LexRuntime.TurnTimings())
	}
	if *convlogs && *op == "PostText" {
		fmt.Println(convLogsDelivery(*endpoint, 60*time.Second))
	}
}

// local is the in-process server, when there is one, with its gateway
// as server.New built it (auditing) and one built the same way without
// the auditor.
var (
	local                            *server.Server
	auditedGateway, unauditedGateway *gateway.Gateway
)

// inProcess starts a lextrail server on a loopback port with a temp data dir.
// Without audit, its gateway is rebuilt exactly as server.New builds it but
// with no Auditor.
func inProcess(audited bool, dbURL string) (endpoint, ak, sk string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "lextrail-load-")
	if err != nil {
		return "", "", "", nil, err
	}
	creds := accounts.NewRootCredentials()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{DataDir: dir, DatabaseURL: dbURL, CredentialsOut: io.Discard,
		Bootstrap: accounts.Bootstrap{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey},
		Logger:    nil})
	if err != nil {
		cancel()
		return "", "", "", nil, err
	}
	auditedGateway = srv.Gateway
	unauditedGateway = gateway.New(gateway.Config{
		Catalog:    srv.Catalog,
		Codecs:     server.Codecs(),
		DB:         srv.DB,
		Keys:       srv.Accounts,
		Authorizer: srv.Authz,
		Metrics:    gateway.NewMetrics(prometheus.NewRegistry()),
	})
	if !audited {
		srv.Gateway = unauditedGateway
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return "", "", "", nil, err
	}
	done := make(chan struct{})
	local = srv
	go func() { srv.Serve(ctx, ln); close(done) }()
	return "http://" + ln.Addr().String(), creds.AccessKeyID, creds.SecretAccessKey, func() {
		cancel()
		<-done
		srv.Close()
		os.RemoveAll(dir)
	}, nil
}

func loopbackOnly(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("endpoint %s is not a loopback address; this generator only loads loopback", endpoint)
	}
	return nil
}

// Options configure a run.
type Options struct {
	Endpoint, AccessKey, SecretKey string
	Connections                    int
	Duration, Warmup               time.Duration
	MaxRequests                    int64
	// Op is "GetCallerIdentity" (default), "PutSlotType", "PutIntent",
	// "CreateDeleteUser", "AssumeRole" or "PostText".
	Op string
	// Rate, when positive, schedules requests at that total rate (open
	// loop; latency counts from the scheduled time).
	Rate float64
	// Users is PostText's conversations per connection (default 50).
	Users int
	// ConvLogs gives PostText's alias text conversation logs.
	ConvLogs bool
	// Alias is PostText's alias (default "load"), UserPrefix what its user
	// IDs start with (default "user"), Starts the deployed bot's
	// intent-starting utterances (nil: Run deploys the bot).
	Alias, UserPrefix string
	Starts            []string
	// Client is "lean" (default) or "sdk": how PostText and Empty
	// requests are sent (see the -client flag).
	Client string
	// Trace, when set, receives a runtime/trace execution trace of the
	// measured window; turns slower than slowTurn are logged in it
	// (category "slow").
	Trace io.Writer
	// ServerPID, when positive, is the server's process (-endpoint
	// layout): its CPU over the measured window is reported too.
	ServerPID int
}

// slowTurn is the latency above which a traced turn is logged.
const slowTurn = 10 * time.Millisecond

// Result is a run's outcome.
type Result struct {
	Requests, Errors int64
	Elapsed          time.Duration
	P50, P90, P99    time.Duration
	Max              time.Duration
	FirstError       string
	// CPU is the CPU time (user+system) this process used while measuring:
	// the server's and the client's when the server is in-process.
	CPU time.Duration
	// SchedP99 is the 99th percentile of the Go scheduler's latency while
	// measuring (how long runnable goroutines waited for a core): the
	// share of the request latency tail that is waiting for CPU.
	SchedP99 time.Duration
	// ServerCPU is the CPU time of the -server-pid process while
	// measuring (0 without one).
	ServerCPU time.Duration
	// Server is the server's own latency histogram of the operation
	// while measuring (its /metrics), as text; "" when unknown.
	Server string
}

func (r Result) String() string {
	rps := float64(r.Requests) / r.Elapsed.Seconds()
	s := fmt.Sprintf("requests %d in %v: %.0f req/s; errors %d\nlatency p50 %v  p90 %v  p99 %v  max %v\n",
		r.Requests, r.Elapsed.Round(time.Millisecond), rps, r.Errors, r.P50, r.P90, r.P99, r.Max)
	if r.CPU > 0 && r.Requests > 0 {
		per := r.CPU / time.Duration(r.Requests)
		s += fmt.Sprintf("process CPU %v (%.2f of %d cores): %v per request, i.e. %.0f req/s if the process had all %d cores\n",
			r.CPU.Round(time.Millisecond), r.CPU.Seconds()/r.Elapsed.Seconds(), runtime.NumCPU(), per.Round(time.Microsecond),
			float64(runtime.NumCPU())/per.Seconds(), runtime.NumCPU())
	}
	if r.ServerCPU > 0 && r.Requests > 0 {
		per := (r.CPU + r.ServerCPU) / time.Duration(r.Requests)
		s += fmt.Sprintf("server process CPU %v (%.2f cores): %v per request; both processes %v per request\n",
			r.ServerCPU.Round(time.Millisecond), r.ServerCPU.Seconds()/r.Elapsed.Seconds(), (r.ServerCPU / time.Duration(r.Requests)).Round(time.Microsecond),
			per.Round(time.Microsecond))
	}
	if r.SchedP99 > 0 {
		s += fmt.Sprintf("goroutine scheduling latency p99 %v\n", r.SchedP99.Round(time.Microsecond))
	}
	if r.Server != "" {
		s += "server-measured latency (its /metrics, request in to response out): " + r.Server + "\n"
	}
	if r.FirstError != "" {
		s += "first error: " + r.FirstError + "\n"
	}
	return s
}

// serverHistogram reads the cumulative buckets of the server's
// lextrail_request_duration_seconds for op (nil when unavailable).
func serverHistogram(endpoint, op string) map[string]float64 {
	resp, err := http.Get(endpoint + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "lextrail_request_duration_seconds_bucket{") || !strings.Contains(line, `operation="`+op+`"`) {
			continue
		}
		i := strings.Index(line, `le="`)
		j := strings.LastIndexByte(line, ' ')
		if i < 0 || j < i {
			continue
		}
		le := line[i+4:]
		le = le[:strings.IndexByte(le, '"')]
		var v float64
		fmt.Sscan(line[j+1:], &v)
		m[le] = v
	}
	return m
}

// histogramDelta describes the requests between two readings: the share
// at or under each bucket bound from 1 ms to 10 ms.
func histogramDelta(before, after map[string]float64) string {
	if before == nil || after == nil || after["+Inf"]-before["+Inf"] <= 0 {
		return ""
	}
	total := after["+Inf"] - before["+Inf"]
	var parts []string
	for _, le := range []string{"0.001", "0.0025", "0.005", "0.01"} {
		parts = append(parts, fmt.Sprintf("≤%vms %.1f%%", map[string]string{"0.001": "1", "0.0025": "2.5", "0.005": "5", "0.01": "10"}[le], 100*(after[le]-before[le])/total))
	}
	return fmt.Sprintf("%.0f requests, ", total) + strings.Join(parts, ", ")
}

// schedLatencies reads the runtime's histogram of scheduling latencies.
func schedLatencies() *metrics.Float64Histogram {
	m := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return m[0].Value.Float64Histogram()
}

// schedP99 is the 99th percentile of the latencies recorded between two
// readings of the histogram (0 when unknown).
func schedP99(before, after *metrics.Float64Histogram) time.Duration {
	if before == nil || after == nil || len(before.Counts) != len(after.Counts) {
		return 0
	}
	var total uint64
	counts := make([]uint64, len(after.Counts))
	for i := range counts {
		counts[i] = after.Counts[i] - before.Counts[i]
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen*100 >= total*99 {
			return time.Duration(after.Buckets[i+1] * float64(time.Second))
		}
	}
	return 0
}

const callerIdentityBody = "Action=GetCallerIdentity&Version=2011-06-15"

// signer keeps a signed request fresh for replay.
type signer struct {
	mu      sync.Mutex
	header  http.Header
	signed  time.Time
	opts    Options
	sig     *v4.Signer
	body    string // the replayed query-protocol request
	payload string // its sha256
	ak, sk  string // the credentials it is signed with
}

func (s *signer) current() (http.Header, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.header != nil && time.Since(s.signed) < time.Second {
		return s.header, nil
	}
	req, err := http.NewRequest(http.MethodPost, s.opts.Endpoint+"/", bytes.NewReader([]byte(s.body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	now := time.Now()
	err = s.sig.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: s.ak, SecretAccessKey: s.sk},
		req, s.payload, "sts", "us-east-1", now)
	if err != nil {
		return nil, err
	}
	s.header, s.signed = req.Header, now
	return s.header, nil
}

// Run loads the endpoint.
func Run(o Options) (Result, error) {
	body, ak, sk := callerIdentityBody, o.AccessKey, o.SecretKey
	if o.Op == "AssumeRole" {
		var err error
		if body, ak, sk, err = setupAssumeRole(o); err != nil {
			return Result{}, fmt.Errorf("AssumeRole setup: %w", err)
		}
	}
	sum := sha256.Sum256([]byte(body))
	sg := &signer{opts: o, sig: v4.NewSigner(), body: body, payload: hex.EncodeToString(sum[:]), ak: ak, sk: sk}
	if _, err := sg.current(); err != nil && o.Op != "Empty" {
		return Result{}, err
	}
	transport := &http.Transport{MaxIdleConnsPerHost: o.Connections, MaxConnsPerHost: o.Connections, DisableCompression: true}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	defer transport.CloseIdleConnections()
	starts := o.Starts
	var ts *turnSigner
	if o.Op == "PostText" {
		var err error
		if starts == nil {
			if starts, err = setupPostText(o); err != nil {
				return Result{}, err
			}
		}
		ts = &turnSigner{s: sg, cache: map[string]signedTurn{}}
	}
	lean := o.Client != "sdk" && (o.Op == "PostText" || o.Op == "Empty")
	var bodies [][]byte
	if lean {
		if starts == nil { // -op Empty: the same texts, no bot
			_, starts = loadBotZip()
		}
		bodies = turnBodies(starts)
		if _, err := newLeanConn(o.Endpoint, nil); err != nil {
			return Result{}, err
		}
	}
	if o.Users <= 0 {
		o.Users = 50
	}
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(o.Connections) / o.Rate)
	}

	var count, errs atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	measureFrom := start.Add(o.Warmup)
	cpuAtStart := make(chan time.Duration, 1)
	schedAtStart := make(chan *metrics.Float64Histogram, 1)
	histAtStart := make(chan map[string]float64, 1)
	serverCPUAtStart := make(chan time.Duration, 1)
	time.AfterFunc(o.Warmup, func() {
		if local != nil {
			local.LexRuntime.ResetTurnTimings()
		}
		histAtStart <- serverHistogram(o.Endpoint, o.Op)
		if o.Trace != nil {
			if err := trace.Start(o.Trace); err != nil {
				fmt.Fprintln(os.Stderr, "lextrail-load: trace:", err)
			}
		}
		cpuAtStart <- processCPU()
		schedAtStart <- schedLatencies()
		serverCPUAtStart <- pidCPU(o.ServerPID)
	})
	deadline := measureFrom.Add(o.Duration)
	lat := make([][]time.Duration, o.Connections)
	var wg sync.WaitGroup
	for i := 0; i < o.Connections; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n := 0
			var lc *leanConn
			if lean {
				lc, _ = newLeanConn(o.Endpoint, newLeanSigner(o.AccessKey, o.SecretKey, "us-east-1", "lex"))
				defer lc.close()
			}
			// open loop: connection i's k-th request is due at
			// start + (k + i/conns) * interval
			next := start.Add(time.Duration(float64(interval) * float64(i) / float64(o.Connections)))
			for {
				t0 := time.Now()
				if interval > 0 {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					t0 = next
					next = next.Add(interval)
				}
				if t0.After(deadline) || count.Load() >= o.MaxRequests {
					return
				}
				sent := time.Now()
				var err error
				if lean {
					err = leanTurn(lc, bodies, starts, o.Alias, o.UserPrefix, i, n%o.Users, n/o.Users, o.Op == "Empty")
					n++
				} else if o.Op == "PostText" {
					err = postTextTurn(client, ts, starts, o.Alias, o.UserPrefix, i, n%o.Users, n/o.Users)
					n++
				} else if o.Op == "PutSlotType" || o.Op == "PutIntent" {
					err = putLex(client, sg, o.Op, o.UserPrefix, i, n)
					n++
				} else if o.Op == "Empty" {
					err = emptyCall(client, o.Endpoint)
				} else if o.Op == "CreateDeleteUser" {
					// A pair is two calls: CreateUser on even, DeleteUser on odd.
					err = iamUser(client, sg, o.UserPrefix, i, n)
					n++
				} else {
					var h http.Header
					h, err = sg.current()
					if err == nil {
						err = once(client, o.Endpoint, sg.body, h)
					}
				}
				d := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if d > slowTurn && trace.IsEnabled() {
					// The turn's end is the event's time; late is how long
					// after its scheduled time the request was sent.
					trace.Log(context.Background(), "slow", fmt.Sprintf("conn=%d dur=%d late=%d", i, d, sent.Sub(t0)))
				}
				count.Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[i] = append(lat[i], d)
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(measureFrom)
	if o.Trace != nil {
		trace.Stop()
	}
	cpu := processCPU() - <-cpuAtStart
	serverCPU := pidCPU(o.ServerPID) - <-serverCPUAtStart
	sched := schedP99(<-schedAtStart, schedLatencies())
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	res := Result{Requests: count.Load(), Errors: errs.Load(), Elapsed: elapsed, CPU: cpu, SchedP99: sched}
	if o.ServerPID > 0 {
		res.ServerCPU = serverCPU
	}
	res.Server = histogramDelta(<-histAtStart, serverHistogram(o.Endpoint, o.Op))
	if fe, ok := firstErr.Load().(string); ok {
		res.FirstError = fe
	}
	if n := len(all); n > 0 {
		res.P50, res.P90, res.P99, res.Max = all[n*50/100], all[n*90/100], all[n*99/100], all[n-1]
	}
	return res, nil
}

// emptyHandler is the floor -op Empty measures: net/http with a handler
// that reads the request and answers a small JSON body, i.e. what the
// loopback, the HTTP stack and the scheduler cost before any work.
type emptyHandler struct{}

func (emptyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"dialogState":"ElicitSlot"}`)
}

// emptyCall is one -op Empty request: a PostText-sized JSON POST.
func emptyCall(client *http.Client, endpoint string) error {
	resp, err := client.Post(endpoint+"/bot/LoadBot/alias/load/user/u/text", "application/json", bytes.NewReader([]byte(`{"inputText":"next friday"}`)))
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	return nil
}

// pidCPU is the user+system CPU time process pid has used (Linux
// /proc/PID/stat; 0 when pid is 0 or unreadable).
func pidCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// the fields after the parenthesised command name; utime and stime
	// are fields 14 and 15, in clock ticks (100 per second on Linux)
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func once(client *http.Client, endpoint, body string, h http.Header) error {
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("<Arn>")) {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	return nil
}

// setupAssumeRole creates, with the root credentials of o, an IAM user with
// a key and a role whose trust policy names that user, and returns the
// AssumeRole request body and the user's key pair.
func setupAssumeRole(o Options) (body, ak, sk string, err error) {
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(o.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, "")}
	c := iam.NewFromConfig(cfg)
	name := fmt.Sprintf("lextrail-load-%d", time.Now().UnixNano())
	u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		return "", "", "", err
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return "", "", "", err
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + aws.ToString(u.User.Arn) + `"},"Action":"sts:AssumeRole"}]}`
	r, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		return "", "", "", err
	}
	body = "Action=AssumeRole&Version=2011-06-15&RoleSessionName=load&RoleArn=" + url.QueryEscape(aws.ToString(r.Role.Arn))
	return body, aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), nil
}

// putLex creates slot type or intent number n of connection conn (a
// distinct name per call, and per prefix, so every call is a real insert
// with its CloudTrail event in the same transaction, also in the -ab
// rounds, which run on one server with prefixes of their own). Each
// request is signed on its own.
func putLex(client *http.Client, s *signer, op, prefix string, conn, n int) error {
	name := lexName(prefix, conn, n)
	path := "/slottypes/" + name + "/versions/$LATEST"
	payload := []byte(`{"description":"load","enumerationValues":[{"value":"small"},{"value":"large"}]}`)
	if op == "PutIntent" {
		path = "/intents/" + name + "/versions/$LATEST"
		payload = []byte(`{"description":"load","sampleUtterances":["order some flowers","I want {Kind}","{Kind} please"],` +
			`"slots":[{"name":"Kind","slotConstraint":"Required","slotType":"AMAZON.Color","priority":1,` +
			`"valueElicitationPrompt":{"maxAttempts":2,"messages":[{"contentType":"PlainText","content":"Which kind?"}]}}],` +
			`"fulfillmentActivity":{"type":"ReturnIntent"}}`)
	}
	return signedDo(client, s, http.MethodPut, path, "application/json", "lex", payload, name)
}

// iamUser is half of a CreateUser/DeleteUser pair: even n creates user
// n/2 of connection conn, odd n deletes it.
func iamUser(client *http.Client, s *signer, prefix string, conn, n int) error {
	if prefix == "" {
		prefix = "load"
	}
	name := fmt.Sprintf("%s-%d-%d", prefix, conn, n/2)
	action := "CreateUser"
	if n%2 == 1 {
		action = "DeleteUser"
	}
	payload := []byte("Action=" + action + "&Version=2010-05-08&UserName=" + name)
	return signedDo(client, s, http.MethodPost, "/", "application/x-www-form-urlencoded; charset=utf-8", "iam", payload, action+"Response")
}

// signedDo signs and sends one request and checks that the 200 answer
// contains want.
func signedDo(client *http.Client, s *signer, method, path, contentType, service string, payload []byte, want string) error {
	req, err := http.NewRequest(method, s.opts.Endpoint+path, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	sum := sha256.Sum256(payload)
	err = s.sig.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: s.opts.AccessKey, SecretAccessKey: s.opts.SecretKey},
		req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now())
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(want)) {
		return fmt.Errorf("%s %s: status %d: %.200s", method, path, resp.StatusCode, b)
	}
	return nil
}

// letters spells n in base 26 with the letters a-z (slot type names allow
// letters and single underscores only).
// lexName is putLex's resource name: Lex names are letters and single
// underscores, so the prefix's other characters become letters too (a
// digit d the letter 'A'+d).
func lexName(prefix string, conn, n int) string {
	b := []byte("Load")
	if prefix != "" {
		b = append(b, '_')
		for _, c := range []byte(prefix) {
			switch {
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				b = append(b, c)
			case c >= '0' && c <= '9':
				b = append(b, 'A'+(c-'0'))
			default:
				b = append(b, 'X')
			}
		}
	}
	return string(b) + "_" + letters(conn) + "_" + letters(n)
}

func letters(n int) string {
	b := []byte{byte('a' + n%26)}
	for n /= 26; n > 0; n /= 26 {
		b = append(b, byte('a'+n%26))
	}
	return string(b)
}

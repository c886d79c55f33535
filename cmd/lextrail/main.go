// Command lextrail runs the lextrail server and administers its data.
//
//	lextrail serve    [--listen ADDR] [--data-dir DIR] [--database-url URL] [--log-format text|json]
//	                  [--delivery-interval 5m] [--digest-interval 1h] [--digest-key-rotation 480h]
//	                  [--object-store s3://bucket[/prefix] --object-store-endpoint URL ...]
//	                  [--tls-cert FILE --tls-key FILE]
//	lextrail version
//	lextrail admin    create-account | list-accounts | credentials | rotate-credentials
//	lextrail logs     tail GROUP [--filter PATTERN]
//	lextrail chat     BOT ALIAS   (a REPL over the Lex runtime's PostText)
//	lextrail trail    flush NAME|ARN
//	lextrail validate --trail-arn ARN --start-time T
//
// Every flag can also be given by the environment variable named in its
// help text; a flag on the command line wins over the environment.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"lextrail/internal/accounts"
	"lextrail/internal/server"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/services/lexruntime"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "admin":
		err = admin(args[1:], stdout, stderr)
	case "import":
		err = importZips(args[1:], stdout, stderr)
	case "events":
		err = events(args[1:], stdout, stderr)
	case "logs":
		err = logsCmd(args[1:], stdout, stderr)
	case "chat":
		err = chat(args[1:], stdout, stderr)
	case "trail":
		err = trailCmd(args[1:], stdout, stderr)
	case "validate":
		err = validateCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "lextrail: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if errors.Is(err, errInvalid) {
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "lextrail:", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprint(w, `lextrail — Lex V1 and CloudTrail-compatible service

Usage:
  lextrail serve [flags]        run the server (see "lextrail serve -h")
  lextrail version              print the version
  lextrail admin <command>      offline administration of a data dir or database:
      create-account ID         create an account and print its root credentials
      list-accounts             list accounts
      credentials [ID]          print the account's root credentials (default account)
      rotate-credentials [ID]   replace the account's root keys and print the new pair
  lextrail import [flags] FILE.zip...
                                import Lex V1 exports (LEX format zips) into the database
  lextrail events [flags]       print the event history (CloudTrail records as JSON lines,
                                newest first) from the data dir or database; see "lextrail events -h"
  lextrail logs tail GROUP [--filter PATTERN] [--since 10m] [--follow=false]
                                follow a CloudWatch Logs log group of a running lextrail
                                (FilterLogEvents over its API; see "lextrail logs tail -h")
  lextrail chat [flags] BOT ALIAS
                                talk to a Lex bot from the terminal (PostText against a running
                                server; see "lextrail chat -h")
  lextrail trail flush [flags] NAME|ARN
                                deliver a trail's pending events now (asks the running server;
                                --offline delivers from this process)
  lextrail validate [flags] --trail-arn ARN --start-time T
                                validate a trail's log files and digests, from the data dir's
                                local store or through an S3 / CloudTrail endpoint; see "lextrail validate -h"
`)
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		return fmt.Sprintf("lextrail %s %s", v, bi.GoVersion)
	}
	return "lextrail " + v
}

// common holds the flags serve and admin share.
type common struct {
	dataDir     string
	databaseURL string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "data-dir", envOr("LEXTRAIL_DATA_DIR", "./lextrail-data"), "data directory: SQLite database, master key, local objects (env LEXTRAIL_DATA_DIR)")
	fs.StringVar(&c.databaseURL, "database-url", os.Getenv("LEXTRAIL_DATABASE_URL"), "database URL: postgres://... for PostgreSQL; default SQLite in the data dir (env LEXTRAIL_DATABASE_URL)")
}

func (c *common) config() server.Config {
	return server.Config{
		DataDir:     c.dataDir,
		DatabaseURL: c.databaseURL,
		MasterKey:   os.Getenv("LEXTRAIL_MASTER_KEY"),
		Bootstrap: accounts.Bootstrap{
			AccountID:       os.Getenv("LEXTRAIL_ACCOUNT_ID"),
			AccessKeyID:     os.Getenv("LEXTRAIL_ROOT_ACCESS_KEY_ID"),
			SecretAccessKey: os.Getenv("LEXTRAIL_ROOT_SECRET_ACCESS_KEY"),
		},
	}
}

// quietLogger logs warnings and errors only, as text.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	listen := fs.String("listen", envOr("LEXTRAIL_LISTEN", "127.0.0.1:4566"), "address to listen on (env LEXTRAIL_LISTEN)")
	logFormat := fs.String("log-format", envOr("LEXTRAIL_LOG_FORMAT", "text"), "log format: text or json (env LEXTRAIL_LOG_FORMAT)")
	proxies := fs.String("trusted-proxies", os.Getenv("LEXTRAIL_TRUSTED_PROXIES"), "comma-separated CIDRs whose X-Forwarded-For is believed (env LEXTRAIL_TRUSTED_PROXIES)")
	shutdown := fs.Duration("shutdown-timeout", envDuration("LEXTRAIL_SHUTDOWN_TIMEOUT", 30*time.Second), "how long shutdown waits for in-flight requests and background work (env LEXTRAIL_SHUTDOWN_TIMEOUT)")
	retention := fs.Duration("event-retention", envDuration("LEXTRAIL_EVENT_RETENTION", 90*24*time.Hour), "how long event history is kept (env LEXTRAIL_EVENT_RETENTION)")
	utterFlush := fs.Duration("lex-utterance-flush", envDuration("LEXTRAIL_LEX_UTTERANCE_FLUSH", 0), "keep Lex utterance statistics in memory and write them this often (less CPU per turn; a crash loses the last interval's counts); 0: in each turn's transaction (env LEXTRAIL_LEX_UTTERANCE_FLUSH)")
	deliveryInterval := fs.Duration("delivery-interval", envDuration("LEXTRAIL_DELIVERY_INTERVAL", 5*time.Minute), "trail delivery window: one log file per account, region and window; at least 1s (env LEXTRAIL_DELIVERY_INTERVAL)")
	digestInterval := fs.Duration("digest-interval", envDuration("LEXTRAIL_DIGEST_INTERVAL", time.Hour), "trail digest period, at least 1s (env LEXTRAIL_DIGEST_INTERVAL)")
	keyRotation := fs.Duration("digest-key-rotation", envDuration("LEXTRAIL_DIGEST_KEY_ROTATION", 20*24*time.Hour), "how often each region's digest signing key is replaced; keys stay valid 1.5 times as long (env LEXTRAIL_DIGEST_KEY_ROTATION)")
	tlsCert := fs.String("tls-cert", os.Getenv("LEXTRAIL_TLS_CERT"), "PEM certificate (chain) file: serve HTTPS instead of HTTP; needs --tls-key (env LEXTRAIL_TLS_CERT)")
	tlsKey := fs.String("tls-key", os.Getenv("LEXTRAIL_TLS_KEY"), "PEM private key file of --tls-cert (env LEXTRAIL_TLS_KEY)")
	publicURL := fs.String("public-url", os.Getenv("LEXTRAIL_PUBLIC_URL"), "base URL SNS subscribers reach lextrail at, for SigningCertURL/SubscribeURL/UnsubscribeURL (env LEXTRAIL_PUBLIC_URL; default: the host of the Subscribe request)")
	lambdaEndpoint := fs.String("lambda-endpoint", os.Getenv("LEXTRAIL_LAMBDA_ENDPOINT"), "Lambda Invoke API endpoint for Lex code hooks (real AWS or any Lambda-compatible runtime; env LEXTRAIL_LAMBDA_ENDPOINT; credentials from LEXTRAIL_LAMBDA_ACCESS_KEY_ID/LEXTRAIL_LAMBDA_SECRET_ACCESS_KEY)")
	var functionURLs urlMap = map[string]string{}
	if err := functionURLs.Set(os.Getenv("LEXTRAIL_LAMBDA_FUNCTION_URLS")); err != nil {
		return fmt.Errorf("LEXTRAIL_LAMBDA_FUNCTION_URLS: %w", err)
	}
	fs.Var(functionURLs, "lambda-function-url", "ARN=URL: send the code hook events of that Lambda function ARN (or name) to a plain HTTP(S) URL instead; repeatable (env LEXTRAIL_LAMBDA_FUNCTION_URLS, comma-separated)")
	speechConc := fs.Int("speech-concurrency", envInt("LEXTRAIL_SPEECH_CONCURRENCY", 0), "speech tools (recogniser, synthesiser, encoders) run at once; default the number of CPUs (env LEXTRAIL_SPEECH_CONCURRENCY)")
	speechQueue := fs.Int("speech-queue", envInt("LEXTRAIL_SPEECH_QUEUE", 0), "audio turns that may wait for a speech slot before 429 LimitExceededException; default 4 x concurrency (env LEXTRAIL_SPEECH_QUEUE)")
	speechTimeout := fs.Duration("speech-timeout", envDuration("LEXTRAIL_SPEECH_TIMEOUT", 10*time.Second), "longest speech tool run, queueing included; the tool is killed (env LEXTRAIL_SPEECH_TIMEOUT)")
	var objects objectStoreFlags
	objects.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *deliveryInterval < time.Second || *digestInterval < time.Second || *keyRotation < time.Second {
		return fmt.Errorf("--delivery-interval, --digest-interval and --digest-key-rotation must be at least 1s")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(stderr, nil)
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", *logFormat)
	}
	logger := slog.New(handler)
	slog.SetDefault(logger)

	cfg := c.config()
	cfg.Logger = logger
	cfg.ShutdownTimeout = *shutdown
	cfg.EventRetention = *retention
	cfg.LexUtteranceFlush = *utterFlush
	cfg.DeliveryInterval = *deliveryInterval
	cfg.DigestInterval = *digestInterval
	cfg.DigestKeyRotation = *keyRotation
	cfg.Speech.Concurrency, cfg.Speech.Queue, cfg.Speech.Timeout = *speechConc, *speechQueue, *speechTimeout
	if *publicURL != "" {
		u, err := url.Parse(*publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url must be an http:// or https:// URL, not %q", *publicURL)
		}
		cfg.PublicURL = *publicURL
	}
	cfg.CredentialsOut = stderr
	cfg.LexHooks = lexruntime.HookConfig{LambdaEndpoint: *lambdaEndpoint, FunctionURLs: functionURLs, LambdaRegion: os.Getenv("LEXTRAIL_LAMBDA_REGION"),
		Credentials: aws.Credentials{AccessKeyID: os.Getenv("LEXTRAIL_LAMBDA_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("LEXTRAIL_LAMBDA_SECRET_ACCESS_KEY"),
			SessionToken: os.Getenv("LEXTRAIL_LAMBDA_SESSION_TOKEN")}}
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, pfx)
	}

	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	}

	server.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := objects.open(ctx)
	if err != nil {
		return err
	}
	if store != nil {
		cfg.ObjectStore = store
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}

func admin(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		usage(stderr)
		return errUsage
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	// Flags may also follow the subcommand.
	if err := fs.Parse(rest); err != nil {
		return err
	}
	rest = fs.Args()
	cfg := c.config()
	ctx := context.Background()
	db, sealer, err := server.OpenState(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	st := accounts.New(db, sealer, accounts.Config{})
	account := func() string {
		if len(rest) > 0 {
			return rest[0]
		}
		if id := cfg.Bootstrap.AccountID; id != "" {
			return id
		}
		return accounts.DefaultAccountID
	}
	switch cmd {
	case "create-account":
		if len(rest) != 1 {
			return errors.New("usage: lextrail admin create-account ACCOUNT_ID")
		}
		creds, err := st.CreateAccount(ctx, rest[0])
		if err != nil {
			return err
		}
		server.PrintCredentials(stdout, rest[0], creds)
	case "list-accounts":
		list, err := st.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range list {
			fmt.Fprintf(stdout, "%s\t%s\n", a.ID, a.Created.Format(time.RFC3339))
		}
	case "credentials":
		creds, err := st.RootCredentials(ctx, account())
		if err != nil {
			return err
		}
		if len(creds) == 0 {
			return fmt.Errorf("account %s has no active root key; run rotate-credentials", account())
		}
		for _, c := range creds {
			fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n", c.AccessKeyID, c.SecretAccessKey)
		}
	case "rotate-credentials":
		creds, err := st.RotateRoot(ctx, account())
		if err != nil {
			return err
		}
		server.PrintCredentials(stdout, account(), creds)
	default:
		return fmt.Errorf("admin: unknown command %q", cmd)
	}
	return nil
}

// importZips is "lextrail import": it applies LEX export zips directly to
// the database, with a progress line per file. Imported bots are built by
// the running server's worker.
func importZips(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	account := fs.String("account", envOr("LEXTRAIL_ACCOUNT_ID", accounts.DefaultAccountID), "account to import into (env LEXTRAIL_ACCOUNT_ID)")
	region := fs.String("region", envOr("AWS_DEFAULT_REGION", "us-east-1"), "region to import into (env AWS_DEFAULT_REGION)")
	merge := fs.String("merge-strategy", "FAIL_ON_CONFLICT", "FAIL_ON_CONFLICT or OVERWRITE_LATEST")
	rtype := fs.String("resource-type", "", "BOT, INTENT or SLOT_TYPE (default: what each file holds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: lextrail import [flags] FILE.zip...")
		return errUsage
	}
	ctx := context.Background()
	db, _, err := server.OpenState(ctx, c.config())
	if err != nil {
		return err
	}
	defer db.Close()
	return lexmodels.ImportFiles(ctx, db, fs.Args(), lexmodels.ImportOptions{AccountID: *account, Region: *region, MergeStrategy: *merge, ResourceType: *rtype}, stdout)
}

// urlMap is a repeatable ARN=URL flag (also comma-separated).
type urlMap map[string]string

func (m urlMap) String() string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (m urlMap) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || !(strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")) {
			return fmt.Errorf("want ARN=http(s)://URL, got %q", p)
		}
		m[k] = v
	}
	return nil
}

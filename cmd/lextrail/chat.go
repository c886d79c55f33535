package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"lextrail/internal/accounts"
	"lextrail/internal/server"
)

// stdin is the chat REPL's input (tests replace it).
var stdin io.Reader = os.Stdin

// chat is "lextrail chat BOT ALIAS": a REPL over the Lex runtime's
// PostText against a running lextrail. Each line is a turn; the bot's
// answer is printed with its dialog state, intent and slots.
func chat(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	endpoint := fs.String("endpoint", envOr("LEXTRAIL_ENDPOINT", "http://127.0.0.1:4566"), "lextrail endpoint (env LEXTRAIL_ENDPOINT)")
	region := fs.String("region", envOr("AWS_DEFAULT_REGION", "us-east-1"), "region (env AWS_DEFAULT_REGION)")
	user := fs.String("user", "", "userId of the conversation (default chat-$USER)")
	accessKey := fs.String("access-key", os.Getenv("AWS_ACCESS_KEY_ID"), "access key ID (env AWS_ACCESS_KEY_ID; default: the root key of the data dir's default account)")
	secretKey := fs.String("secret-key", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret access key (env AWS_SECRET_ACCESS_KEY)")
	verbose := fs.Bool("v", false, "also print the raw JSON answer of every turn")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lextrail chat [flags] BOT ALIAS   (ALIAS may be $LATEST)")
		fs.PrintDefaults()
	}
	// Flags may come before or after the two positional arguments.
	if err := fs.Parse(args); err != nil {
		return err
	}
	pos := fs.Args()
	var names []string
	for len(pos) > 0 {
		if strings.HasPrefix(pos[0], "-") {
			if err := fs.Parse(pos); err != nil {
				return err
			}
			pos = fs.Args()
			continue
		}
		names = append(names, pos[0])
		pos = pos[1:]
	}
	if len(names) != 2 {
		fs.Usage()
		return errUsage
	}
	if *user == "" {
		u := os.Getenv("USER")
		if u == "" {
			u = "user"
		}
		*user = "chat-" + u
	}
	creds := aws.Credentials{AccessKeyID: *accessKey, SecretAccessKey: *secretKey, SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		var err error
		if creds, err = localRootCredentials(c); err != nil {
			return fmt.Errorf("no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or point --data-dir at the server's data: %w", err)
		}
	}
	cl := &chatClient{endpoint: strings.TrimRight(*endpoint, "/"), region: *region, creds: creds, bot: names[0], alias: names[1], user: *user,
		http: &http.Client{Timeout: 60 * time.Second}}
	fmt.Fprintf(stdout, "Talking to %s (alias %s) as %s. /help lists commands; /quit or end of input leaves.\n", cl.bot, cl.alias, cl.user)
	attrs := map[string]string{}
	sendAttrs := false
	in := bufio.NewScanner(stdin)
	for {
		fmt.Fprint(stdout, "you> ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		switch {
		case line == "":
			continue
		case line == "/quit" || line == "/exit":
			return nil
		case line == "/help":
			fmt.Fprintln(stdout, "  /session     show the session (GetSession)\n  /reset       end the session (DeleteSession)\n  /attr K=V    set a session attribute for the next turns (/attr K= removes it)\n  /quit        leave")
			continue
		case line == "/session":
			b, err := cl.call(http.MethodGet, "/session/", nil)
			if err != nil {
				fmt.Fprintln(stdout, "error:", err)
				continue
			}
			var pretty bytes.Buffer
			json.Indent(&pretty, b, "  ", "  ")
			fmt.Fprintln(stdout, " ", pretty.String())
			continue
		case line == "/reset":
			if _, err := cl.call(http.MethodDelete, "/session", nil); err != nil {
				fmt.Fprintln(stdout, "error:", err)
			} else {
				fmt.Fprintln(stdout, "  (session deleted)")
			}
			attrs, sendAttrs = map[string]string{}, false
			continue
		case strings.HasPrefix(line, "/attr "):
			k, v, _ := strings.Cut(strings.TrimSpace(line[len("/attr "):]), "=")
			if v == "" {
				delete(attrs, k)
			} else {
				attrs[k] = v
			}
			sendAttrs = true
			fmt.Fprintf(stdout, "  (session attributes for the next turn: %v)\n", attrs)
			continue
		case strings.HasPrefix(line, "/"):
			fmt.Fprintln(stdout, "  unknown command; /help lists them")
			continue
		}
		req := map[string]any{"inputText": line}
		if sendAttrs {
			req["sessionAttributes"] = attrs
		}
		body, _ := json.Marshal(req)
		b, err := cl.call(http.MethodPost, "/text", body)
		if err != nil {
			fmt.Fprintln(stdout, "error:", err)
			continue
		}
		if *verbose {
			fmt.Fprintln(stdout, " ", string(b))
		}
		var out postTextAnswer
		if err := json.Unmarshal(b, &out); err != nil {
			fmt.Fprintln(stdout, "error: unreadable answer:", err)
			continue
		}
		if out.SessionAttributes != nil {
			attrs = out.SessionAttributes
		}
		printAnswer(stdout, &out)
	}
}

type postTextAnswer struct {
	IntentName        string             `json:"intentName"`
	Slots             map[string]*string `json:"slots"`
	SessionAttributes map[string]string  `json:"sessionAttributes"`
	Message           *string            `json:"message"`
	MessageFormat     string             `json:"messageFormat"`
	DialogState       string             `json:"dialogState"`
	SlotToElicit      string             `json:"slotToElicit"`
	ResponseCard      *struct {
		GenericAttachments []struct {
			Title   string `json:"title"`
			Buttons []struct {
				Text  string `json:"text"`
				Value string `json:"value"`
			} `json:"buttons"`
		} `json:"genericAttachments"`
	} `json:"responseCard"`
}

func printAnswer(w io.Writer, a *postTextAnswer) {
	switch {
	case a.Message == nil:
		fmt.Fprintln(w, "bot> (no message)")
	case a.MessageFormat == "Composite":
		var doc struct {
			Messages []struct{ Value string } `json:"messages"`
		}
		if json.Unmarshal([]byte(*a.Message), &doc) == nil {
			for i, m := range doc.Messages {
				prefix := "bot> "
				if i > 0 {
					prefix = "     "
				}
				fmt.Fprintln(w, prefix+m.Value)
			}
			break
		}
		fmt.Fprintln(w, "bot> "+*a.Message)
	default:
		fmt.Fprintln(w, "bot> "+*a.Message)
	}
	if a.ResponseCard != nil {
		for _, g := range a.ResponseCard.GenericAttachments {
			var bs []string
			for _, b := range g.Buttons {
				bs = append(bs, "["+b.Text+"]")
			}
			fmt.Fprintf(w, "     %s %s\n", g.Title, strings.Join(bs, " "))
		}
	}
	state := a.DialogState
	if a.SlotToElicit != "" {
		state += " " + a.SlotToElicit
	}
	if a.IntentName != "" {
		keys := make([]string, 0, len(a.Slots))
		for k := range a.Slots {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			v := "-"
			if a.Slots[k] != nil {
				v = *a.Slots[k]
			}
			parts = append(parts, k+": "+v)
		}
		state += " · " + a.IntentName
		if len(parts) > 0 {
			state += " {" + strings.Join(parts, ", ") + "}"
		}
	}
	fmt.Fprintf(w, "     [%s]\n", state)
}

type chatClient struct {
	endpoint, region string
	creds            aws.Credentials
	bot, alias, user string
	http             *http.Client
}

// call sends a signed runtime request for the conversation (suffix after
// /bot/B/alias/A/user/U) and returns the body of a 2xx answer.
func (c *chatClient) call(method, suffix string, body []byte) ([]byte, error) {
	path := "/bot/" + url.PathEscape(c.bot) + "/alias/" + url.PathEscape(c.alias) + "/user/" + url.PathEscape(c.user) + suffix
	req, err := http.NewRequest(method, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), c.creds, req, hex.EncodeToString(sum[:]), "lex", c.region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Message  string `json:"message"`
			Message2 string `json:"Message"`
		}
		json.Unmarshal(b, &e)
		if e.Message == "" {
			e.Message = e.Message2
		}
		return nil, fmt.Errorf("%s (HTTP %d): %s", resp.Header.Get("X-Amzn-ErrorType"), resp.StatusCode, e.Message)
	}
	return b, nil
}

// localRootCredentials reads the default account's root key from the data
// dir or database (as "lextrail admin credentials" does).
func localRootCredentials(c common) (aws.Credentials, error) {
	cfg := c.config()
	if _, err := os.Stat(cfg.DataDir); err != nil && cfg.DatabaseURL == "" {
		return aws.Credentials{}, err
	}
	ctx := context.Background()
	db, sealer, err := server.OpenState(ctx, cfg)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer db.Close()
	acct := cfg.Bootstrap.AccountID
	if acct == "" {
		acct = accounts.DefaultAccountID
	}
	creds, err := accounts.New(db, sealer, accounts.Config{}).RootCredentials(ctx, acct)
	if err != nil {
		return aws.Credentials{}, err
	}
	if len(creds) == 0 {
		return aws.Credentials{}, errors.New("the default account has no active root key")
	}
	return aws.Credentials{AccessKeyID: creds[0].AccessKeyID, SecretAccessKey: creds[0].SecretAccessKey}, nil
}

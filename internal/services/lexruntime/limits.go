package lexruntime

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"unicode/utf8"

	"lextrail/internal/awserr"
	"lextrail/internal/dialog"
)

// Limits of the runtime API (spec §5.6).
const (
	MaxInputText = 1024      // characters of inputText
	MaxAttrBytes = 12 << 10  // session + request attributes together
	MaxHeaders   = 16 << 10  // every PostContent header together
	MaxAudio     = 8 << 20   // bytes of PostContent audio read
	latest       = "$LATEST" // the test alias
)

var reUserID = regexp.MustCompile(`^[0-9a-zA-Z._:-]+$`)

func badRequest(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "BadRequestException", format, args...)
}

func notFound(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusNotFound, "NotFoundException", format, args...)
}

// isNotFound reports a 404 (a bot or alias that does not exist).
func isNotFound(err error) bool {
	var e *awserr.Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

func conflict() *awserr.Error {
	return awserr.New(http.StatusConflict, "ConflictException",
		"Two clients are using the same AWS account, Amazon Lex bot, and user ID at the same time. Wait for the other request to finish and try again.")
}

// checkKey validates the URI members every operation has.
func checkKey(bot, alias, user string) error {
	if bot == "" || alias == "" {
		return badRequest("botName and botAlias are required.")
	}
	if n := utf8.RuneCountInString(user); n < 2 || n > 100 || !reUserID.MatchString(user) {
		return badRequest("1 validation error detected: Value '%s' at 'userId' failed to satisfy constraint: Member must have length between 2 and 100 and satisfy regular expression pattern: [0-9a-zA-Z._:-]+", clipText(user))
	}
	return nil
}

// checkText validates inputText (1–1024 characters of valid UTF-8).
func checkText(text string) error {
	if !utf8.ValidString(text) {
		return badRequest("inputText is not valid UTF-8.")
	}
	if n := utf8.RuneCountInString(text); n < 1 || n > MaxInputText {
		return badRequest("1 validation error detected: Value at 'inputText' failed to satisfy constraint: Member must have length between 1 and %d (it has %d characters).", MaxInputText, n)
	}
	return nil
}

// checkAttrs bounds session and request attributes together and keeps
// clients out of the x-amz-lex: namespace except for its predefined keys.
func checkAttrs(session, request map[string]string) error {
	n := 0
	for k, v := range session {
		n += len(k) + len(v)
	}
	for k, v := range request {
		n += len(k) + len(v)
	}
	if n > MaxAttrBytes {
		return badRequest("The session and request attributes are %d bytes together; the limit is %d.", n, MaxAttrBytes)
	}
	for k := range request {
		if len(k) > 9 && k[:9] == "x-amz-lex" && k != "x-amz-lex:time-zone" && k != "x-amz-lex:accept-content-types" && !isReservedOK(k) {
			return badRequest("The request attribute %s uses the reserved prefix x-amz-lex:.", clipText(k))
		}
	}
	return nil
}

// isReservedOK lists other predefined request attributes clients may send
// (they are accepted and ignored).
func isReservedOK(k string) bool {
	switch k {
	case "x-amz-lex:channels:platform", "x-amz-lex:user-id":
		return true
	}
	return false
}

func checkContexts(acs []dialog.ActiveContext) error {
	if err := dialog.CheckContexts(acs); err != nil {
		return err
	}
	return nil
}

func clipText(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// limiter counts in-flight requests per (account, region, bot, alias,
// API class) on this node.
type limiter struct {
	latest, alias int
	mu            sync.Mutex
	n             map[string]int
}

func newLimiter(latest, alias int) *limiter {
	return &limiter{latest: latest, alias: alias, n: map[string]int{}}
}

// acquire takes a slot or answers 429 LimitExceededException with
// Retry-After.
func (l *limiter) acquire(acct, region, bot, alias, class string) (release func(), err error) {
	max := l.alias
	if alias == latest {
		max = l.latest
	}
	if max < 0 {
		return func() {}, nil
	}
	k := acct + "\x00" + region + "\x00" + bot + "\x00" + alias + "\x00" + class
	l.mu.Lock()
	if l.n[k] >= max {
		l.mu.Unlock()
		e := awserr.New(http.StatusTooManyRequests, "LimitExceededException",
			"The bot %s alias %s already has %d concurrent %s requests, the limit.", bot, alias, max, class)
		e.Header = http.Header{"Retry-After": []string{strconv.Itoa(1)}}
		return nil, e
	}
	l.n[k]++
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		if l.n[k]--; l.n[k] <= 0 {
			delete(l.n, k)
		}
		l.mu.Unlock()
	}, nil
}

// sessionLocks is the set of sessions with a request in flight on this
// node: a second request for one of them is a 409 at once, without
// waiting (the database CAS catches overlaps across nodes).
type sessionLocks struct {
	shards [64]struct {
		sync.Mutex
		busy map[string]bool
	}
}

func newSessionLocks() *sessionLocks {
	l := &sessionLocks{}
	for i := range l.shards {
		l.shards[i].busy = map[string]bool{}
	}
	return l
}

func (l *sessionLocks) tryLock(k string) (unlock func(), ok bool) {
	h := uint32(2166136261)
	for i := 0; i < len(k); i++ {
		h = (h ^ uint32(k[i])) * 16777619
	}
	sh := &l.shards[h%uint32(len(l.shards))]
	sh.Lock()
	defer sh.Unlock()
	if sh.busy[k] {
		return nil, false
	}
	sh.busy[k] = true
	return func() {
		sh.Lock()
		delete(sh.busy, k)
		sh.Unlock()
	}, true
}

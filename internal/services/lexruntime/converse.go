package lexruntime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/dialog"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
)

// conv is one request's view of a conversation.
type conv struct {
	k   sessionKey
	now time.Time
	// row is the session row as read (Turn -1: none).
	row *session
	// cont is true when the request continues the stored session.
	cont bool
	rb   *lexmodels.RuntimeBot
	bot  *dialog.Bot
	// modelID is the model the bot was loaded from.
	modelID string
	state   *dialog.State
	// fromCache: row and rb come from the session cache (unverified
	// until the commit).
	fromCache bool
}

func keyOf(c *catalog.Call, in names) sessionKey {
	bot, alias, user := in.key()
	return sessionKey{c.AccountID(), c.Region, bot, alias, user}
}

// guard takes the concurrency slot and the session's in-process lock.
func (s *Service) guard(k sessionKey, class string) (func(), error) {
	release, err := s.limits.acquire(k.acct, k.region, k.bot, k.alias, class)
	if err != nil {
		return nil, err
	}
	unlock, ok := s.locks.tryLock(k.String())
	if !ok {
		release()
		return nil, conflict()
	}
	return func() { unlock(); release() }, nil
}

// read loads the session row and resolves the bot version the request
// talks to: the session's while it lives (and its model is unchanged —
// a $LATEST rebuild ends $LATEST sessions), else the alias's.
func (s *Service) read(ctx context.Context, k sessionKey, now time.Time) (*conv, error) {
	cv := &conv{k: k, now: now}
	err := s.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		if cv.row, err = s.st.loadSession(ctx, tx, k); err != nil {
			return err
		}
		version := ""
		if cv.row.live(now) {
			version = cv.row.BotVersion
		}
		if cv.rb, err = s.st.models.Resolve(ctx, tx, k.acct, k.region, k.bot, k.alias, version); err != nil {
			return err
		}
		if version != "" {
			if cv.rb.Status != "" && cv.rb.ModelID == cv.row.ModelID {
				cv.cont = true
				return nil
			}
			if version != cv.rb.AliasVersion {
				cv.rb, err = s.st.models.Resolve(ctx, tx, k.acct, k.region, k.bot, k.alias, "")
			}
		}
		return err
	})
	return cv, err
}

// load makes the bot version ready to talk: built, and loaded.
func (s *Service) load(ctx context.Context, cv *conv) error {
	rb := cv.rb
	switch {
	case rb.Status == "":
		return notFound("The bot %s has no version %s.", cv.k.bot, rb.Version)
	case rb.Status == "BUILDING" || (rb.Status == "READY" || rb.Status == "READY_BASIC_TESTING") && rb.ModelID == "":
		return awserr.New(http.StatusBadGateway, "BadGatewayException", "The bot %s version %s is still building. Try again when its status is READY.", cv.k.bot, rb.Version)
	case rb.Status == "FAILED":
		return badRequest("Invalid Bot Configuration: the bot %s version %s failed to build: %s", cv.k.bot, rb.Version, rb.FailureReason)
	case !rb.Ready():
		return badRequest("Invalid Bot Configuration: the bot %s version %s has status %s; build it before talking to it.", cv.k.bot, rb.Version, rb.Status)
	}
	b, id, err := s.models.get(ctx, s.cfg.DB, modelKey{cv.k.acct, cv.k.region, cv.k.bot, rb.Version}, rb.ModelID)
	if errors.Is(err, errModelGone) {
		return awserr.New(http.StatusBadGateway, "BadGatewayException", "The bot %s version %s is being rebuilt. Try again.", cv.k.bot, rb.Version)
	}
	if err != nil {
		return err
	}
	cv.bot, cv.modelID = b, id
	if cv.cont && id != cv.row.ModelID {
		cv.cont = false // rebuilt between the read and the load
	}
	if cv.cont {
		cv.state = cv.row.State // the row is this request's own copy
	} else {
		cv.state = dialog.NewState(newSessionID(cv.now))
	}
	return nil
}

// turnSpec describes one state-changing request.
type turnSpec struct {
	op    string // PostText, PostContent, PutSession
	class string // limiter class
	// run advances the conversation.
	run func(cv *conv) (*dialog.Response, error)
	// record: a user turn (utterance statistics, turn observer).
	record       bool
	text         string
	mode         string // Text | Speech
	audio        []byte
	audioType    string
	requestAttrs map[string]string
}

// converse runs one turn: guard, read, load, run the engine, commit with
// the session CAS (and the utterance statistics), observe. A continuing
// session this process served last is taken from the session cache
// instead of read; if the commit finds it stale (another process served
// the conversation, or the bot version changed), the turn is run again
// from a fresh read.
func (s *Service) converse(ctx context.Context, c *catalog.Call, k sessionKey, ts *turnSpec) (*conv, *dialog.Response, error) {
	done, err := s.guard(k, ts.class)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	start := time.Now()
	defer func() { s.times.turn.add(time.Since(start)) }()
	now := s.cfg.Now()
	cv, err := s.cached(ctx, k, now)
	if err != nil {
		return nil, nil, err
	}
	if cv != nil {
		cv2, resp, err := s.turn(ctx, c, cv, ts)
		if !errors.Is(err, errStale) {
			return cv2, resp, err
		}
		s.stale.Add(1)
	}
	cv, err = s.read(ctx, k, now)
	if err != nil {
		s.sessions.drop(k)
		return nil, nil, err
	}
	if err := s.load(ctx, cv); err != nil {
		s.sessions.drop(k)
		return nil, nil, err
	}
	return s.turn(ctx, c, cv, ts)
}

// cached is the conversation from the session cache, loaded, or nil when
// the cache cannot serve it (no entry, the session expired, its model is
// not the one loaded, the bot has code hooks).
func (s *Service) cached(ctx context.Context, k sessionKey, now time.Time) (*conv, error) {
	row, rb, ok := s.sessions.get(k)
	if !ok || !row.live(now) || rb.Version != row.BotVersion || rb.ModelID != row.ModelID || !rb.Ready() {
		return nil, nil
	}
	b, id, err := s.models.get(ctx, s.cfg.DB, modelKey{k.acct, k.region, k.bot, rb.Version}, rb.ModelID)
	if err != nil || id != row.ModelID || b.HasCodeHooks() {
		return nil, nil // the slow path says what is wrong
	}
	return &conv{k: k, now: now, row: row, cont: true, rb: rb, bot: b, modelID: id, state: row.State, fromCache: true}, nil
}

// turn runs the engine on a loaded conversation and commits it; on
// success the written session is cached, on failure dropped.
func (s *Service) turn(ctx context.Context, c *catalog.Call, cv *conv, ts *turnSpec) (*conv, *dialog.Response, error) {
	k, now := cv.k, cv.now
	t0 := time.Now()
	resp, err := ts.run(cv)
	s.times.engine.add(time.Since(t0))
	if err != nil {
		// The state the engine half-changed was this request's own
		// (a copy, when cached): the cache still holds the row.
		return nil, nil, err
	}
	sess := &session{ID: cv.state.SessionID, BotVersion: cv.rb.Version, ModelID: cv.modelID, State: cv.state, Started: now,
		Expires: now.Add(time.Duration(cv.bot.IdleSessionTTLInSeconds) * time.Second), Logs: cv.rb.ConversationLogs}
	if cv.cont {
		sess.Started, sess.Logs = cv.row.Started, cv.row.Logs
	}
	if sess.doc, err = encodeStored(sess); err != nil {
		return nil, nil, err
	}
	w := &turnWrite{k: k, sess: sess, prev: cv.row, cont: cv.cont, now: now}
	if cv.fromCache {
		w.cached = cv.rb
	}
	var utter *utteranceRecord
	if ts.record && !cv.bot.ChildDirected && !resp.Sensitive && ts.text != "" {
		utter = &utteranceRecord{version: cv.rb.Version, text: ts.text, missed: resp.Missed}
		if s.cfg.Utterances == nil {
			w.utter = utter
		}
	}
	var turn *Turn
	if ts.record && (s.cfg.Observer != nil || s.cfg.Recorder != nil && len(sess.Logs) > 0) {
		turn = s.turnRecord(c, cv, sess, resp, ts, now)
		if s.cfg.Recorder != nil {
			w.rec = s.cfg.Recorder.PrepareTurn(turn)
		}
	}
	if err := s.commits.commit(ctx, w); err != nil {
		s.sessions.drop(k)
		return nil, nil, err
	}
	if utter != nil && s.cfg.Utterances != nil {
		s.cfg.Utterances.Add(k.acct, k.region, k.bot, utter.version, k.user, utter.text, utter.missed, now)
	}
	rb := *cv.rb
	rb.Version, rb.ModelID = sess.BotVersion, sess.ModelID
	sess.doc = "" // written; the cache need not keep it
	s.sessions.put(k, sess, &rb)
	if turn != nil && s.cfg.Observer != nil {
		s.cfg.Observer.ObserveTurn(turn)
	}
	return cv, resp, nil
}

// turnRecord is the observer's view of a committed turn.
func (s *Service) turnRecord(c *catalog.Call, cv *conv, sess *session, r *dialog.Response, ts *turnSpec, now time.Time) *Turn {
	t := &Turn{
		RequestID: c.RequestID, Timestamp: now, Operation: ts.op, AccountID: cv.k.acct, Region: cv.k.region,
		BotName: cv.k.bot, BotAlias: cv.k.alias, BotVersion: cv.rb.Version, Locale: cv.bot.Locale, UserID: cv.k.user,
		SessionID: sess.ID, SessionStarted: sess.Started, ConversationLogs: sess.Logs, ChildDirected: cv.bot.ChildDirected,
		InputDialogMode: ts.mode, InputTranscript: ts.text, LogTranscript: r.LogTranscript, Audio: ts.audio, AudioContentType: ts.audioType,
		Intent: r.IntentName, AlternativeIntents: r.AlternativeIntents, LogAlternativeIntents: r.LogAlternativeIntents, Slots: r.Slots, LogSlots: r.LogSlots,
		SlotToElicit: r.SlotToElicit, DialogState: r.DialogState, MissedUtterance: r.Missed, DeveloperOverride: r.DeveloperOverride,
		BotResponse: r.Message, MessageFormat: r.MessageFormat, ResponseCard: r.ResponseCard, SentimentResponse: r.SentimentResponse,
		SessionAttributes: r.SessionAttributes, RequestAttributes: ts.requestAttrs, ActiveContexts: r.ActiveContexts,
	}
	if r.NluIntentConfidence != nil {
		t.NluIntentConfidence = new(r.NluIntentConfidence.Score)
	}
	if r.Missed {
		t.Intent = ""
	}
	return t
}

// input is the engine input every text turn shares.
func (s *Service) input(c *catalog.Call, k sessionKey, text string, session, request map[string]string, contexts []dialog.ActiveContext, mode string, now time.Time) dialog.Input {
	return dialog.Input{Text: text, Now: now, UserID: k.user, Alias: k.alias, SessionAttributes: session, RequestAttributes: request,
		ActiveContexts: contexts, OutputDialogMode: mode, TimeZone: s.cfg.TimeZone(c.Region)}
}

// ---- PostText ----

func (s *Service) postText(ctx context.Context, c *catalog.Call, in *PostTextInput) (*PostTextOutput, error) {
	k := keyOf(c, in)
	if err := checkKey(k.bot, k.alias, k.user); err != nil {
		return nil, err
	}
	if in.InputText == nil {
		return nil, badRequest("1 validation error detected: Value null at 'inputText' failed to satisfy constraint: Member must not be null")
	}
	if err := checkText(*in.InputText); err != nil {
		return nil, err
	}
	if err := checkAttrs(in.SessionAttributes, in.RequestAttributes); err != nil {
		return nil, err
	}
	if err := checkContexts(in.ActiveContexts); err != nil {
		return nil, err
	}
	text := *in.InputText
	cv, r, err := s.converse(ctx, c, k, &turnSpec{op: "PostText", class: "PostText", record: true, text: text, mode: "Text", requestAttrs: in.RequestAttributes,
		run: func(cv *conv) (*dialog.Response, error) {
			return s.engine.Turn(ctx, cv.bot, cv.state, s.input(c, k, text, in.SessionAttributes, in.RequestAttributes, in.ActiveContexts, "Text", cv.now))
		}})
	if err != nil {
		return nil, err
	}
	out := &PostTextOutput{
		IntentName: r.IntentName, NluIntentConfidence: r.NluIntentConfidence, AlternativeIntents: r.AlternativeIntents,
		SessionAttributes: r.SessionAttributes, Message: r.Message, SentimentResponse: r.SentimentResponse,
		MessageFormat: r.MessageFormat, DialogState: r.DialogState, SlotToElicit: r.SlotToElicit, ResponseCard: r.ResponseCard,
		SessionID: cv.state.SessionID, BotVersion: cv.rb.Version, ActiveContexts: r.ActiveContexts,
	}
	if r.Slots != nil {
		out.Slots = &r.Slots
	}
	return out, nil
}

// ---- GetSession / DeleteSession ----

func (s *Service) getSession(ctx context.Context, c *catalog.Call, in *GetSessionInput) (*GetSessionOutput, error) {
	k := keyOf(c, in)
	if err := checkKey(k.bot, k.alias, k.user); err != nil {
		return nil, err
	}
	if f := in.CheckpointLabelFilter; f != "" && !validCheckpoint(f) {
		return nil, badRequest("1 validation error detected: Value '%s' at 'checkpointLabelFilter' failed to satisfy constraint: Member must have length between 1 and 255 and satisfy regular expression pattern: [a-zA-Z0-9-]+", clipText(f))
	}
	release, err := s.limits.acquire(k.acct, k.region, k.bot, k.alias, "session")
	if err != nil {
		return nil, err
	}
	defer release()
	now := s.cfg.Now()
	cv, err := s.read(ctx, k, now)
	if err != nil {
		return nil, err
	}
	if !cv.cont {
		return nil, noSession(k)
	}
	v := cv.row.State.View(in.CheckpointLabelFilter, now)
	return &GetSessionOutput{RecentIntentSummaryView: v.RecentIntentSummaryView, SessionAttributes: v.SessionAttributes,
		SessionID: v.SessionID, DialogAction: v.DialogAction, ActiveContexts: v.ActiveContexts}, nil
}

func noSession(k sessionKey) *awserr.Error {
	return notFound("No session found for user %s with bot %s alias %s.", k.user, k.bot, k.alias)
}

func validCheckpoint(s string) bool {
	if len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func (s *Service) deleteSession(ctx context.Context, c *catalog.Call, in *DeleteSessionInput) (*DeleteSessionOutput, error) {
	k := keyOf(c, in)
	if err := checkKey(k.bot, k.alias, k.user); err != nil {
		return nil, err
	}
	done, err := s.guard(k, "session")
	if err != nil {
		return nil, err
	}
	defer done()
	now := s.cfg.Now()
	s.sessions.drop(k)
	cv, err := s.read(ctx, k, now)
	if err != nil {
		return nil, err
	}
	if !cv.cont {
		return nil, noSession(k)
	}
	err = s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		ok, err := s.st.deleteSessionRow(ctx, tx, k, cv.row)
		if err == nil && !ok {
			return conflict()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &DeleteSessionOutput{BotName: k.bot, BotAlias: k.alias, UserID: k.user, SessionID: cv.row.ID}, nil
}

// ---- PutSession ----

func (s *Service) putSession(ctx context.Context, c *catalog.Call, in *PutSessionInput) (*PutSessionOutput, error) {
	k := keyOf(c, in)
	if err := checkKey(k.bot, k.alias, k.user); err != nil {
		return nil, err
	}
	if err := checkAttrs(in.SessionAttributes, nil); err != nil {
		return nil, err
	}
	if err := checkContexts(in.ActiveContexts); err != nil {
		return nil, err
	}
	accept, err := s.accept(in.Accept)
	if err != nil {
		return nil, err
	}
	cv, r, err := s.converse(ctx, c, k, &turnSpec{op: "PutSession", class: "session",
		run: func(cv *conv) (*dialog.Response, error) {
			return s.engine.Put(ctx, cv.bot, cv.state, dialog.PutInput{Now: cv.now, UserID: k.user, Alias: k.alias,
				SessionAttributes: in.SessionAttributes, DialogAction: in.DialogAction, RecentIntentSummaryView: in.RecentIntentSummaryView,
				ActiveContexts: in.ActiveContexts, OutputDialogMode: accept.mode(), TimeZone: s.cfg.TimeZone(c.Region)})
		}})
	if err != nil {
		return nil, err
	}
	out := &PutSessionOutput{ContentType: accept.contentType, IntentName: r.IntentName, Slots: r.Slots, SessionAttributes: r.SessionAttributes,
		MessageFormat: r.MessageFormat, DialogState: r.DialogState, SlotToElicit: r.SlotToElicit, SessionID: cv.state.SessionID,
		ActiveContexts: nonEmpty(r.ActiveContexts)}
	if r.Message != nil {
		out.Message, out.EncodedMessage = headerText(*r.Message)
	}
	if out.AudioStream, out.ContentType, err = s.speak(ctx, cv, r, accept); err != nil {
		return nil, err
	}
	return out, nil
}

func nonEmpty(acs []dialog.ActiveContext) []dialog.ActiveContext {
	if len(acs) == 0 {
		return nil
	}
	return acs
}

// sentimentHeader is x-amz-lex-sentiment: base64 of the JSON object (the
// format is undocumented; SDKs return the header untouched, spec §9.5).
func sentimentHeader(sr *dialog.Sentiment) string {
	if sr == nil {
		return ""
	}
	b, _ := json.Marshal(sr)
	return b64(string(b))
}

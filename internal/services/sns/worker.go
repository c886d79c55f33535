package sns

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/store"
)

// Worker delivers: it sends SubscriptionConfirmations and posts each
// confirmed subscription's messages in order of publication. Work is found
// in the database (subscriptions with confirm_due, or a cursor behind the
// topic's last message, whose next attempt is due) and claimed with a
// lease, so several lextrail processes sharing the database never deliver
// for the same subscription at once; a process that dies has its
// subscriptions taken over when the lease runs out. Up to
// Config.Concurrency subscriptions are delivered for at once, each on its
// own: a slow or dead endpoint holds one slot and its own queue only.
//
// A message counts as delivered once the endpoint answered 2xx and the
// cursor moved past it (one conditional UPDATE, which only the lease
// holder can make). Transport errors, timeouts and 5xx, 408 and 429
// answers are retried on the topic's retry policy; other answers (3xx,
// other 4xx) are permanent failures. When a message's retries are
// exhausted, or its failure is permanent, it is dropped for that
// subscription (as SNS discards it) and the next one is delivered. Since
// delivery is in order, a message may wait behind a failing one: its own
// retries end the policy's total retry time (plus one maximum delay) after
// its publication, so it is tried at least once but a dead endpoint's
// backlog does not grow without bound. A
// process that dies between the endpoint's 2xx and the cursor update
// delivers that message again after the lease runs out (SNS delivers at
// least once too; the MessageId tells duplicates apart).
type Worker struct {
	s  *Service
	id string

	mu    sync.Mutex
	busy  map[string]bool
	freed chan struct{}
}

// Worker returns a delivery worker (register one per process with
// server.AddWorker).
func (s *Service) Worker() *Worker {
	return &Worker{s: s, id: "sns-" + uuid.NewString(), busy: map[string]bool{}, freed: make(chan struct{}, 1)}
}

const (
	// batch is how many messages one claim delivers before the lease is
	// released (so that one busy subscription cannot hold a slot forever).
	batch = 100
	// purgeEvery is how often delivered messages and expired pending
	// subscriptions are deleted.
	purgeEvery = 10 * time.Second
)

// Run delivers until ctx is cancelled, then waits for deliveries in
// flight to end.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.s.cfg.PollInterval)
	defer t.Stop()
	sem := make(chan struct{}, w.s.cfg.Concurrency)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		// Give back what this process still holds, so that another one
		// (or this one restarted) need not wait for the leases to run out.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err := w.s.db.Write(rctx, func(tx *store.Tx) error {
			_, err := tx.Exec(rctx, `UPDATE sns_subscriptions SET lease_owner = '' WHERE lease_owner = $1`, w.id)
			return err
		})
		if err != nil {
			w.s.log.Warn("sns: releasing delivery leases", "err", err)
		}
	}()
	var lastPurge time.Time
	for {
		if err := w.dispatch(ctx, sem, &wg); err != nil && ctx.Err() == nil {
			w.s.log.Error("sns delivery worker", "err", err)
		}
		if time.Since(lastPurge) >= purgeEvery {
			if err := w.Purge(ctx); err != nil && ctx.Err() == nil {
				w.s.log.Error("sns purge", "err", err)
			}
			lastPurge = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.s.wakeCh:
		case <-w.freed:
		}
	}
}

// dispatch claims due subscriptions for the free slots and delivers for
// each in its own goroutine.
func (w *Worker) dispatch(ctx context.Context, sem chan struct{}, wg *sync.WaitGroup) error {
	free := cap(sem) - len(sem)
	if free == 0 {
		return nil
	}
	w.mu.Lock()
	nbusy := len(w.busy)
	w.mu.Unlock()
	due, err := w.due(ctx, free+nbusy)
	if err != nil {
		return err
	}
	for _, arn := range due {
		if len(sem) == cap(sem) {
			break
		}
		w.mu.Lock()
		isBusy := w.busy[arn]
		w.mu.Unlock()
		if isBusy {
			continue
		}
		ok, err := w.claim(ctx, arn)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		w.mu.Lock()
		w.busy[arn] = true
		w.mu.Unlock()
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.process(ctx, arn); err != nil && ctx.Err() == nil {
				w.s.log.Error("sns delivery", "subscription", arn, "err", err)
			}
			w.mu.Lock()
			delete(w.busy, arn)
			w.mu.Unlock()
			<-sem
			select {
			case w.freed <- struct{}{}:
			default:
			}
		}()
	}
	return nil
}

// RunOnce delivers everything that is due now, one subscription after
// another, and returns when nothing due is left (for tests and tools).
func (w *Worker) RunOnce(ctx context.Context) error {
	for {
		due, err := w.due(ctx, 100)
		if err != nil {
			return err
		}
		ran := 0
		for _, arn := range due {
			ok, err := w.claim(ctx, arn)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			ran++
			if err := w.process(ctx, arn); err != nil {
				return err
			}
		}
		if ran == 0 {
			return nil
		}
	}
}

// due lists subscriptions with work due now whose lease is free.
func (w *Worker) due(ctx context.Context, limit int) ([]string, error) {
	now := store.Millis(w.s.cfg.Now())
	var arns []string
	err := w.s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT s.arn FROM sns_subscriptions s JOIN sns_topics t ON t.arn = s.topic_arn
			WHERE s.next_attempt_ms <= $1 AND (s.lease_owner = '' OR s.lease_until_ms < $1)
				AND ((s.status = $2 AND s.cursor_seq < t.msg_seq) OR (s.status = $3 AND s.confirm_due = $4))
			ORDER BY s.next_attempt_ms LIMIT `+strconv.Itoa(limit), now, statusConfirmed, statusPending, true)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				return err
			}
			arns = append(arns, a)
		}
		return rows.Err()
	})
	return arns, err
}

// claim takes the lease on a subscription: one conditional UPDATE, so of
// several processes exactly one wins.
func (w *Worker) claim(ctx context.Context, arn string) (bool, error) {
	now := store.Millis(w.s.cfg.Now())
	var n int64
	err := w.s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sns_subscriptions SET lease_owner = $1, lease_until_ms = $2
			WHERE arn = $3 AND next_attempt_ms <= $4 AND (lease_owner = '' OR lease_until_ms < $4)`,
			w.id, now+w.s.cfg.Lease.Milliseconds(), arn, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

// leased runs a conditional update of the subscription as the lease
// holder; it reports false when the lease was lost (or the subscription
// deleted).
func (w *Worker) leased(ctx context.Context, arn, set string, args ...any) (bool, error) {
	return w.leasedIf(ctx, arn, set, "", args...)
}

// leasedIf is leased with a further condition (SQL ANDed to the WHERE).
func (w *Worker) leasedIf(ctx context.Context, arn, set, cond string, args ...any) (bool, error) {
	args = append(args, arn, w.id)
	n := len(args)
	var affected int64
	err := w.s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sns_subscriptions SET `+set+` WHERE arn = $`+strconv.Itoa(n-1)+` AND lease_owner = $`+strconv.Itoa(n)+cond, args...)
		if err != nil {
			return err
		}
		affected, err = res.RowsAffected()
		return err
	})
	return affected == 1, err
}

// storedMessage is a row of sns_messages.
type storedMessage struct {
	Seq         int64
	ID          string
	PublishedMS int64
	Subject     *string
	Message     string
	Structure   string
	Attrs       map[string]storedAttr
}

// delivery is one subscription's delivery state while the lease is held.
type delivery struct {
	w          *Worker
	sub        *subscription
	topic      *topic
	eff        effective
	leaseUntil time.Time
}

// process delivers for a claimed subscription and releases the lease.
func (w *Worker) process(ctx context.Context, arn string) error {
	d := &delivery{w: w, leaseUntil: w.s.cfg.Now().Add(w.s.cfg.Lease)}
	err := w.s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if d.sub, err = loadSubscription(ctx, tx, arn); err != nil {
			return err
		}
		d.topic, err = loadTopic(ctx, tx, d.sub.TopicARN)
		return err
	})
	if err != nil {
		if isNotFound(err) {
			return nil // unsubscribed or topic deleted meanwhile
		}
		return err
	}
	if d.eff, err = parseDeliveryPolicy(d.topic.Attrs.DeliveryPolicy); err != nil {
		d.eff, _ = parseDeliveryPolicy("")
	}
	if d.sub.Status == statusPending {
		err = d.confirmation(ctx)
	} else {
		err = d.messages(ctx)
	}
	if ctx.Err() != nil {
		// Shutting down: give the subscription back without counting the
		// interrupted attempt.
		_, _ = w.leased(context.WithoutCancel(ctx), arn, `lease_owner = ''`)
	}
	return err
}

func isNotFound(err error) bool {
	var ae *awserr.Error
	return errors.As(err, &ae) && ae.Code == "NotFound"
}

// renew extends the lease when the next attempt might outlive it.
func (d *delivery) renew(ctx context.Context) (bool, error) {
	cfg := d.w.s.cfg
	now := cfg.Now()
	if now.Add(cfg.DeliveryTimeout + 5*time.Second).Before(d.leaseUntil) {
		return true, nil
	}
	until := now.Add(cfg.Lease)
	ok, err := d.w.leased(ctx, d.sub.ARN, `lease_until_ms = $1`, store.Millis(until))
	if ok {
		d.leaseUntil = until
	}
	return ok, err
}

// messages delivers the subscription's messages after its cursor.
func (d *delivery) messages(ctx context.Context) error {
	s := d.w.s
	sent := 0
	for sent < batch {
		var topicSeq int64
		var msgs []storedMessage
		err := s.db.Read(ctx, func(tx *store.Tx) error {
			// The topic's last number first: every message up to it has
			// committed, so what the next query misses below it is a gap.
			// It is read with the topic's attributes, so that a changed
			// SignatureVersion or DeliveryPolicy applies from this batch on.
			t, err := loadTopic(ctx, tx, d.topic.ARN)
			if err != nil {
				return err
			}
			d.topic, topicSeq = t, t.MsgSeq
			msgs, err = loadMessages(ctx, tx, d.topic.ARN, d.sub.CursorSeq, 20)
			return err
		})
		if isNotFound(err) {
			return nil // topic deleted
		}
		if err != nil {
			return err
		}
		if eff, err := parseDeliveryPolicy(d.topic.Attrs.DeliveryPolicy); err == nil {
			d.eff = eff
		}
		if len(msgs) == 0 {
			// Messages published while no subscription was confirmed are
			// not kept: skip the gap.
			set := `lease_owner = ''`
			args := []any{}
			if d.sub.CursorSeq < topicSeq {
				set, args = `lease_owner = '', cursor_seq = $1`, []any{topicSeq}
			}
			_, err := d.w.leased(ctx, d.sub.ARN, set, args...)
			return err
		}
		for _, m := range msgs {
			if ok, err := d.renew(ctx); !ok || err != nil {
				return err
			}
			res := d.post(ctx, d.notification(ctx, &m))
			if ctx.Err() != nil {
				return nil
			}
			done, err := d.after(ctx, res, &m)
			if done || err != nil {
				return err
			}
			sent++
		}
	}
	// More may be waiting: release and let the dispatcher come back.
	_, err := d.w.leased(ctx, d.sub.ARN, `lease_owner = ''`)
	s.Wake()
	return err
}

func loadMessages(ctx context.Context, tx *store.Tx, topicARN string, after int64, limit int) ([]storedMessage, error) {
	rows, err := tx.Query(ctx, `SELECT seq, message_id, published_ms, subject, message, structure, attributes FROM sns_messages
		WHERE topic_arn = $1 AND seq > $2 ORDER BY seq LIMIT `+strconv.Itoa(limit), topicARN, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedMessage
	for rows.Next() {
		var m storedMessage
		var subject sql.NullString
		var attrs string
		if err := rows.Scan(&m.Seq, &m.ID, &m.PublishedMS, &subject, &m.Message, &m.Structure, &attrs); err != nil {
			return nil, err
		}
		if subject.Valid {
			m.Subject = &subject.String
		}
		if err := json.Unmarshal([]byte(attrs), &m.Attrs); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// outcome is the result of one delivery attempt.
type outcome struct {
	ok        bool
	retryable bool
	err       string
	// started is when the attempt began: the next one is due a retry
	// delay after it.
	started time.Time
}

// after records an attempt at message seq. done says the lease was given
// up (a retry is scheduled, the throttle applies, or the lease was lost).
func (d *delivery) after(ctx context.Context, res outcome, m *storedMessage) (done bool, err error) {
	cfg := d.w.s.cfg
	now := res.started
	sub := d.sub
	seq := m.Seq
	// A message is retried for at most the policy's total retry time (plus
	// one maximum delay of slack) after its publication: messages that
	// waited behind a failing one get what is left of their window, at
	// least one attempt, so a dead endpoint's backlog stays bounded.
	next := sub.Attempts + 1
	window := d.eff.Retry.Total() + time.Duration(d.eff.Retry.MaxDelayTarget)*time.Second
	inWindow := !now.Add(d.eff.Retry.Delay(int(next))).After(store.FromMillis(m.PublishedMS).Add(window))
	switch {
	case res.ok:
		set := `cursor_seq = $1, attempts = 0, last_error = '', delivered = delivered + 1, lease_until_ms = $2`
		args := []any{seq, store.Millis(now.Add(cfg.Lease))}
		if d.eff.MaxPerSec > 0 {
			set = `cursor_seq = $1, attempts = 0, last_error = '', delivered = delivered + 1, lease_owner = '', next_attempt_ms = $2`
			args = []any{seq, store.Millis(now.Add(time.Second / time.Duration(d.eff.MaxPerSec)))}
		}
		ok, err := d.w.leased(ctx, sub.ARN, set, args...)
		if err != nil || !ok {
			return true, err
		}
		sub.CursorSeq, sub.Attempts = seq, 0
		d.leaseUntil = now.Add(cfg.Lease)
		return d.eff.MaxPerSec > 0, nil
	case res.retryable && sub.Attempts < int64(d.eff.Retry.NumRetries) && inWindow:
		d.w.s.log.Info("sns delivery failed; will retry", "subscription", sub.ARN, "seq", seq, "retry", next, "err", res.err)
		_, err := d.w.leased(ctx, sub.ARN, `attempts = $1, next_attempt_ms = $2, last_error = $3, lease_owner = ''`,
			next, store.Millis(now.Add(d.eff.Retry.Delay(int(next)))), truncErr(res.err))
		return true, err
	default:
		d.w.s.log.Warn("sns delivery failed; message dropped for the subscription", "subscription", sub.ARN, "seq", seq,
			"attempts", sub.Attempts+1, "err", res.err)
		ok, err := d.w.leased(ctx, sub.ARN, `cursor_seq = $1, attempts = 0, last_error = $2, dropped = dropped + 1`, seq, truncErr(res.err))
		if err != nil || !ok {
			return true, err
		}
		sub.CursorSeq, sub.Attempts = seq, 0
		return false, nil
	}
}

func truncErr(s string) string {
	if len(s) > 1000 {
		return s[:1000]
	}
	return s
}

// confirmation sends the SubscriptionConfirmation of a pending
// subscription.
func (d *delivery) confirmation(ctx context.Context) error {
	s := d.w.s
	sub := d.sub
	token, err := s.cfg.Sealer.Open(sub.TokenSealed, sub.ARN)
	if err != nil {
		return err
	}
	key, certID, _, err := s.keys.load(ctx)
	if err != nil {
		return err
	}
	base := s.base(sub.BaseURL)
	m := &wireMessage{
		Type:             typeConfirmation,
		MessageID:        uuid.NewString(),
		Token:            token,
		TopicArn:         sub.TopicARN,
		Message:          confirmationText(sub.TopicARN),
		SubscribeURL:     subscribeURL(base, sub.TopicARN, token),
		Timestamp:        timestamp(s.cfg.Now()),
		SignatureVersion: d.sigVersion(),
		SigningCertURL:   certURL(base, certID),
	}
	if m.Signature, err = sign(key, m.SignatureVersion, stringToSign(m)); err != nil {
		return err
	}
	res := d.post(ctx, request{body: m.encode(), msg: m})
	if ctx.Err() != nil {
		return nil
	}
	now := res.started
	// Only for the request this attempt answered, and while the
	// subscription is still pending: a Subscribe asking for the message
	// again, or a confirmation, came in meanwhile otherwise.
	cond := ` AND status = '` + statusPending + `' AND confirm_gen = ` + strconv.FormatInt(sub.ConfirmGen, 10)
	var ok bool
	switch {
	case res.ok:
		ok, err = d.w.leasedIf(ctx, sub.ARN, `confirm_due = $1, attempts = 0, last_error = '', lease_owner = ''`, cond, false)
	case res.retryable && sub.Attempts < int64(d.eff.Retry.NumRetries):
		next := sub.Attempts + 1
		ok, err = d.w.leasedIf(ctx, sub.ARN, `attempts = $1, next_attempt_ms = $2, last_error = $3, lease_owner = ''`, cond,
			next, store.Millis(now.Add(d.eff.Retry.Delay(int(next)))), truncErr(res.err))
	default:
		s.log.Warn("sns subscription confirmation not delivered", "subscription", sub.ARN, "err", res.err)
		ok, err = d.w.leasedIf(ctx, sub.ARN, `confirm_due = $1, attempts = 0, last_error = $2, lease_owner = ''`, cond, false, truncErr(res.err))
	}
	if err == nil && !ok {
		_, err = d.w.leased(ctx, sub.ARN, `lease_owner = ''`)
	}
	return err
}

func (d *delivery) sigVersion() string {
	if d.topic.Attrs.SignatureVersion == "2" {
		return "2"
	}
	return "1"
}

// request is what one attempt posts.
type request struct {
	body []byte
	msg  *wireMessage
	raw  bool
	err  error // building the request failed (retried)
}

// notification builds the Notification of message m for the subscription.
func (d *delivery) notification(ctx context.Context, m *storedMessage) request {
	s := d.w.s
	sub := d.sub
	text := forProtocol(m.Message, m.Structure, sub.Protocol)
	if sub.Attrs.RawMessageDelivery {
		return request{body: []byte(text), raw: true, msg: &wireMessage{Type: typeNotification, MessageID: m.ID, TopicArn: sub.TopicARN}}
	}
	key, certID, _, err := s.keys.load(ctx)
	if err != nil {
		return request{err: err}
	}
	base := s.base(sub.BaseURL)
	wm := &wireMessage{
		Type:             typeNotification,
		MessageID:        m.ID,
		TopicArn:         sub.TopicARN,
		Subject:          m.Subject,
		Message:          text,
		Timestamp:        timestamp(store.FromMillis(m.PublishedMS)),
		SignatureVersion: d.sigVersion(),
		SigningCertURL:   certURL(base, certID),
		UnsubscribeURL:   unsubscribeURL(base, sub.ARN),
	}
	for name, a := range m.Attrs {
		if wm.MessageAttributes == nil {
			wm.MessageAttributes = map[string]wireAttribute{}
		}
		wm.MessageAttributes[name] = wireAttribute{Type: a.Type, Value: a.Value}
	}
	// The signature covers no subscription-specific field: one per message.
	ck := fmt.Sprintf("%s|%d|%s|%s|%s", sub.TopicARN, m.Seq, m.ID, sub.Protocol, wm.SignatureVersion)
	sig, err := s.sigs.get(ck, func() (string, error) { return sign(key, wm.SignatureVersion, stringToSign(wm)) })
	if err != nil {
		return request{err: err}
	}
	wm.Signature = sig
	return request{body: wm.encode(), msg: wm}
}

// UserAgent is the User-Agent of deliveries (SNS's).
const UserAgent = "Amazon Simple Notification Service Agent"

// post makes one delivery attempt.
func (d *delivery) post(ctx context.Context, rq request) outcome {
	started := d.w.s.cfg.Now()
	o := d.attempt(ctx, rq)
	o.started = started
	return o
}

func (d *delivery) attempt(ctx context.Context, rq request) outcome {
	if rq.err != nil {
		return outcome{retryable: true, err: rq.err.Error()}
	}
	s := d.w.s
	sub := d.sub
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(rq.body))
	if err != nil {
		return outcome{err: err.Error()}
	}
	h := req.Header
	h.Set("Content-Type", d.eff.ContentType)
	h.Set("User-Agent", UserAgent)
	h.Set("x-amz-sns-message-type", rq.msg.Type)
	h.Set("x-amz-sns-message-id", rq.msg.MessageID)
	h.Set("x-amz-sns-topic-arn", rq.msg.TopicArn)
	if rq.msg.Type == typeNotification {
		h.Set("x-amz-sns-subscription-arn", sub.ARN)
	}
	if rq.raw {
		h.Set("x-amz-sns-rawdelivery", "true")
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return outcome{retryable: true, err: err.Error()}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return outcome{ok: true}
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		return outcome{retryable: true, err: "HTTP " + resp.Status}
	}
	return outcome{err: "HTTP " + resp.Status}
}

// Purge deletes messages every confirmed subscription has moved past and
// pending subscriptions whose confirmation token has expired.
func (w *Worker) Purge(ctx context.Context) error {
	now := store.Millis(w.s.cfg.Now())
	return w.s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sns_messages WHERE seq <= COALESCE(
				(SELECT MIN(s.cursor_seq) FROM sns_subscriptions s WHERE s.topic_arn = sns_messages.topic_arn AND s.status = $1),
				(SELECT t.msg_seq FROM sns_topics t WHERE t.arn = sns_messages.topic_arn),
				9223372036854775807)`, statusConfirmed); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM sns_subscriptions WHERE status = $1 AND token_expires_ms < $2`, statusPending, now)
		return err
	})
}

// base is where subscribers reach lextrail for a subscription.
func (s *Service) base(stored string) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return stored
}

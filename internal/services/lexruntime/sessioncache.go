package lexruntime

import (
	"sync"

	"lextrail/internal/services/lexmodels"
)

// sessionCache keeps, per conversation, the session row this process last
// wrote and what lexmodels said about its bot version then, so that a
// continuing turn needs no read transaction. It is never trusted on its
// own: a turn served from it commits only if, inside the turn's write
// transaction, the row still has the cached version (the session CAS) and
// the bot version still resolves to the same status and model (see
// committer.apply). When either changed — another process served the
// conversation, a rebuild, a deleted alias — the turn is discarded and run
// again from a fresh read, which is why bots with code hooks (a Lambda
// must not see a turn twice) never use it.
//
// Entries are written and dropped only by the request holding the
// session's in-process lock; readers get a deep copy of the state.
type sessionCache struct {
	mu  sync.Mutex
	max int
	m   map[sessionKey]cachedSession
}

type cachedSession struct {
	row *session // never changed once cached
	rb  lexmodels.RuntimeBot
}

// newSessionCache keeps up to max sessions (0 or less: none).
func newSessionCache(max int) *sessionCache {
	return &sessionCache{max: max, m: map[sessionKey]cachedSession{}}
}

// get returns a copy of the cached row (its State a deep copy) and the
// bot version it was served with.
func (c *sessionCache) get(k sessionKey) (*session, *lexmodels.RuntimeBot, bool) {
	if c.max <= 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	row := *e.row
	row.State = e.row.State.Clone()
	rb := e.rb
	return &row, &rb, true
}

// put caches row (which the caller no longer changes) and rb.
func (c *sessionCache) put(k sessionKey, row *session, rb *lexmodels.RuntimeBot) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for old := range c.m { // an arbitrary entry
			delete(c.m, old)
			break
		}
	}
	c.m[k] = cachedSession{row: row, rb: *rb}
}

func (c *sessionCache) drop(k sessionKey) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// len is the number of cached sessions.
func (c *sessionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// StaleTurns is how many turns served from the session cache were found
// stale at commit (another process had served the conversation, or the
// bot version changed) and run again from the database.
func (s *Service) StaleTurns() int64 { return s.stale.Load() }

// CachedSessions is how many sessions the session cache holds.
func (s *Service) CachedSessions() int { return s.sessions.len() }

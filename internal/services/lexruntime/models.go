package lexruntime

import (
	"context"
	"errors"
	"sync"

	"lextrail/internal/dialog"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
)

// modelCache keeps loaded bot versions, keyed by (account, region, bot,
// version) and checked against the stored model ID on every use, so a
// rebuild (a new ID) loads the new model once and the old entry is
// replaced. Concurrent requests for a model being loaded wait for that one
// load. The least recently used entries are evicted past the size.
type modelCache struct {
	mu   sync.Mutex
	max  int
	tick uint64
	m    map[modelKey]*modelEntry
}

type modelKey struct{ acct, region, bot, version string }

type modelEntry struct {
	id    string
	bot   *dialog.Bot
	err   error
	ready chan struct{}
	used  uint64
}

func newModelCache(max int) *modelCache {
	return &modelCache{max: max, m: map[modelKey]*modelEntry{}}
}

var errModelGone = errors.New("lexruntime: the bot version's model is no longer stored")

// get returns the bot version built as id, loading it if needed. The
// returned id is the model actually loaded (it differs from the one asked
// for when a rebuild committed in between).
func (c *modelCache) get(ctx context.Context, db *store.DB, k modelKey, id string) (*dialog.Bot, string, error) {
	c.mu.Lock()
	c.tick++
	e := c.m[k]
	if e != nil && e.id == id {
		e.used = c.tick
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
		if e.err != nil {
			return nil, "", e.err
		}
		c.mu.Lock()
		loaded := e.id
		c.mu.Unlock()
		return e.bot, loaded, nil
	}
	e = &modelEntry{id: id, ready: make(chan struct{}), used: c.tick}
	c.m[k] = e
	c.evict()
	c.mu.Unlock()

	var loadedID string
	e.err = db.Read(ctx, func(tx *store.Tx) error {
		m, mid, err := lexmodels.LoadRuntimeModel(ctx, tx, k.acct, k.region, k.bot, k.version)
		if err != nil {
			return err
		}
		if m == nil {
			return errModelGone
		}
		loadedID = mid
		e.bot, err = dialog.NewBot(m)
		return err
	})
	if e.err == nil && loadedID != id {
		c.mu.Lock()
		e.id = loadedID
		c.mu.Unlock()
	}
	close(e.ready)
	if e.err != nil {
		c.mu.Lock()
		if c.m[k] == e {
			delete(c.m, k)
		}
		c.mu.Unlock()
		return nil, "", e.err
	}
	return e.bot, loadedID, nil
}

// evict drops least recently used entries beyond max (c.mu held).
func (c *modelCache) evict() {
	for len(c.m) > c.max {
		var oldest modelKey
		var min uint64 = ^uint64(0)
		for k, e := range c.m {
			if e.used < min {
				oldest, min = k, e.used
			}
		}
		delete(c.m, oldest)
	}
}

// len is the number of cached versions (for tests).
func (c *modelCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

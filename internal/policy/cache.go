package policy

import (
	"container/list"
	"sync"
)

// Cache maps policy document text to its compiled *Policy so that hot
// policies are parsed once. It is bounded (least recently used entries are
// evicted) and safe for concurrent use. Entries never go stale: a changed
// policy is a different document text and therefore a different key.
// Documents that fail to parse are not cached.
type Cache struct {
	mu  sync.Mutex
	max int
	ll  *list.List // front = most recently used
	m   map[cacheKey]*list.Element
}

type cacheKey struct {
	kind Kind
	doc  string
}

type cacheEntry struct {
	key cacheKey
	p   *Policy
}

// NewCache returns a cache holding at most maxEntries policies (at least 1).
func NewCache(maxEntries int) *Cache {
	if maxEntries < 1 {
		maxEntries = 1
	}
	return &Cache{max: maxEntries, ll: list.New(), m: make(map[cacheKey]*list.Element)}
}

// Parse returns the compiled policy for doc, parsing it on a miss.
func (c *Cache) Parse(doc string, kind Kind) (*Policy, error) {
	k := cacheKey{kind, doc}
	c.mu.Lock()
	if e, ok := c.m[k]; ok {
		c.ll.MoveToFront(e)
		p := e.Value.(*cacheEntry).p
		c.mu.Unlock()
		return p, nil
	}
	c.mu.Unlock()

	p, err := parse(doc, kind)
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok { // parsed concurrently by another caller
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).p, nil
	}
	c.m[k] = c.ll.PushFront(&cacheEntry{key: k, p: p})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.m, old.Value.(*cacheEntry).key)
	}
	return p, nil
}

// Len reports the number of cached policies.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

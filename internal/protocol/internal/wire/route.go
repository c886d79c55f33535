package wire

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
)

// A Route is a compiled operation binding: "METHOD /a/{label}/b/{greedy+}?key&key2=value".
type Route struct {
	Op     *catalog.Operation
	Method string
	segs   []segment
	query  []queryReq
	greedy bool
	lits   int
}

type segment struct {
	lit    string // literal (decoded form) when label == ""
	label  string
	greedy bool
}

type queryReq struct {
	key, value string
	hasValue   bool
}

// Router matches requests against a service's routes, most specific first.
type Router struct {
	routes []*Route
	err    error
}

var routers sync.Map // *catalog.Service -> *Router

// RouterFor returns svc's compiled router (cached per service).
func RouterFor(svc *catalog.Service) *Router {
	if v, ok := routers.Load(svc); ok {
		return v.(*Router)
	}
	v, _ := routers.LoadOrStore(svc, Compile(svc.Ops))
	return v.(*Router)
}

// Compile compiles the HTTP bindings of ops. A malformed binding makes the
// router fail every request (a programming error).
func Compile(ops []*catalog.Operation) *Router {
	rt := &Router{}
	for _, op := range ops {
		r, err := ParseRoute(op.HTTP)
		if err != nil {
			rt.err = fmt.Errorf("operation %s: %w", op.Name, err)
			return rt
		}
		r.Op = op
		rt.routes = append(rt.routes, r)
	}
	sort.SliceStable(rt.routes, func(i, j int) bool {
		a, b := rt.routes[i], rt.routes[j]
		if len(a.query) != len(b.query) {
			return len(a.query) > len(b.query)
		}
		if a.greedy != b.greedy {
			return !a.greedy
		}
		return a.lits > b.lits
	})
	return rt
}

// ParseRoute parses a binding such as "GET /bots/{name}/versions/$LATEST"
// or "PUT /{Bucket}?policy".
func ParseRoute(binding string) (*Route, error) {
	method, target, ok := strings.Cut(strings.TrimSpace(binding), " ")
	if !ok || method == "" || !strings.HasPrefix(target, "/") {
		return nil, fmt.Errorf("malformed HTTP binding %q", binding)
	}
	r := &Route{Method: method}
	path, query, _ := strings.Cut(target, "?")
	path = strings.TrimSuffix(path[1:], "/")
	if path != "" {
		for i, s := range strings.Split(path, "/") {
			switch {
			case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
				name := s[1 : len(s)-1]
				seg := segment{label: name}
				if strings.HasSuffix(name, "+") {
					seg.label, seg.greedy = name[:len(name)-1], true
					if i != strings.Count(path, "/") {
						return nil, fmt.Errorf("greedy label not last in %q", binding)
					}
					r.greedy = true
				}
				if seg.label == "" {
					return nil, fmt.Errorf("empty label in %q", binding)
				}
				r.segs = append(r.segs, seg)
			case s == "" || strings.ContainsAny(s, "{}"):
				return nil, fmt.Errorf("malformed segment %q in %q", s, binding)
			default:
				lit, err := url.PathUnescape(s)
				if err != nil {
					return nil, fmt.Errorf("malformed segment %q in %q", s, binding)
				}
				r.segs = append(r.segs, segment{lit: lit})
				r.lits++
			}
		}
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, has := strings.Cut(kv, "=")
			if k == "" {
				return nil, fmt.Errorf("malformed query requirement in %q", binding)
			}
			r.query = append(r.query, queryReq{key: k, value: v, hasValue: has})
		}
	}
	return r, nil
}

// Match is the outcome of routing one request.
type Match struct {
	Route  *Route
	Labels protocol.Labels
	// PathOnly reports that no route matched but some route's path (and
	// required query keys) matched with another method.
	PathOnly bool
	// BadPath reports a path that is not a valid escaped path.
	BadPath bool
}

// Match routes r. The path is split on "/" in its escaped form and each
// segment percent-decoded afterwards (so %2F stays inside its segment); a
// greedy label takes the rest of the escaped path decoded once, with no
// cleaning. A trailing slash is optional for non-greedy routes.
func (rt *Router) Match(r *http.Request) (Match, error) {
	if rt.err != nil {
		return Match{}, rt.err
	}
	raw := r.URL.EscapedPath()
	if raw == "" {
		raw = "/"
	}
	if raw[0] != '/' {
		return Match{BadPath: true}, nil
	}
	rawSegs := strings.Split(raw[1:], "/")
	dec := make([]string, len(rawSegs))
	for i, s := range rawSegs {
		d, err := url.PathUnescape(s)
		if err != nil {
			return Match{BadPath: true}, nil
		}
		dec[i] = d
	}
	var q url.Values
	queryParsed := false
	var m Match
	for _, route := range rt.routes {
		if len(route.query) > 0 {
			if !queryParsed {
				q, _ = url.ParseQuery(r.URL.RawQuery)
				queryParsed = true
			}
			if !route.queryMatches(q) {
				continue
			}
		}
		labels, ok := route.matchPath(raw, rawSegs, dec)
		if !ok {
			continue
		}
		if route.Method != r.Method {
			m.PathOnly = true
			continue
		}
		return Match{Route: route, Labels: labels}, nil
	}
	return m, nil
}

func (route *Route) queryMatches(q url.Values) bool {
	for _, req := range route.query {
		vs, ok := q[req.key]
		if !ok {
			return false
		}
		if req.hasValue && (len(vs) == 0 || vs[0] != req.value) {
			return false
		}
	}
	return true
}

func (route *Route) matchPath(raw string, rawSegs, dec []string) (protocol.Labels, bool) {
	n := len(route.segs)
	if route.greedy {
		n-- // segments before the greedy label
		if len(rawSegs) <= n {
			return nil, false
		}
	} else {
		switch {
		case len(dec) == n:
		case len(dec) == n+1 && dec[n] == "" && rawSegs[n] == "":
		default:
			return nil, false
		}
	}
	var labels protocol.Labels
	for i := 0; i < n; i++ {
		s := route.segs[i]
		if s.label == "" {
			if dec[i] != s.lit {
				return nil, false
			}
			continue
		}
		if dec[i] == "" {
			return nil, false
		}
		if labels == nil {
			labels = make(protocol.Labels, len(route.segs))
		}
		labels[s.label] = dec[i]
	}
	if route.greedy {
		// Offset of segment n in raw: 1 + sum of the lengths of the
		// segments before it plus their separators.
		off := 1
		for i := 0; i < n; i++ {
			off += len(rawSegs[i]) + 1
		}
		rest := raw[off:]
		if rest == "" {
			return nil, false
		}
		v, err := url.PathUnescape(rest)
		if err != nil {
			return nil, false
		}
		if labels == nil {
			labels = make(protocol.Labels, 1)
		}
		labels[route.segs[n].label] = v
	}
	if labels == nil {
		labels = protocol.Labels{}
	}
	return labels, true
}

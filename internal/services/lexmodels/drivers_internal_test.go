package lexmodels

import (
	"testing"

	"lextrail/internal/store/pgtest"
)

// TestDriver is a database the suite runs on. URL returns the store URL
// for a fresh, empty database ("" means testenv's default: SQLite in a
// temp dir); the PostgreSQL one skips (or fails under
// LEXTRAIL_REQUIRE_POSTGRES=1) where PostgreSQL is not installed.
type TestDriver struct {
	Name string
	URL  func(testing.TB) string
}

// TestDrivers are SQLite and PostgreSQL. Shared with the external test
// package (lexmodels_test), which runs its SDK flows over them.
var TestDrivers = []TestDriver{
	{"sqlite", func(testing.TB) string { return "" }},
	{"postgres", pgtest.Start},
}

// EachDriver runs fn as a subtest per driver.
func EachDriver(t *testing.T, fn func(t *testing.T, d TestDriver)) {
	for _, d := range TestDrivers {
		t.Run(d.Name, func(t *testing.T) { fn(t, d) })
	}
}

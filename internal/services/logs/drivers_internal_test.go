package logs

import (
	"testing"

	"lextrail/internal/store/pgtest"
)

// TestDriver is a database the suite runs on; URL returns a fresh empty
// database ("" is testenv's default SQLite). The PostgreSQL one skips (or
// fails under LEXTRAIL_REQUIRE_POSTGRES=1) where PostgreSQL is absent.
type TestDriver struct {
	Name string
	URL  func(testing.TB) string
}

// TestDrivers are SQLite and PostgreSQL (shared with package logs_test).
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

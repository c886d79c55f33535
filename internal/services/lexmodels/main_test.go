package lexmodels_test

import (
	"testing"

	"lextrail/internal/store/pgtest"
)

// TestMain stops the throwaway PostgreSQL cluster the driver table starts.
func TestMain(m *testing.M) { pgtest.Main(m) }

package logs

import (
	"testing"

	"lextrail/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

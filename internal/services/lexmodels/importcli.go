package lexmodels

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"lextrail/internal/store"
)

// ImportFiles imports LEX export zips one after the other (the
// `lextrail import` command), printing one progress line per file:
// "[3/40] path: BOT OrderFlowers imported". A file that fails is reported
// and the others still run; the error counts the failures.
func ImportFiles(ctx context.Context, db *store.DB, paths []string, o ImportOptions, out io.Writer) error {
	failed := 0
	start := time.Now()
	width := len(fmt.Sprint(len(paths)))
	for i, p := range paths {
		prefix := fmt.Sprintf("[%*d/%d] %s: ", width, i+1, len(paths), filepath.Base(p))
		data, err := os.ReadFile(p)
		if err == nil {
			var typ, name string
			typ, name, err = ImportFile(ctx, db, data, o)
			if err == nil {
				fmt.Fprintf(out, "%s%s %s imported\n", prefix, typ, name)
				continue
			}
			if name != "" {
				prefix += typ + " " + name + ": "
			}
		}
		failed++
		fmt.Fprintf(out, "%sFAILED: %v\n", prefix, err)
	}
	fmt.Fprintf(out, "%d imported, %d failed in %s\n", len(paths)-failed, failed, time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		return fmt.Errorf("%d of %d imports failed", failed, len(paths))
	}
	return nil
}

package cli

import (
	"context"
	"fmt"

	"github.com/clasifica/clasifica/internal/bytesize"
)

// cacheReport is what `cache info` and `cache clear` print as JSON.
type cacheReport struct {
	Dir     string `json:"dir"`
	Entries int    `json:"entries"`
	Bytes   int64  `json:"bytes"`
	Cleared bool   `json:"cleared,omitempty"`
}

func runCache(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "info" && args[0] != "clear") {
		fmt.Fprintln(e.stderr, "Usage: clasifica cache info | clear [--format json]")
		return errUsage
	}
	sub := args[0]
	fs := e.flags("cache "+sub, "[--format table|json]")
	format := fs.String("format", "table", "output format: table or json")
	if pos, err := parse(fs, args[1:]); err != nil {
		return err
	} else if len(pos) > 0 {
		fs.Usage()
		return errUsage
	}
	info := e.app.FeatureCacheInfo
	if sub == "clear" {
		info = e.app.ClearFeatureCache
	}
	c, err := info()
	if err != nil {
		return err
	}
	r := cacheReport{Dir: c.Dir, Entries: c.Entries, Bytes: c.Bytes, Cleared: sub == "clear"}
	if *format == "json" {
		return writeJSON(e.stdout, r)
	}
	if r.Cleared {
		fmt.Fprintf(e.stdout, "Cleared %d cached feature vectors (%s) from %s\n", r.Entries, bytesize.Format(r.Bytes), r.Dir)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: %d cached feature vectors, %s\n", r.Dir, r.Entries, bytesize.Format(r.Bytes))
	return nil
}

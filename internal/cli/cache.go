package cli

import (
	"context"
	"fmt"

	"github.com/clasifica/clasifica/internal/bytesize"
	"github.com/clasifica/clasifica/ml/features"
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
	r := cacheReport{Dir: e.app.Dirs.Features()}
	c, err := features.OpenCache(r.Dir)
	if err != nil {
		return err
	}
	if r.Entries, r.Bytes, err = c.Stats(); err != nil {
		return err
	}
	if sub == "clear" {
		if err := c.Clear(); err != nil {
			return err
		}
		r.Cleared = true
	}
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

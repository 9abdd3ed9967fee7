package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ml/features"
)

func runBackbone(ctx context.Context, e *env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	store := e.app.Backbones
	asJSON := len(args) == 2 && args[0] == "--format" && args[1] == "json"
	switch sub {
	case "list":
		all, err := store.List()
		if err != nil {
			return err
		}
		if asJSON {
			def, _ := store.Default("")
			type row struct {
				app.Installed
				Default bool `json:"default"`
				Offline bool `json:"offline"`
			}
			rows := make([]row, len(all))
			for i, in := range all {
				rows[i] = row{Installed: in, Default: in.ID == def.ID, Offline: in.Offline()}
			}
			return writeJSON(e.stdout, rows)
		}
		if len(all) == 0 {
			fmt.Fprintln(e.stdout, app.ErrNoBackbone)
			return nil
		}
		def, _ := store.Default("")
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSHA-256\t")
		for _, in := range all {
			mark := ""
			if in.ID == def.ID {
				mark = "(default)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", in.ID, in.Name, in.SHA256[:16], mark)
		}
		return tw.Flush()
	case "import":
		if len(args) != 1 {
			fmt.Fprintln(e.stderr, "Usage: clasifica backbone import FILE.h5|TFJS_FOLDER")
			return errUsage
		}
		fmt.Fprintf(e.stderr, "Checking %s…\n", args[0])
		in, err := store.Import(args[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Installed %s (%s), SHA-256 %s\n", in.Name, in.ID, in.SHA256)
		return nil
	case "verify":
		ids := args
		if len(ids) == 0 {
			all, err := store.List()
			if err != nil {
				return err
			}
			for _, in := range all {
				ids = append(ids, in.ID)
			}
		}
		var failed error
		for _, id := range ids {
			if err := store.Verify(id); err != nil {
				fmt.Fprintf(e.stdout, "%s: FAILED: %v\n", id, err)
				failed = errors.New("some backbones failed verification")
				continue
			}
			fmt.Fprintf(e.stdout, "%s: ok\n", id)
		}
		return failed
	case "download":
		bar := newProgressBar(e.stderr)
		in, err := store.DownloadImageNet(ctx, e.app.Dirs.Downloads(), nil, func(d app.Download) {
			bar.update("download", int(d.Done>>20), int(d.Total>>20), d.Rate()/(1<<20), "MB/s", d.Remaining(), false)
		})
		if err != nil {
			return err
		}
		bar.line("Installed %s (%s)", in.Name, in.ID)
		return nil
	}
	fmt.Fprintln(e.stderr, "Usage: clasifica backbone list [--format json] | import FILE_OR_FOLDER | verify [ID...] | download")
	return errUsage
}

func runCache(ctx context.Context, e *env, args []string) error {
	dir := e.app.Dirs.Features()
	asJSON := len(args) == 3 && args[1] == "--format" && args[2] == "json"
	if !(len(args) == 1 || asJSON) || (args[0] != "info" && args[0] != "clear") {
		fmt.Fprintln(e.stderr, "Usage: clasifica cache info | clear [--format json]")
		return errUsage
	}
	c, err := features.OpenCache(dir)
	if err != nil {
		return err
	}
	n, size, err := c.Stats()
	if err != nil {
		return err
	}
	if args[0] == "clear" {
		if err := c.Clear(); err != nil {
			return err
		}
		if asJSON {
			return writeJSON(e.stdout, map[string]any{"dir": dir, "cleared_entries": n, "cleared_bytes": size})
		}
		fmt.Fprintf(e.stdout, "Cleared %d cached feature vectors (%s) from %s\n", n, formatBytes(size), dir)
		return nil
	}
	if asJSON {
		return writeJSON(e.stdout, map[string]any{"dir": dir, "entries": n, "bytes": size})
	}
	fmt.Fprintf(e.stdout, "%s: %d cached feature vectors, %s\n", dir, n, formatBytes(size))
	return nil
}

// runSetup prepares a fresh machine for the app: it copies the ONNX Runtime
// library where the app finds it, and makes sure a backbone is installed:
// the ImageNet weights when they can be downloaded, else the offline one.
func runSetup(ctx context.Context, e *env, args []string) error {
	fs := e.flags("setup", "[--runtime LIB] [--offline-backbone DIR]")
	lib := fs.String("runtime", "", "ONNX Runtime library to install for the app")
	offline := fs.String("offline-backbone", "", "backbone to install when the ImageNet weights cannot be downloaded")
	timeout := fs.Duration("timeout", 20*time.Second, "how long to try the ImageNet download before falling back")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *lib != "" {
		dst := filepath.Join(e.app.Dirs.Runtime(), filepath.Base(*lib))
		if err := installFile(*lib, dst); err != nil {
			return fmt.Errorf("install the runtime: %w", err)
		}
	}
	store := e.app.Backbones
	if in, err := store.Default(""); err == nil {
		fmt.Fprintf(e.stderr, "Backbone: %s (%s)\n", in.Name, in.ID)
		if !in.Offline() {
			return nil
		}
	}
	dctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{Timeout: *timeout}
	bar := newProgressBar(e.stderr)
	in, err := store.DownloadImageNet(dctx, e.app.Dirs.Downloads(), client, func(d app.Download) {
		bar.update("ImageNet weights", int(d.Done>>20), int(d.Total>>20), d.Rate()/(1<<20), "MB/s", d.Remaining(), false)
	})
	if err == nil {
		bar.line("Backbone: %s (%s)", in.Name, in.ID)
		return nil
	}
	if *offline == "" {
		return err
	}
	bar.line("The ImageNet weights could not be downloaded (%v).", app.PlainError(err))
	if in, err := store.Get(app.OfflineBackboneID); err == nil {
		fmt.Fprintf(e.stderr, "Using the offline test backbone: %s.\n", in.Name)
		return nil
	}
	fmt.Fprintln(e.stderr, "Installing the offline test backbone instead, so the app still trains and classifies…")
	in, err = store.Import(*offline)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Backbone: %s (%s)\n", in.Name, in.ID)
	return nil
}

func installFile(src, dst string) error {
	if st, err := os.Stat(dst); err == nil {
		if s2, err := os.Stat(src); err == nil && s2.Size() == st.Size() {
			return nil
		}
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/clasifica/clasifica/app"
)

const backboneUsage = "list [--format json] | import FILE_OR_FOLDER | verify [ID...] | download"

func runBackbone(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "Usage: clasifica backbone "+backboneUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list":
		return backboneList(e, args)
	case "import":
		return backboneImport(ctx, e, args)
	case "verify":
		return backboneVerify(ctx, e, args)
	case "download":
		return backboneDownload(ctx, e, args)
	}
	fmt.Fprintf(e.stderr, "clasifica backbone: unknown command %q\nUsage: clasifica backbone %s\n", sub, backboneUsage)
	return errUsage
}

// backboneRow is one installed backbone as `backbone list` shows it.
type backboneRow struct {
	app.Installed
	Default bool `json:"default"`
	Offline bool `json:"offline"`
}

func backboneList(e *env, args []string) error {
	fs := e.flags("backbone list", "[--format table|json]")
	format := fs.String("format", "table", "output format: table or json")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	store := e.app.Backbones
	all, err := store.List()
	if err != nil {
		return err
	}
	def, _ := store.Default("")
	rows := make([]backboneRow, len(all))
	for i, in := range all {
		rows[i] = backboneRow{Installed: in, Default: in.ID == def.ID, Offline: in.Offline()}
	}
	if *format == "json" {
		return writeJSON(e.stdout, rows)
	}
	return writeBackboneTable(e.stdout, rows)
}

func writeBackboneTable(w io.Writer, rows []backboneRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, app.ErrNoBackbone)
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSHA-256\t")
	for _, r := range rows {
		mark := ""
		if r.Default {
			mark = "(default)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Name, r.SHA256[:16], mark)
	}
	return tw.Flush()
}

func backboneImport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("backbone import", "FILE.h5|TFJS_FOLDER")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	fmt.Fprintf(e.stderr, "Checking %s…\n", pos[0])
	in, err := e.app.Backbones.Import(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Installed %s (%s), SHA-256 %s\n", in.Name, in.ID, in.SHA256)
	return nil
}

func backboneVerify(ctx context.Context, e *env, args []string) error {
	fs := e.flags("backbone verify", "[ID...]")
	ids, err := parse(fs, args)
	if err != nil {
		return err
	}
	store := e.app.Backbones
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
		if err := store.Verify(ctx, id); err != nil {
			if app.IsCancel(err) {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: FAILED: %v\n", id, err)
			failed = errors.New("some backbones failed verification")
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok\n", id)
	}
	return failed
}

func backboneDownload(ctx context.Context, e *env, args []string) error {
	fs := e.flags("backbone download", "")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	bar := newProgressBar(e.stderr)
	in, err := e.app.Backbones.DownloadImageNet(ctx, e.app.Dirs.Downloads(), nil, bar.download("download"))
	if err != nil {
		return err
	}
	bar.line("Installed %s (%s)", in.Name, in.ID)
	return nil
}

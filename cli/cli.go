// Package cli is Clasifica's command line: one file per command, each
// parsing its own flags and going through package app for everything it
// does. Progress goes to standard error; --format json makes standard
// output machine-readable.
//
//	clasifica train    --data PHOTOS/ --out pets.clasifica [--epochs N] [--val 0.2] [--seed 1] [--backbone SPEC]
//	clasifica classify --model pets.clasifica [--format table|csv|json] [--sort-into OUT/] FILE_OR_DIR...
//	clasifica eval     --model pets.clasifica [--data TEST_PHOTOS/] [--format table|json]
//	clasifica export   --model pets.clasifica --onnx pets.onnx
//	clasifica bench    [--data PHOTOS/] [--backbone SPEC]
//	clasifica dataset  inspect DIR [--check] [--format json] | relabel DIR PHOTO KIND | leave-out DIR PHOTO | forget DIR PHOTO | decisions DIR
//	clasifica backbone list | import FILE_OR_FOLDER | verify [ID] | download
//	clasifica cache    info | clear
//	clasifica setup    [--runtime LIB] [--offline-backbone DIR]
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/internal/version"
)

type command struct {
	name, args, help string
	run              func(ctx context.Context, env *env, args []string) error
}

var commands = []command{
	{"train", "--data PHOTOS/ --out MODEL", "train a classifier on a folder of labelled photos", runTrain},
	{"classify", "--model MODEL FILE_OR_DIR...", "classify photos", runClassify},
	{"eval", "--model MODEL [--data DIR]", "evaluate a model on labelled photos", runEval},
	{"export", "--model MODEL --onnx OUT.onnx", "export a model as a standalone ONNX file", runExport},
	{"bench", "[--data PHOTOS/]", "measure inference and training speed", runBench},
	{"dataset", "inspect | relabel | leave-out | forget | decisions", "show how a photo folder is understood; record what you decided about its photos", runDataset},
	{"backbone", "list | import PATH | verify [ID] | download", "manage InceptionV3 backbones", runBackbone},
	{"cache", "info | clear", "manage the feature cache", runCache},
	{"setup", "[--runtime LIB] [--offline-backbone DIR]", "prepare the runtime and a backbone (used by `make run`)", runSetup},
}

// env is what every command gets: the application core and the streams.
type env struct {
	app    *app.App
	stdout io.Writer
	stderr io.Writer
}

// Run runs the command line with args (without the program name) and
// returns the process's exit status: 0 on success, 1 on failure, 2 for a
// usage error, 130 when ctx was cancelled (Ctrl-C).
func Run(ctx context.Context, a *app.App, args []string, stdout, stderr io.Writer) int {
	e := &env{app: a, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		usage(stdout)
		return 0
	}
	if name == "version" || name == "--version" {
		fmt.Fprintln(stdout, version.String())
		return 0
	}
	for _, c := range commands {
		if c.name == name {
			err := c.run(ctx, e, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			case app.IsCancel(err):
				fmt.Fprintln(stderr, "clasifica: cancelled")
				return 130
			}
			fmt.Fprintf(stderr, "clasifica %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "clasifica: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

// errUsage reports a usage error already explained on standard error.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "Clasifica teaches your computer to sort photos.")
	fmt.Fprintln(w, "\nUsage:\n  clasifica                 open the desktop app\n  clasifica COMMAND [options]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %-44s %s\n", c.name, c.args, c.help)
	}
	fmt.Fprintln(w, "\nRun `clasifica COMMAND -h` for a command's options.")
}

// flags returns a flag set for a command that reports errors on stderr.
func (e *env) flags(name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: clasifica %s %s\n\nOptions:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, allowing them after positional arguments too
// ("classify a.jpg --format csv"), and maps parse errors to errUsage.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// writeJSON writes v as indented JSON, the --format json output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func need(fs *flag.FlagSet, e *env, what ...string) error {
	var missing []string
	for _, w := range what {
		if f := fs.Lookup(w); f != nil && f.Value.String() == "" {
			missing = append(missing, "--"+w)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(e.stderr, "clasifica %s: %s required\n", fs.Name(), strings.Join(missing, " and "))
		fs.Usage()
		return errUsage
	}
	return nil
}

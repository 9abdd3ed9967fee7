// Command clasifica teaches a computer to sort photos: it trains a photo
// classifier on a folder of labelled photos (transfer learning on
// InceptionV3), classifies new photos, evaluates and exports models.
//
// With no arguments it opens the desktop app; with a command it is the
// command line (package cli). Run `clasifica help` for the
// commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/cli"
	_ "github.com/clasifica/clasifica/internal/posixlocale" // before Fyne: see the package
	_ "github.com/clasifica/clasifica/internal/winconsole"  // Windows: print to the terminal it was started from
	"github.com/clasifica/clasifica/ml/model"
	"github.com/clasifica/clasifica/ui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dirs, err := app.DefaultDirs()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clasifica:", err)
		os.Exit(1)
	}
	a := app.New(dirs)
	// A model file alone is what desktops pass when one is double-clicked.
	open := len(os.Args) == 2 && strings.HasSuffix(strings.ToLower(os.Args[1]), model.Ext)
	if len(os.Args) > 1 && !open {
		app.PrepareCUDA(app.RuntimeArg(os.Args[1:]), dirs)
		os.Exit(cli.Run(ctx, a, os.Args[1:], os.Stdout, os.Stderr))
	}
	if err := ui.Run(a, os.Args[1:]...); err != nil {
		fmt.Fprintln(os.Stderr, "clasifica:", err)
		os.Exit(1)
	}
}

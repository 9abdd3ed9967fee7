package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clasifica/clasifica/app"
)

// runSetup prepares a fresh machine for the app: it copies the ONNX Runtime
// library where the app finds it, and makes sure a backbone is installed:
// the ImageNet weights when they can be downloaded, else the offline one.
func runSetup(ctx context.Context, e *env, args []string) error {
	fs := e.flags("setup", "[--runtime LIB] [--offline-backbone DIR]")
	lib := fs.String("runtime", "", "ONNX Runtime to install for the app: its library, an unpacked release's folder, or a release archive (.tgz, .zip)")
	offline := fs.String("offline-backbone", "", "backbone to install when the ImageNet weights cannot be downloaded")
	timeout := fs.Duration("timeout", 20*time.Second, "how long to try the ImageNet download before falling back")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *lib != "" {
		dst, err := app.InstallRuntime(*lib, e.app.Dirs)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "ONNX Runtime: %s\n", dst)
		if extra, missing := app.CUDALibraries(dst); len(missing) > 0 {
			fmt.Fprintf(e.stderr, "Its CUDA provider needs %s, found nowhere on this computer: install CUDA 12 and cuDNN 9 (see README, \"With a GPU\").\n", strings.Join(missing, ", "))
		} else if len(extra) > 0 {
			fmt.Fprintf(e.stderr, "Its CUDA provider's libraries are in %s: Clasifica adds them to the library path when it starts.\n", strings.Join(extra, ", "))
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
	in, err := store.DownloadImageNet(dctx, e.app.Dirs.Downloads(), client, bar.download("ImageNet weights"))
	if err == nil {
		bar.line("Backbone: %s (%s)", in.Name, in.ID)
		return nil
	}
	if *offline == "" || ctx.Err() != nil {
		return err
	}
	bar.line("The ImageNet weights could not be downloaded (%v).", app.PlainError(err))
	if in, err := store.Get(app.OfflineBackboneID); err == nil {
		fmt.Fprintf(e.stderr, "Using the offline test backbone: %s.\n", in.Name)
		return nil
	}
	fmt.Fprintln(e.stderr, "Installing the offline test backbone instead, so the app still trains and classifies…")
	in, err = store.Import(ctx, *offline)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Backbone: %s (%s)\n", in.Name, in.ID)
	return nil
}

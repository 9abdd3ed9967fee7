//go:build screenshots

// Command screenshots takes the pictures of the desktop app in
// docs/screenshots: it opens the real window on real photos, trains, and
// saves a picture of each screen. It needs a display, and the build tag
// screenshots (the tour is not in the shipped program); run.sh gives it both,
// with Xvfb and an isolated Clasifica home.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/clasifica/clasifica/app"
	"github.com/clasifica/clasifica/ui"
)

func main() {
	data := flag.String("data", "testdata/photos/flowers", "photo folder to train on")
	classify := flag.String("classify", "", "photos to sort on the Classify screen (default: the training folder)")
	problems := flag.String("problems", "testdata/photos/pets", "a folder with things to fix, shown first on the Data screen (\"\" for none)")
	check := flag.String("check", "", "a folder with photos in the wrong folder and near-copies, for the label check's picture (\"\" for none; run.sh makes one)")
	out := flag.String("out", "docs/screenshots", "folder for the pictures")
	width := flag.Int("width", 1280, "window width (the pictures fit a 1366×768 screen)")
	height := flag.Int("height", 720, "window height")
	flag.Parse()
	if *classify == "" {
		*classify = *data
	}
	dirs, err := app.DefaultDirs()
	if err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
	err = ui.Screenshots(app.New(dirs), ui.ScreenshotOptions{
		Data: *data, Classify: *classify, Out: *out, Problems: *problems, Check: *check,
		Size:    fyne.NewSize(float32(*width), float32(*height)),
		Capture: grab,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

// grab saves the Clasifica window as the X server shows it, with
// ImageMagick's import: what a person would see, menus and dialogs
// included.
func grab(path string) error {
	out, err := exec.Command("xdotool", "search", "--onlyvisible", "--name", "Clasifica").Output()
	if err != nil {
		return fmt.Errorf("find the window with xdotool: %w", err)
	}
	id := strings.Fields(string(out))
	if len(id) == 0 {
		return fmt.Errorf("no Clasifica window on the display")
	}
	if out, err := exec.Command("import", "-window", id[0], path).CombinedOutput(); err != nil {
		return fmt.Errorf("import: %v: %s", err, out)
	}
	return nil
}

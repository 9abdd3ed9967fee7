package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/clasifica/clasifica/app"
)

// progressBar draws a one-line progress bar on a terminal, redrawn in
// place, or writes a plain line every few seconds elsewhere (logs, CI).
type progressBar struct {
	w        io.Writer
	tty      bool
	last     time.Time
	drawn    bool
	interval time.Duration
}

func newProgressBar(w io.Writer) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	p := &progressBar{w: w, tty: tty, interval: 5 * time.Second}
	if tty {
		p.interval = 100 * time.Millisecond
	}
	return p
}

// update shows label with done of total, a rate and the time left; final
// forces a draw and ends the line.
func (p *progressBar) update(label string, done, total int, rate float64, unit string, left time.Duration, final bool) {
	if !final && time.Since(p.last) < p.interval {
		return
	}
	p.last = time.Now()
	pct := 0.0
	if total > 0 {
		pct = float64(done) / float64(total)
	}
	stats := fmt.Sprintf("%d/%d", done, total)
	if rate > 0 {
		stats += fmt.Sprintf("  %.1f %s", rate, unit)
	}
	if left > 0 && !final {
		stats += "  " + formatDuration(left) + " left"
	}
	if p.tty {
		const width = 28
		n := int(pct * width)
		bar := strings.Repeat("█", n) + strings.Repeat("░", width-n)
		fmt.Fprintf(p.w, "\r\033[K%s %s %3.0f%%  %s", label, bar, 100*pct, stats)
		p.drawn = true
		if final {
			fmt.Fprintln(p.w)
			p.drawn = false
		}
		return
	}
	fmt.Fprintf(p.w, "%s %3.0f%%  %s\n", label, 100*pct, stats)
}

// line prints a message on its own line, clearing an unfinished bar.
func (p *progressBar) line(format string, args ...any) {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
		p.last = time.Time{}
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	if d < time.Hour {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// download returns a progress function for a download, in megabytes.
func (p *progressBar) download(label string) func(app.Download) {
	return func(d app.Download) {
		p.update(label, int(d.Done/1e6), int(d.Total/1e6), d.Rate()/1e6, "MB/s", d.Remaining(), false)
	}
}

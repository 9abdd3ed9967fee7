// Package words writes numbers, counts and durations for people who are
// not programmers: "93.5%", "1 photo", "5,000", "about 3 min".
package words

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Percent writes a share as a whole percentage ("93%").
func Percent(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// Percent1 writes a share with one decimal where it matters ("93.5%").
func Percent1(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	s := fmt.Sprintf("%.1f", 100*f)
	return strings.TrimSuffix(s, ".0") + "%"
}

// Plural writes "1 photo" or "5 photos"; many is the plural noun.
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%s %s", Thousands(n), many)
}

// Thousands writes n with thousands separators ("5,000").
func Thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// RoughDuration writes a time left for people: "about 40 s", "about
// 3 min", rounded so that it does not flicker second by second.
func RoughDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < 10*time.Second:
		return "a few seconds"
	case d < time.Minute:
		return fmt.Sprintf("about %d s", int(d.Seconds()/5+0.5)*5)
	case d < time.Hour:
		return fmt.Sprintf("about %d min", int(d.Minutes()+0.5))
	}
	return fmt.Sprintf("about %.1f h", d.Hours())
}

// ShortDuration writes an elapsed time: "29 s", "2 min 5 s".
func ShortDuration(d time.Duration) string {
	s := int(d.Seconds() + 0.5)
	if s < 60 {
		return fmt.Sprintf("%d s", s)
	}
	if s < 3600 {
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	}
	return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
}

// Number writes a metric such as a loss with three significant digits.
func Number(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "–"
	case math.Abs(f) >= 100:
		return fmt.Sprintf("%.0f", f)
	case math.Abs(f) >= 10:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

package dataset

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// naturalCompare orders names the way file managers show them: letters
// without regard to case, runs of digits by their value ("photo 2" before
// "photo 10"). Names that differ only in case or leading zeros compare by
// their bytes last, so the order is total and deterministic.
func naturalCompare(a, b string) int {
	if c := naturalFold(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// naturalFold is naturalCompare without the final tie-break.
func naturalFold(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			da, ra := digitRun(a)
			db, rb := digitRun(b)
			if c := compareDigits(da, db); c != 0 {
				return c
			}
			a, b = ra, rb
			continue
		}
		ca, na := utf8.DecodeRuneInString(a)
		cb, nb := utf8.DecodeRuneInString(b)
		if ca == utf8.RuneError && cb == utf8.RuneError {
			// Invalid bytes: compare them as bytes so distinct names stay
			// distinct.
			if a[0] != b[0] {
				if a[0] < b[0] {
					return -1
				}
				return 1
			}
		} else if la, lb := unicode.ToLower(ca), unicode.ToLower(cb); la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digitRun splits s into its leading ASCII digits and the rest.
func digitRun(s string) (digits, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// compareDigits compares two runs of digits by value, without converting
// them to integers so that arbitrarily long runs cannot overflow.
func compareDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

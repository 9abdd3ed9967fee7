// Package posixlocale, imported for its side effect, keeps Fyne quiet in
// the "C.UTF-8" locale of containers and CI machines.
//
// Fyne reads the locale while its lang package initialises and logs
// "Error parsing user locale C" to standard error whenever the locale is
// C.UTF-8 (the plain "C" it handles), which would start every command's
// output with a spurious error. In that locale there is no language to
// honour, so this package sets LANGUAGE (which only chooses the language
// of messages) to English.
//
// It must initialise before Fyne's lang package: Go initialises packages in
// import-path order as soon as their own imports are ready, and this one
// needs only os, so it runs before github.com/jeandeaual/go-locale, which
// Fyne's lang package waits for.
package posixlocale

import (
	"os"
	"strings"
)

func init() {
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(env)
		if v == "" {
			continue
		}
		if (strings.HasPrefix(v, "C.") || strings.HasPrefix(v, "POSIX.")) && os.Getenv("LANGUAGE") == "" {
			os.Setenv("LANGUAGE", "en")
		}
		return
	}
}

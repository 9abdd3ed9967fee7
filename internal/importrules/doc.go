// Package importrules holds the test that keeps the user interfaces (the
// desktop app in ui and the command line) on their side of the house:
// they name ml/'s vocabulary (result, option and event types) and do every
// action through package app. See docs/ARCHITECTURE.md, "What the UI and
// CLI may use from ml/".
package importrules

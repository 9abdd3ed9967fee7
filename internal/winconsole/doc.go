// Package winconsole lets the Windows build, a GUI-subsystem program (so
// that double-clicking it opens no console window), print to the terminal
// it was started from: importing it attaches the process to its parent's
// console, when there is one, and points standard output and error at it.
//
// Handles that already lead somewhere, such as a pipe or a file
// (`clasifica.exe classify photos > labels.csv`), are kept as they are. On
// other systems the package does nothing.
//
// Windows shells do not wait for GUI-subsystem programs, so the prompt may
// come back before the output ends; `start /wait clasifica.exe …` in cmd,
// or PowerShell's `clasifica.exe … | Out-Default`, waits.
package winconsole

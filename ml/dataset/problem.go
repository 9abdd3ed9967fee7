package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Reason says why a file or folder was not used. Reasons are short stable
// strings so that they can be counted, compared and written as JSON; Describe
// gives the plain-words explanation shown to people.
type Reason string

// Reasons recorded by Scan.
const (
	// ReasonEmpty: the file holds no bytes at all (often an interrupted copy
	// or download).
	ReasonEmpty Reason = "empty-file"
	// ReasonNotImage: the content is not in any photo format Clasifica reads,
	// whatever the file's name says.
	ReasonNotImage Reason = "not-a-photo"
	// ReasonPermission: the operating system refused to let Clasifica read
	// the file or folder.
	ReasonPermission Reason = "permission-denied"
	// ReasonUnreadable: reading failed for another reason (a disk or network
	// error, for example).
	ReasonUnreadable Reason = "unreadable"
	// ReasonVanished: the file was listed but had been deleted or moved when
	// Clasifica came to read it.
	ReasonVanished Reason = "deleted-during-scan"
	// ReasonBrokenLink: a shortcut (symbolic link) points at something that
	// does not exist.
	ReasonBrokenLink Reason = "broken-link"
	// ReasonLinkLoop: following shortcuts (symbolic links) leads back to where
	// it started.
	ReasonLinkLoop Reason = "link-loop"
	// ReasonFolderSeen: a folder was reached a second time through a shortcut
	// within the same class; its photos were counted once.
	ReasonFolderSeen Reason = "folder-seen-twice"
	// ReasonNotRegular: a device, pipe or socket rather than a file.
	ReasonNotRegular Reason = "not-a-file"
	// ReasonBadName: a class folder whose name is not valid text, which the
	// class list and model files cannot hold.
	ReasonBadName Reason = "bad-name"
	// ReasonUnlabelled: a file outside any class folder (or not listed in the
	// annotations), so nothing says what it shows.
	ReasonUnlabelled Reason = "unlabelled"
	// ReasonEmptyFolder: a would-be class folder with no photos in it; it is
	// not used as a class.
	ReasonEmptyFolder Reason = "no-photos-in-folder"
	// ReasonIgnoredFolder: a folder beside train/ and test/ that is not part
	// of the division.
	ReasonIgnoredFolder Reason = "ignored-folder"
	// ReasonMissing: the annotations list a photo that is not in images/.
	ReasonMissing Reason = "missing"
	// ReasonBadAnnotation: a line of an annotation file that cannot be
	// understood.
	ReasonBadAnnotation Reason = "bad-annotation"
	// ReasonHidden: a hidden file or folder (its name starts with a dot).
	// Skipped silently, only counted.
	ReasonHidden Reason = "hidden"
	// ReasonSystem: a file or folder the operating system or a photo tool
	// creates by itself (.DS_Store, Thumbs.db, desktop.ini, __MACOSX, ...).
	// Skipped silently, only counted.
	ReasonSystem Reason = "system-file"

	// ReasonUndecodable: the file looked like a photo but its header (during
	// the scan) or its data (Check, or the feature extractor) could not be
	// decoded.
	ReasonUndecodable Reason = "undecodable"
	// ReasonTooLarge: the photo's declared dimensions exceed what Clasifica
	// will decode (a decompression bomb, or a huge scan).
	ReasonTooLarge Reason = "too-large"
)

// Describe explains the reason in plain words for people who are not
// programmers.
func (r Reason) Describe() string {
	switch r {
	case ReasonEmpty:
		return "the file is empty (0 bytes); it may be an interrupted copy or download"
	case ReasonNotImage:
		return "the file is not a photo in a format Clasifica reads (JPEG, PNG, GIF, BMP, TIFF or WebP)"
	case ReasonPermission:
		return "Clasifica is not allowed to read it; check its permissions"
	case ReasonUnreadable:
		return "the file could not be read"
	case ReasonVanished:
		return "the file was deleted or moved while Clasifica was reading the folder"
	case ReasonBrokenLink:
		return "a shortcut that points at something that no longer exists"
	case ReasonLinkLoop:
		return "a shortcut that leads back to a folder it is already inside"
	case ReasonFolderSeen:
		return "a folder reached a second time through a shortcut; its photos were counted once"
	case ReasonNotRegular:
		return "not an ordinary file (a device, pipe or socket)"
	case ReasonBadName:
		return "the folder's name is not valid text; rename it"
	case ReasonUnlabelled:
		return "not inside a class folder (or not listed in the annotations), so nothing says what it shows"
	case ReasonEmptyFolder:
		return "the folder holds no photos, so it was not used as a class"
	case ReasonIgnoredFolder:
		return "the folder is not train, validation or test, so it was not used"
	case ReasonMissing:
		return "listed in the annotations but not found in images/"
	case ReasonBadAnnotation:
		return "a line in the annotations could not be understood"
	case ReasonHidden:
		return "hidden file or folder"
	case ReasonSystem:
		return "file or folder made by the operating system or a photo program"
	case ReasonUndecodable:
		return "the photo is damaged or in an unsupported variant and could not be opened"
	case ReasonTooLarge:
		return "the photo is too large to open safely"
	}
	return string(r)
}

// Silent reports whether files skipped for this reason are only counted, not
// listed one by one: hidden and system files are expected clutter, not
// mistakes.
func (r Reason) Silent() bool { return r == ReasonHidden || r == ReasonSystem }

// Problem records a file or folder that was not used, and why. The feature
// extractor uses the same type for photos it cannot decode.
type Problem struct {
	// Path is the file or folder, as the operating system names it. For a bad
	// annotation line it is the annotation file followed by ":" and the line
	// number.
	Path string `json:"path"`
	// Reason says why it was skipped.
	Reason Reason `json:"reason"`
	// Detail is the underlying error or a more precise explanation, if any.
	Detail string `json:"detail,omitempty"`
}

// String formats the problem for logs: path, reason and detail.
func (p Problem) String() string {
	if p.Detail == "" {
		return fmt.Sprintf("%s: %s", p.Path, p.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", p.Path, p.Reason, p.Detail)
}

// errNotRegular is returned when something that was a file when listed is
// no longer an ordinary file when opened.
var errNotRegular = errors.New("not a regular file")

// classify maps a file-system error to the reason shown to people.
func classify(err error) Reason {
	switch {
	case errors.Is(err, errNotRegular):
		return ReasonNotRegular
	case errors.Is(err, fs.ErrNotExist):
		return ReasonVanished
	case errors.Is(err, fs.ErrPermission):
		return ReasonPermission
	case errors.Is(err, syscall.ELOOP):
		return ReasonLinkLoop
	}
	return ReasonUnreadable
}

// isCancel reports whether err comes from a cancelled or expired context.
func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// errDetail strips the path from a file-system error: the Problem already
// carries it, and repeating it makes long lines people skim past.
func errDetail(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

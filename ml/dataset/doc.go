// Package dataset finds labelled photos in the folders people actually have
// and divides them into training, validation and test photos.
//
// Scan recognises three layouts without being told which one it is looking
// at:
//
//   - a folder of class folders: every folder directly inside the chosen
//     folder is a class, and every photo below it, at any depth, belongs to
//     that class;
//   - a folder holding train/ and test/ (and optionally validation/ or val/),
//     each holding class folders: the given division is kept as it is;
//   - the Oxford-IIIT Pet dataset as downloaded (images/ and annotations/),
//     labelled by species or by breed, with its official division.
//
// Anything else is refused with a *LayoutError whose message explains, in
// plain words and with an example, how to arrange the photos.
//
// Files are recognised as photos by their content, never by their name.
// Every file is read once, by a few parallel workers, to recognise it and to
// compute its SHA-256; the division into training, validation and test
// photos depends only on that hash and the requested shares, so adding photos
// never moves a photo that was already there, and identical photos always
// land on the same side. Files that cannot be used (empty, not a photo,
// unreadable, broken links, link loops, files deleted during the scan) are
// recorded as Problems with a Reason and skipped; hidden and system files
// (.DS_Store, Thumbs.db, __MACOSX, ...) are skipped silently but counted.
//
// Memory grows with the number of files (a path, a label, a hash and a size
// each), never with their content: files are streamed through the hash.
package dataset

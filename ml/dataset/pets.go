package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on the Oxford-IIIT Pet annotation files, which are untrusted input
// like everything else in a folder people choose. The real list.txt is
// about 200 KB with lines under 60 bytes.
const (
	maxAnnotationBytes = 16 << 20
	maxAnnotationLine  = 4 << 10
)

// The species codes of the Oxford-IIIT Pet annotations.
const (
	petCat = 1
	petDog = 2
)

// petRecord is one line of an Oxford-IIIT Pet annotation file:
// "Image CLASS-ID SPECIES BREED-ID", for example "Abyssinian_100 1 1 1".
type petRecord struct {
	image   string // file name without ".jpg"
	breed   string // image without its trailing "_<number>"
	classID int    // 1..37
	species int    // petCat or petDog
	breedID int    // 1..25 within the species
}

// parsePetLine parses one annotation line. ok is false for blank and "#"
// comment lines, which carry no record.
func parsePetLine(line string) (rec petRecord, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return petRecord{}, false, nil
	}
	f := strings.Fields(line)
	if len(f) != 4 {
		return petRecord{}, false, fmt.Errorf("want 4 fields (Image CLASS-ID SPECIES BREED-ID), got %d", len(f))
	}
	name := f[0]
	// The name becomes a path below images/: refuse anything that could
	// point elsewhere.
	if !utf8.ValidString(name) || strings.ContainsAny(name, "/\\:\x00") || name == "." || name == ".." {
		return petRecord{}, false, fmt.Errorf("image name %q is not a plain file name", name)
	}
	i := strings.LastIndexByte(name, '_')
	if i <= 0 || i == len(name)-1 || strings.Trim(name[i+1:], "0123456789") != "" {
		return petRecord{}, false, fmt.Errorf("image name %q does not end in _<number> after the breed", name)
	}
	var nums [3]int
	for k, s := range f[1:] {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return petRecord{}, false, fmt.Errorf("field %d (%q) is not a small positive number", k+2, s)
		}
		nums[k] = n
	}
	if nums[1] != petCat && nums[1] != petDog {
		return petRecord{}, false, fmt.Errorf("species %d is neither 1 (cat) nor 2 (dog)", nums[1])
	}
	return petRecord{image: name, breed: name[:i], classID: nums[0], species: nums[1], breedID: nums[2]}, true, nil
}

// readPetAnnotations reads one annotation file. Lines that cannot be parsed
// are recorded in t and skipped: a damaged line should cost one photo, not
// the dataset. An error is returned only when the file itself cannot be
// read or is implausibly large.
func readPetAnnotations(path string, t *tally) ([]petRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read annotations %s: %w", path, err)
	}
	defer f.Close()
	// Reading one byte past the limit tells a file at the limit from a
	// larger one without trusting the size the file system reports.
	cr := &countingReader{r: io.LimitReader(f, maxAnnotationBytes+1)}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 0, 4096), maxAnnotationLine)
	var recs []petRecord
	for n := 1; sc.Scan(); n++ {
		rec, ok, err := parsePetLine(sc.Text())
		if err != nil {
			t.add(fmt.Sprintf("%s:%d", path, n), ReasonBadAnnotation, err.Error())
			continue
		}
		if ok {
			recs = append(recs, rec)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("read annotations %s: a line is longer than %d bytes", path, maxAnnotationLine)
		}
		return nil, fmt.Errorf("read annotations %s: %w", path, err)
	}
	if cr.n > maxAnnotationBytes {
		return nil, fmt.Errorf("read annotations %s: larger than %d bytes", path, maxAnnotationBytes)
	}
	return recs, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

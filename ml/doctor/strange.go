package doctor

// strangeMADs is how many robust deviations beyond the median a photo
// must stand to be called a stranger (see Profile). At 3, ordinary photos
// in the tail of a class's distances were listed too (3% of the sample
// flowers); at 4, 1%, while photos of something else stand 4 to 17 with
// a backbone that sees them.
const strangeMADs = 4

// minStrangePhotos is the fewest photos a folder needs for its strangers
// to be judged: fewer give no class a spread to measure against.
const minStrangePhotos = 10

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

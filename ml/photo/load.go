package photo

// LoadFile decodes the named file and returns it upright as size×size RGB,
// squashed to the square as Keras' load_img(target_size=(size, size)) does
// (with Resize's antialiasing filter, where load_img defaults to nearest
// neighbour): the input of the network. Errors are *Error and carry the
// file name. LoadFile panics if size is not positive.
func LoadFile(path string, size int, lim Limits) (*RGB, error) {
	if size <= 0 {
		panic("photo: LoadFile with a non-positive size")
	}
	data, err := readFile(path, lim.maxBytes())
	if err != nil {
		return nil, withPath(err, path)
	}
	m, _, o, err := decodeData(data, lim)
	if err != nil {
		return nil, withPath(err, path)
	}
	// Resize the stored image, then turn the small result upright: the
	// separable filter commutes with flips and transposition, so this
	// equals resizing the upright image, without rotating the large one.
	// (The target is square, so the stored image is squashed to the same
	// square whichever way it is turned.)
	p := &RGB{Width: size, Height: size, Pix: make([]uint8, 3*size*size)}
	var rs resizer
	rs.resize(p.Pix, 3*size, 3, m, size, size)
	return orientRGB(p, o), nil
}

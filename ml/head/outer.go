package head

// The hidden layer's kernel holds nearly all of the head's weights (2,048 ×
// 1,024 of 2.1 million by default). With ONNX Runtime computing its product
// and its gradient and Go applying Adam, a batch of 32 spends most of its
// time moving that kernel through memory: the product re-packs it on every
// run, the gradient is written out and read back, and the Adam step reads
// and writes four 8 MB arrays. On a CPU with the vector kernels below, the
// trainer keeps the kernel and its moments in strips of 16 columns (pack),
// computes the product itself from the strips, takes from the graph only the
// gradient dz of the layer's output, and computes the kernel's gradient xᵀ·dz
// a few weights at a time in registers, applying Adam to them at once: one
// pass reads and writes only the weights and the moments, in order.

// fusable reports whether the vector kernels can train the hidden layer of
// a head with these inputs and hidden units: they work on blocks of 4 inputs
// and strips of 16 units.
func fusable(inputs, hidden int) bool {
	return haveVectorKernels && inputs > 0 && inputs%4 == 0 && hidden > 0 && hidden%16 == 0
}

// pack copies the kernel w (rows×cols, row-major; cols a multiple of 16)
// into strips of 16 columns, strip after strip, each row by row:
// dst[(j/16)·rows·16 + i·16 + j%16] = w[i·cols + j].
func pack(dst, w []float32, rows, cols int) {
	for i := range rows {
		row := w[i*cols : (i+1)*cols]
		for s := 0; s < cols; s += 16 {
			copy(dst[s*rows+16*i:s*rows+16*i+16], row[s:s+16])
		}
	}
}

// unpack is pack's inverse.
func unpack(w, src []float32, rows, cols int) {
	for i := range rows {
		row := w[i*cols : (i+1)*cols]
		for s := 0; s < cols; s += 16 {
			copy(row[s:s+16], src[s*rows+16*i:s*rows+16*i+16])
		}
	}
}

// interleave copies x (batch×rows, row-major; rows a multiple of 4) into xt
// as adamStrip reads it: for each block of 4 rows, the 4 values of each
// sample in turn.
func interleave(xt, x []float32, rows, batch int) {
	for r := 0; r < rows; r += 4 {
		t := xt[r*batch : (r+4)*batch]
		for k := range batch {
			copy(t[4*k:4*k+4], x[k*rows+r:k*rows+r+4])
		}
	}
}

// adamPacked applies one Adam step to the packed kernel p (rows×cols, see
// pack) and its moments m and v, packed alike, whose gradient is xᵀ·dz for
// the batch's inputs x, given interleaved in xt (see interleave), and the
// gradient dz of the layer's output (batch×cols), packed like the kernel
// (see pack: in place, a strip's rows of dz are 4 kB or more apart and
// fall in a few cache sets; packed, they stay in the core's first-level
// cache while the strip's rows use them; 20% faster). With next (the
// next batch's inputs, a multiple of 4 rows of rows floats), it also sets
// product (next's rows × cols) to next times the updated kernel, each strip
// as soon as it is updated, while it is still in the cache: the next
// batch's forward pass then reads the kernel from memory not at all. The
// strips are shared among goroutines; each weight's gradient and each
// product sums in order, so the result does not depend on GOMAXPROCS.
func (a adamStep) adamPacked(p, m, v []float32, rows, cols int, xt []float32, batch int, dz, next, product []float32) {
	if batch == 0 {
		return
	}
	if len(next)%(4*rows) != 0 {
		panic("head: adamPacked: next batch not a multiple of 4 rows")
	}
	c := a.vector()
	size := 16 * rows
	n := len(next) / rows
	strips(cols/16, size, a.wide, func(s, count int) {
		o := s * size
		if count == 2 {
			adamStrip2(p[o:o+2*size], m[o:o+2*size], v[o:o+2*size], xt, batch, dz[16*batch*s:], rows/4, &c, size)
		} else {
			adamStrip(p[o:o+size], m[o:o+size], v[o:o+size], xt, batch, dz[16*batch*s:], 16, rows/4, &c)
		}
		productStrips(product, next, p[o:o+count*size], s, count, n, rows, cols)
	})
}

// strips calls fn on every strip of a packed kernel (n strips of size
// weights) once, shared among goroutines: one strip at a time, or two
// where wide (count says how many from strip s).
func strips(n, size int, wide bool, fn func(s, count int)) {
	group := 1
	if wide {
		group = 2
	}
	parallel((n+group-1)/group, max(1, minParallel/(group*size)), func(lo, hi int) {
		for u := lo; u < hi; u++ {
			s := u * group
			fn(s, min(group, n-s))
		}
	})
}

// vector returns the step's constants as adamStrip reads them: 8 copies
// each of 1-β1, 1-β2, α, ε and the decay.
func (a adamStep) vector() [40]float32 {
	var c [40]float32
	for i, x := range []float32{a.oneMinusB1, a.oneMinusB2, a.alpha, a.eps, a.decay} {
		for j := range 8 {
			c[8*i+j] = x
		}
	}
	return c
}

// matMulPacked sets h (n×cols, row-major) to x·w for x (n×k, row-major) and
// the packed kernel w (k×cols, see pack), with the wide kernels where wide.
// n must be a multiple of 4 (pad x with zero rows). The strips are shared
// among goroutines, each kept in its core's cache while it is multiplied by
// every row of x; each element sums over k in order, so the result does
// not depend on GOMAXPROCS or on wide.
func matMulPacked(h, x, w []float32, n, k, cols int, wide bool) {
	if n == 0 {
		return
	}
	size := 16 * k
	strips(cols/16, size, wide, func(s, count int) {
		productStrips(h, x, w[s*size:(s+count)*size], s, count, n, k, cols)
	})
}

// productStrips sets the 16·count columns of h (n×cols) from strip s on to
// x (n×k, n a multiple of 4) times those strips (count of them, 1 or 2,
// each k rows of 16, see pack), 4 rows at a time.
func productStrips(h, x, w []float32, s, count, n, k, cols int) {
	for r := 0; r < n; r += 4 {
		if count == 2 {
			dot4x32(h[r*cols+16*s:], cols, x[r*k:], k, w, k, 16*k)
		} else {
			dot4x16(h[r*cols+16*s:], cols, x[r*k:], k, w, 16, k)
		}
	}
}

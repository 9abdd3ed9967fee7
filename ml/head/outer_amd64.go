//go:build !purego

package head

import "golang.org/x/sys/cpu"

var (
	haveVectorKernels = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	// haveWideKernels says that the CPU (and the system, which must save
	// the registers) has AVX-512: twice the multiply-adds per instruction.
	haveWideKernels = haveVectorKernels && cpu.X86.HasAVX512F
)

// adamStripAVX2, dot4x16AVX2 and their wide versions are in outer_amd64.s.

//go:noescape
func adamStripAVX2(p, m, v, xt *float32, batch int, dz *float32, ldz, blocks int, c *[40]float32)

//go:noescape
func dot4x16AVX2(h *float32, ldh int, x *float32, ldx int, w *float32, ldw int, k int)

//go:noescape
func adamStrip2AVX512(p, m, v, xt *float32, batch int, dz *float32, blocks int, c *[40]float32, stride int)

//go:noescape
func dot4x32AVX512(h *float32, ldh int, x *float32, ldx int, w *float32, k int, stride int)

// adamStrip applies Adam to one strip of a packed kernel: blocks × 4 rows of
// 16 weights, contiguous in p, m and v, with the gradient
// Σₖ xt[16·b + 4k + r]·dz[k·ldz + j] for block b.
func adamStrip(p, m, v, xt []float32, batch int, dz []float32, ldz, blocks int, c *[40]float32) {
	// The kernel does not check bounds: these do.
	n := 64 * blocks
	_, _, _ = p[n-1], m[n-1], v[n-1]
	_ = xt[4*batch*blocks-1]
	_ = dz[(batch-1)*ldz+15]
	adamStripAVX2(&p[0], &m[0], &v[0], &xt[0], batch, &dz[0], ldz, blocks, c)
}

// dot4x16 sets a tile of 4 rows × 16 columns of h = x·w, over k inputs,
// the rows of h, x and w being ldh, ldx and ldw floats apart.
func dot4x16(h []float32, ldh int, x []float32, ldx int, w []float32, ldw int, k int) {
	_ = h[3*ldh+15]
	_ = x[3*ldx+k-1]
	_ = w[(k-1)*ldw+15]
	dot4x16AVX2(&h[0], ldh, &x[0], ldx, &w[0], ldw, k)
}

// adamStrip2 is adamStrip on two strips, the second stride floats after
// the first in p, m and v and 16·batch floats after it in dz, whose rows
// are 16 floats apart.
func adamStrip2(p, m, v, xt []float32, batch int, dz []float32, blocks int, c *[40]float32, stride int) {
	n := stride + 64*blocks
	_, _, _ = p[n-1], m[n-1], v[n-1]
	_ = xt[4*batch*blocks-1]
	_ = dz[32*batch-1]
	adamStrip2AVX512(&p[0], &m[0], &v[0], &xt[0], batch, &dz[0], blocks, c, stride)
}

// dot4x32 is dot4x16 on two strips of w, the second stride floats after
// the first, each with rows 16 floats apart.
func dot4x32(h []float32, ldh int, x []float32, ldx int, w []float32, k, stride int) {
	_ = h[3*ldh+31]
	_ = x[3*ldx+k-1]
	_ = w[stride+(k-1)*16+15]
	dot4x32AVX512(&h[0], ldh, &x[0], ldx, &w[0], k, stride)
}

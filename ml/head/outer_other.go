//go:build !amd64 || purego

package head

const (
	haveVectorKernels = false
	haveWideKernels   = false
)

func adamStrip(p, m, v, xt []float32, batch int, dz []float32, ldz, blocks int, c *[40]float32) {
	panic("head: no vector kernels on this CPU")
}

func dot4x16(h []float32, ldh int, x []float32, ldx int, w []float32, ldw int, k int) {
	panic("head: no vector kernels on this CPU")
}

func adamStrip2(p, m, v, xt []float32, batch int, dz []float32, blocks int, c *[40]float32, stride int) {
	panic("head: no vector kernels on this CPU")
}

func dot4x32(h []float32, ldh int, x []float32, ldx int, w []float32, k, stride int) {
	panic("head: no vector kernels on this CPU")
}

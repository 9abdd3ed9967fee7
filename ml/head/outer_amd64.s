//go:build !purego

#include "textflag.h"

// ZERO8 clears the accumulators of a 4×16 tile, Y0–Y7.
#define ZERO8 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// FMA4x16 adds to the tile's accumulators (row r in Y2r, Y2r+1) the
// products of 16 values of one input (Y8, Y9) with one value of each of the
// 4 rows (broadcast in Y10–Y13).
#define FMA4x16 \
	VFMADD231PS Y8, Y10, Y0; \
	VFMADD231PS Y9, Y10, Y1; \
	VFMADD231PS Y8, Y11, Y2; \
	VFMADD231PS Y9, Y11, Y3; \
	VFMADD231PS Y8, Y12, Y4; \
	VFMADD231PS Y9, Y12, Y5; \
	VFMADD231PS Y8, Y13, Y6; \
	VFMADD231PS Y9, Y13, Y7

// ADAM applies Adam to the 8 weights at byte offset OFF of p (DI), m (SI)
// and v (DX), with their gradient in register G. The operations and their
// order are adamStep.apply's, without fused multiply-adds. The constants are
// at (R10): 1-β1, 1-β2, α, ε and the decay, 8 copies of each.
#define ADAM(G, OFF) \
	VMOVUPS OFF(SI), Y8; \
	VSUBPS  Y8, G, Y9; \
	VMULPS  0(R10), Y9, Y9; \
	VADDPS  Y9, Y8, Y8; \
	VMOVUPS Y8, OFF(SI); \
	VMULPS  G, G, Y9; \
	VMOVUPS OFF(DX), Y10; \
	VSUBPS  Y10, Y9, Y9; \
	VMULPS  32(R10), Y9, Y9; \
	VADDPS  Y9, Y10, Y10; \
	VMOVUPS Y10, OFF(DX); \
	VSQRTPS Y10, Y10; \
	VADDPS  96(R10), Y10, Y10; \
	VMULPS  64(R10), Y8, Y8; \
	VDIVPS  Y10, Y8, Y8; \
	VMOVUPS OFF(DI), Y9; \
	VMULPS  128(R10), Y9, Y10; \
	VSUBPS  Y10, Y9, Y9; \
	VSUBPS  Y8, Y9, Y9; \
	VMOVUPS Y9, OFF(DI)

// func adamStripAVX2(p, m, v, xt *float32, batch int, dz *float32, ldz, blocks int, c *[40]float32)
//
// One strip of 16 columns of a packed kernel (see pack), blocks × 4 rows:
// for each block of 4 rows, 64 weights contiguous in p, m and v, the
// gradient Σₖ xt[k][r]·dz[k][j] is accumulated in registers (xt holds each
// block's 4 inputs interleaved, 4 floats per sample, blocks one after
// another; dz's rows are ldz floats apart) and Adam is applied to the 64
// weights at once, so the gradient never goes to memory. batch ≥ 1 and
// blocks ≥ 1.
TEXT ·adamStripAVX2(SB), NOSPLIT, $0-72
	MOVQ p+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ xt+24(FP), R8
	MOVQ batch+32(FP), BX
	SHLQ $4, BX
	MOVQ dz+40(FP), R9
	MOVQ ldz+48(FP), R11
	SHLQ $2, R11
	MOVQ blocks+56(FP), R13
	MOVQ c+64(FP), R10

block:
	ZERO8
	MOVQ R8, AX
	MOVQ R9, R12
	MOVQ batch+32(FP), CX

k:
	VMOVUPS      (R12), Y8
	VMOVUPS      32(R12), Y9
	VBROADCASTSS (AX), Y10
	VBROADCASTSS 4(AX), Y11
	VBROADCASTSS 8(AX), Y12
	VBROADCASTSS 12(AX), Y13
	FMA4x16
	ADDQ         $16, AX
	ADDQ         R11, R12
	DECQ         CX
	JNZ          k

	ADAM(Y0, 0)
	ADAM(Y1, 32)
	ADAM(Y2, 64)
	ADAM(Y3, 96)
	ADAM(Y4, 128)
	ADAM(Y5, 160)
	ADAM(Y6, 192)
	ADAM(Y7, 224)
	ADDQ $256, DI
	ADDQ $256, SI
	ADDQ $256, DX
	ADDQ BX, R8
	DECQ R13
	JNZ  block

	VZEROUPPER
	RET

// func dot4x16AVX2(h *float32, ldh int, x *float32, ldx int, w *float32, ldw int, k int)
//
// A tile of 4 rows × 16 columns of h = x·w: h[r][j] = Σᵢ x[r][i]·w[i][j]
// for i < k, with the rows of h, x and w ldh, ldx and ldw floats apart.
// Each sum runs over i in order. k ≥ 1.
TEXT ·dot4x16AVX2(SB), NOSPLIT, $0-56
	MOVQ h+0(FP), DI
	MOVQ ldh+8(FP), BX
	SHLQ $2, BX
	MOVQ x+16(FP), SI
	MOVQ ldx+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R11
	MOVQ w+32(FP), DX
	MOVQ ldw+40(FP), R9
	SHLQ $2, R9
	MOVQ k+48(FP), CX
	ZERO8

dot:
	VMOVUPS      (DX), Y8
	VMOVUPS      32(DX), Y9
	VBROADCASTSS (SI), Y10
	VBROADCASTSS (SI)(R8*1), Y11
	VBROADCASTSS (SI)(R8*2), Y12
	VBROADCASTSS (SI)(R11*1), Y13
	FMA4x16
	ADDQ         $4, SI
	ADDQ         R9, DX
	DECQ         CX
	JNZ          dot

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    BX, DI
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, 32(DI)
	ADDQ    BX, DI
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    BX, DI
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	VZEROUPPER
	RET

// The wide kernels below do with AVX-512 what those above do with AVX2, on
// two strips at once: a tile of 4 rows × 32 columns, one 16-float register
// per row of each strip. Their sums and Adam's operations run in the same
// order, so their results are the same to the bit.

// ZERO8Z clears the accumulators of a 4×32 tile, Z0–Z7.
#define ZERO8Z \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7

// FMA4x32 adds to the tile's accumulators (row r of the first strip in
// Z2r, of the second in Z2r+1) the products of 16 values of one input in
// each strip (Z8, Z9) with one value of each of the 4 rows (broadcast in
// Z10–Z13).
#define FMA4x32 \
	VFMADD231PS Z8, Z10, Z0; \
	VFMADD231PS Z9, Z10, Z1; \
	VFMADD231PS Z8, Z11, Z2; \
	VFMADD231PS Z9, Z11, Z3; \
	VFMADD231PS Z8, Z12, Z4; \
	VFMADD231PS Z9, Z12, Z5; \
	VFMADD231PS Z8, Z13, Z6; \
	VFMADD231PS Z9, Z13, Z7

// ADAMZ is ADAM for the 16 weights at byte offset OFF+IX of p (DI), m (SI)
// and v (DX), with the constants in Z16–Z20.
#define ADAMZ(G, OFF, IX) \
	VMOVUPS OFF(SI)(IX*1), Z21; \
	VSUBPS  Z21, G, Z22; \
	VMULPS  Z16, Z22, Z22; \
	VADDPS  Z22, Z21, Z21; \
	VMOVUPS Z21, OFF(SI)(IX*1); \
	VMULPS  G, G, Z22; \
	VMOVUPS OFF(DX)(IX*1), Z23; \
	VSUBPS  Z23, Z22, Z22; \
	VMULPS  Z17, Z22, Z22; \
	VADDPS  Z22, Z23, Z23; \
	VMOVUPS Z23, OFF(DX)(IX*1); \
	VSQRTPS Z23, Z23; \
	VADDPS  Z19, Z23, Z23; \
	VMULPS  Z18, Z21, Z21; \
	VDIVPS  Z23, Z21, Z21; \
	VMOVUPS OFF(DI)(IX*1), Z22; \
	VMULPS  Z20, Z22, Z23; \
	VSUBPS  Z23, Z22, Z22; \
	VSUBPS  Z21, Z22, Z22; \
	VMOVUPS Z22, OFF(DI)(IX*1)

// func adamStrip2AVX512(p, m, v, xt *float32, batch int, dz *float32, blocks int, c *[40]float32, stride int)
//
// adamStripAVX2 on two strips at once: the second strip's weights and
// moments are stride floats after the first's, its rows of dz 16·batch
// floats after the first's, and dz's rows are 16 floats apart (packed).
TEXT ·adamStrip2AVX512(SB), NOSPLIT, $0-72
	MOVQ p+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ xt+24(FP), R8
	MOVQ batch+32(FP), BX
	SHLQ $4, BX
	MOVQ dz+40(FP), R9
	MOVQ BX, R11
	SHLQ $2, R11
	MOVQ blocks+48(FP), R13
	MOVQ c+56(FP), R10
	MOVQ stride+64(FP), R14
	SHLQ $2, R14
	VBROADCASTSS 0(R10), Z16
	VBROADCASTSS 32(R10), Z17
	VBROADCASTSS 64(R10), Z18
	VBROADCASTSS 96(R10), Z19
	VBROADCASTSS 128(R10), Z20
	XORQ         R10, R10

block2:
	ZERO8Z
	MOVQ R8, AX
	MOVQ R9, R12
	MOVQ batch+32(FP), CX

k2:
	VMOVUPS      (R12), Z8
	VMOVUPS      (R12)(R11*1), Z9
	VBROADCASTSS (AX), Z10
	VBROADCASTSS 4(AX), Z11
	VBROADCASTSS 8(AX), Z12
	VBROADCASTSS 12(AX), Z13
	FMA4x32
	ADDQ         $16, AX
	ADDQ         $64, R12
	DECQ         CX
	JNZ          k2

	ADAMZ(Z0, 0, R10)
	ADAMZ(Z1, 0, R14)
	ADAMZ(Z2, 64, R10)
	ADAMZ(Z3, 64, R14)
	ADAMZ(Z4, 128, R10)
	ADAMZ(Z5, 128, R14)
	ADAMZ(Z6, 192, R10)
	ADAMZ(Z7, 192, R14)
	ADDQ $256, DI
	ADDQ $256, SI
	ADDQ $256, DX
	ADDQ BX, R8
	DECQ R13
	JNZ  block2

	VZEROUPPER
	RET

// func dot4x32AVX512(h *float32, ldh int, x *float32, ldx int, w *float32, k int, stride int)
//
// dot4x16AVX2 on two strips at once: a tile of 4 rows × 32 columns of
// h = x·w, w's rows being 16 floats apart in each strip (packed) and the
// second strip stride floats after the first.
TEXT ·dot4x32AVX512(SB), NOSPLIT, $0-56
	MOVQ h+0(FP), DI
	MOVQ ldh+8(FP), BX
	SHLQ $2, BX
	MOVQ x+16(FP), SI
	MOVQ ldx+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R11
	MOVQ w+32(FP), DX
	MOVQ k+40(FP), CX
	MOVQ stride+48(FP), R9
	SHLQ $2, R9
	ZERO8Z

dot2:
	VMOVUPS      (DX), Z8
	VMOVUPS      (DX)(R9*1), Z9
	VBROADCASTSS (SI), Z10
	VBROADCASTSS (SI)(R8*1), Z11
	VBROADCASTSS (SI)(R8*2), Z12
	VBROADCASTSS (SI)(R11*1), Z13
	FMA4x32
	ADDQ         $4, SI
	ADDQ         $64, DX
	DECQ         CX
	JNZ          dot2

	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    BX, DI
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ    BX, DI
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ    BX, DI
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	VZEROUPPER
	RET

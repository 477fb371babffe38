//go:build amd64 && goexperiment.simd

package backend

import "simd/archsimd"

// What the CPU offers the SIMD kernels (built with GOEXPERIMENT=simd on amd64).
var (
	cpuAVX512 = archsimd.X86.AVX512()
	cpuAVX2   = archsimd.X86.AVX2()
)

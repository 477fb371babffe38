//go:build !(amd64 && goexperiment.simd)

package backend

// Without GOEXPERIMENT=simd (or off amd64) the pure-Go backend has no SIMD kernels.
const (
	cpuAVX512 = false
	cpuAVX2   = false
)

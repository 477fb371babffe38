package backend

import (
	"os"
	"strconv"
	_ "unsafe" // go:linkname

	"github.com/gomlx/compute"
)

// oneMatmulKernel is GoMLX's switch that makes the pure-Go backend use its large (packed) matrix-product kernel
// for every size. Left alone, the backend picks a small kernel for products of fewer than 4 Mi multiply-adds and
// the large one above, counting every batch entry: a replica's product then took one kernel in a group of one or
// two and the other in a group of five, and the two sum in different orders, so a run's last bits depended on the
// runs beside it in its lockstep group (which is not part of its identity, and which a run spread over devices
// or shards changes). With one kernel every replica's numbers are its own (TestRunNumbersDoNotDependOnTheirCompany)
// — and the quick fashion-mlp figure runs in half the time (BENCHMARKS.md). The switch is a variable of an internal
// package of compute v0.1.2 (internal/gobackend/dot/matmul.ForceLargeVariant, "used for tests only"), reached by
// go:linkname; should a later version drop it, the build fails at link time instead of silently changing numbers.
//
//go:linkname oneMatmulKernel github.com/gomlx/compute/internal/gobackend/dot/matmul.ForceLargeVariant
var oneMatmulKernel bool

func init() { oneMatmulKernel = true }

// The pure-Go backend's matrix products are computed by one of several kernels, chosen when the program starts:
// AVX-512 or AVX2 ones when the binary is built with GOEXPERIMENT=simd on an amd64 CPU that has them, otherwise
// portable Go ones (or, with GOMLX_DOT_MATMUL=false, GoMLX's plain loops). They add up products in different
// orders, so the same graph gives numbers that differ in their last bits from one kernel to another: a run's
// numbers depend on the kernel, which is therefore part of its identity (see Identity).

// Kernel environment variables of GoMLX's pure-Go backend (compute v0.1.2), read once at start-up.
const (
	matmulEnv = "GOMLX_DOT_MATMUL"
	avx512Env = "GOMLX_SIMD_AVX512"
	avx2Env   = "GOMLX_SIMD_AVX2"
)

// GoKernels names the matrix-product kernels the pure-Go backend uses in this process: "avx512", "avx2",
// "portable" (GoMLX's blocked Go kernels: no SIMD build, or a CPU without the instructions) or "loops"
// (GOMLX_DOT_MATMUL=false).
func GoKernels() string {
	if !envBool(matmulEnv) {
		return "loops"
	}
	switch {
	case cpuAVX512 && envBool(avx512Env):
		return "avx512"
	case cpuAVX2 && envBool(avx2Env):
		return "avx2"
	}
	return "portable"
}

// envBool reads a boolean variable as GoMLX does (strconv.ParseBool), true when unset; a value GoMLX would refuse
// counts as true here, since GoMLX panics on it before any graph runs.
func envBool(name string) bool {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return true
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// Identity is the name of a backend as a run's identity records it: what its numbers depend on. For the pure-Go
// backend it is "go/" and its kernels (e.g. "go/avx512"); for XLA, "xla/", the platform and the plugin (e.g.
// "xla/cpu/lammps-jax-pjrt-cpu==0.11.2").
func Identity(b compute.Backend) string {
	if IsGo(b) {
		return GoName + "/" + GoKernels()
	}
	return xlaIdentity(b)
}

package backend

import (
	"testing"

	"github.com/gomlx/compute"
)

// The kernel name follows GoMLX's switches: GOMLX_DOT_MATMUL=false gives the plain loops, switching a SIMD family
// off falls back to the next, and a CPU (or build) without SIMD gives the portable kernels.
func TestGoKernelsFollowGoMLXSwitches(t *testing.T) {
	best := "portable"
	if cpuAVX2 {
		best = "avx2"
	}
	if cpuAVX512 {
		best = "avx512"
	}
	if got := GoKernels(); got != best {
		t.Errorf("GoKernels() = %q with no switches set; the CPU and build offer %q", got, best)
	}
	t.Setenv(avx512Env, "false")
	if want := map[bool]string{true: "avx2", false: "portable"}[cpuAVX2]; GoKernels() != want {
		t.Errorf("GOMLX_SIMD_AVX512=false: %q, want %q", GoKernels(), want)
	}
	t.Setenv(avx2Env, "0")
	if GoKernels() != "portable" {
		t.Errorf("both SIMD families off: %q, want portable", GoKernels())
	}
	t.Setenv(matmulEnv, "false")
	if GoKernels() != "loops" {
		t.Errorf("GOMLX_DOT_MATMUL=false: %q, want loops", GoKernels())
	}
}

// A run's identity names the pure-Go backend with its kernels.
func TestIdentityNamesTheKernels(t *testing.T) {
	b, err := compute.NewWithConfig(GoName)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if got, want := Identity(b), "go/"+GoKernels(); got != want {
		t.Errorf("Identity = %q, want %q", got, want)
	}
}

package data

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// Split keeps every example exactly once, in order, inputs and targets together; bad split points are errors.
func TestSplit(t *testing.T) {
	d := &Dataset{Name: "toy",
		Inputs:  tensors.FromFlatDataAndDimensions([]float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 5, 2),
		Targets: tensors.FromFlatDataAndDimensions([]int32{10, 11, 12, 13, 14}, 5)}
	head, tail, err := d.Split(2)
	if err != nil {
		t.Fatal(err)
	}
	if head.Name != "toy[:2]" || tail.Name != "toy[2:]" || head.Len() != 2 || tail.Len() != 3 {
		t.Fatalf("parts %q (%d) and %q (%d)", head.Name, head.Len(), tail.Name, tail.Len())
	}
	if x := tensors.MustCopyFlatData[float32](tail.Inputs); !slices.Equal(x, []float32{4, 5, 6, 7, 8, 9}) {
		t.Errorf("tail inputs %v", x)
	}
	if y := tensors.MustCopyFlatData[int32](head.Targets); !slices.Equal(y, []int32{10, 11}) {
		t.Errorf("head targets %v", y)
	}
	for _, k := range []int{0, 5, -1} {
		if _, _, err := d.Split(k); err == nil || !strings.Contains(err.Error(), "non-empty") {
			t.Errorf("split at %d: %v", k, err)
		}
	}
}

package models

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/revsgd/revsgd/pkg/rng"
)

// scaled returns max(1, round(c · width)).
func scaled(c int, width float64) int {
	return max(1, int(float64(c)*width+0.5))
}

// VGG is the CIFAR variant of VGG (Simonyan and Zisserman 2015) as in the widely used pytorch-cifar code: 3×3
// convolutions with bias, each followed by batch normalisation and ReLU, 2×2 max-pooling where the configuration
// says "M", and one linear layer from the last 1×1×512 feature map to the classes. Inputs are [.., 32, 32, C].
type VGG struct {
	// Depth is 11, 13, 16 or 19.
	Depth int
	// Channels is the number of input channels (3 for CIFAR); Classes the number of outputs.
	Channels, Classes int
	// Width multiplies every layer's channels (1 for the standard network).
	Width float64
	// Path selects how convolutions are built; the zero value, AutoPath, is the faster path where measured.
	Path ConvolutionPath
}

var vggConfigs = map[int][]int{ // 0 stands for a max-pool
	11: {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	13: {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	16: {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0},
	19: {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0},
}

// Validate checks the configuration.
func (v VGG) Validate() error {
	if _, ok := vggConfigs[v.Depth]; !ok {
		return fmt.Errorf("vgg: depth must be 11, 13, 16 or 19, got %d", v.Depth)
	}
	if v.Channels <= 0 || v.Classes <= 1 || !(v.Width > 0) {
		return fmt.Errorf("vgg: need positive channels, at least two classes and a positive width, got %+v", v)
	}
	return nil
}

// Name implements Model, e.g. "vgg11-w1-c10".
func (v VGG) Name() string { return fmt.Sprintf("vgg%d-w%g-c%d", v.Depth, v.Width, v.Classes) }

func (v VGG) arch(n *net, x *Node) *Node {
	in := v.Channels
	for i, c := range vggConfigs[v.Depth] {
		if c == 0 {
			x = n.maxPool2(x)
			continue
		}
		c = scaled(c, v.Width)
		name := fmt.Sprintf("conv%d", i+1)
		x = n.relu(n.norm(n.conv(x, name, 3, in, c, 1, true), name+"/bn", c))
		in = c
	}
	return n.linear(n.flatten(x), "classifier", in, v.Classes) // 1×1×C after five pools of a 32×32 input
}

// Params implements Model.
func (v VGG) Params() []Param { p, _ := describe(v.arch); return p }

// Init implements Model (PyTorch's default initialisation).
func (v VGG) Init(src *rng.Source) []float64 { p, i := describe(v.arch); return initialise(p, i, src) }

// Apply implements Model, with batch statistics.
func (v VGG) Apply(params []*Node, x *Node) *Node { return apply(v.arch, v.Path, params, x) }

// Backprop implements Backpropagator.
func (v VGG) Backprop(params []*Node, x *Node, outputGrad func(*Node) *Node) []*Node {
	return backprop(v.arch, v.Path, params, x, outputGrad)
}

// ApplyTwiceDifferentiable implements TwiceDifferentiable.
func (v VGG) ApplyTwiceDifferentiable(params []*Node, x *Node) *Node {
	return applyTwice(v.arch, params, x)
}

// Statistics implements Calibrated.
func (v VGG) Statistics(params []*Node, calibration *Node) []*Node {
	return statistics(v.arch, v.Path, params, calibration)
}

// ApplyWithStatistics implements Calibrated.
func (v VGG) ApplyWithStatistics(params []*Node, x *Node, stats []*Node) *Node {
	return applyWithStatistics(v.arch, v.Path, params, x, stats)
}

// ResNet is the CIFAR variant of ResNet (He et al. 2016) as in the widely used pytorch-cifar code: a 3×3 stem
// convolution without max-pooling, four stages of basic blocks (depth 18, 34) or bottleneck blocks (50, 101) with
// strides 1, 2, 2, 2, batch normalisation, global average pooling and a linear classifier. Convolutions have no
// bias; shortcuts are 1×1 convolutions with batch normalisation where the shape changes. At width 1 with 10
// classes ResNet-18 has 11 173 962 parameters and ResNet-50 23 520 842.
type ResNet struct {
	// Depth is 18, 34, 50 or 101.
	Depth int
	// Channels is the number of input channels; Classes the number of outputs.
	Channels, Classes int
	// Width multiplies every layer's channels (1: 64 in the stem).
	Width float64
	// Path selects how convolutions are built; the zero value, AutoPath, is the faster path where measured.
	Path ConvolutionPath
}

var resnetBlocks = map[int][4]int{18: {2, 2, 2, 2}, 34: {3, 4, 6, 3}, 50: {3, 4, 6, 3}, 101: {3, 4, 23, 3}}

// Validate checks the configuration.
func (m ResNet) Validate() error {
	if _, ok := resnetBlocks[m.Depth]; !ok {
		return fmt.Errorf("resnet: depth must be 18, 34, 50 or 101, got %d", m.Depth)
	}
	if m.Channels <= 0 || m.Classes <= 1 || !(m.Width > 0) {
		return fmt.Errorf("resnet: need positive channels, at least two classes and a positive width, got %+v", m)
	}
	return nil
}

// Name implements Model, e.g. "resnet18-w1-c10".
func (m ResNet) Name() string { return fmt.Sprintf("resnet%d-w%g-c%d", m.Depth, m.Width, m.Classes) }

func (m ResNet) arch(n *net, x *Node) *Node {
	bottleneck := m.Depth >= 50
	expansion := 1
	if bottleneck {
		expansion = 4
	}
	in := scaled(64, m.Width)
	x = n.relu(n.norm(n.conv(x, "stem", 3, m.Channels, in, 1, false), "stem/bn", in))
	for stage, blocks := range resnetBlocks[m.Depth] {
		planes := scaled(64<<stage, m.Width)
		for b := range blocks {
			stride := 1
			if b == 0 && stage > 0 {
				stride = 2
			}
			name := fmt.Sprintf("stage%d/block%d", stage+1, b+1)
			out := planes * expansion
			var y *Node
			if bottleneck {
				y = n.relu(n.norm(n.conv(x, name+"/conv1", 1, in, planes, 1, false), name+"/bn1", planes))
				y = n.relu(n.norm(n.conv(y, name+"/conv2", 3, planes, planes, stride, false), name+"/bn2", planes))
				y = n.norm(n.conv(y, name+"/conv3", 1, planes, out, 1, false), name+"/bn3", out)
			} else {
				y = n.relu(n.norm(n.conv(x, name+"/conv1", 3, in, planes, stride, false), name+"/bn1", planes))
				y = n.norm(n.conv(y, name+"/conv2", 3, planes, planes, 1, false), name+"/bn2", planes)
			}
			shortcut := x
			if stride != 1 || in != out {
				shortcut = n.norm(n.conv(x, name+"/shortcut", 1, in, out, stride, false), name+"/shortcut/bn", out)
			}
			x = n.relu(n.add(y, shortcut))
			in = out
		}
	}
	return n.linear(n.globalAvgPool(x), "classifier", in, m.Classes)
}

// Params implements Model.
func (m ResNet) Params() []Param { p, _ := describe(m.arch); return p }

// Init implements Model (PyTorch's default initialisation).
func (m ResNet) Init(src *rng.Source) []float64 {
	p, i := describe(m.arch)
	return initialise(p, i, src)
}

// Apply implements Model, with batch statistics.
func (m ResNet) Apply(params []*Node, x *Node) *Node { return apply(m.arch, m.Path, params, x) }

// Backprop implements Backpropagator.
func (m ResNet) Backprop(params []*Node, x *Node, outputGrad func(*Node) *Node) []*Node {
	return backprop(m.arch, m.Path, params, x, outputGrad)
}

// ApplyTwiceDifferentiable implements TwiceDifferentiable.
func (m ResNet) ApplyTwiceDifferentiable(params []*Node, x *Node) *Node {
	return applyTwice(m.arch, params, x)
}

// Statistics implements Calibrated.
func (m ResNet) Statistics(params []*Node, calibration *Node) []*Node {
	return statistics(m.arch, m.Path, params, calibration)
}

// ApplyWithStatistics implements Calibrated.
func (m ResNet) ApplyWithStatistics(params []*Node, x *Node, stats []*Node) *Node {
	return applyWithStatistics(m.arch, m.Path, params, x, stats)
}

// Package runs is the run store: every run of an experiment is saved as it goes, so that it can be resumed after
// an interruption, reused instead of recomputed, re-plotted, and analysed later from Go or from Python.
//
// A run is one composition order for one seed, identified by its full configuration (Config). Its directory,
// ROOT/PROBLEM/ORDER/seed-SEED-HASH (HASH: the first 12 hex digits of the SHA-256 of config.json), holds files
// that other tools read directly:
//
//	config.json    the configuration: problem, model, data hashes, order, optimizer and hyper-parameters, seed,
//	               steps, batch size, sampling, evaluated steps, dtype, backend (the pure-Go one with its matrix
//	               kernels, XLA with its plugin, see backend.Identity), on XLA the lockstep group width, the
//	               library version, and for a warm start how θ_0 was made (warm_up, with θ_0's SHA-256)
//	metrics.csv    one row per completed evaluated step: step, then the metrics (pandas.read_csv reads it as is)
//	batches.npy    int32 [steps, batch]: the example indices of batches B_1 … B_n (row n−1 is B_n)
//	iterates.npy   [evaluated steps, parameters] in the run's dtype, row k = θ at the k-th evaluated step,
//	               present when iterates are kept; rows of steps not yet completed are zeros
//	starts/        θ at the steps replays restart from (intermittent resets, switch points), one .npy each
//	checkpoints/   the state of interrupted chains (θ and optimizer state), [1 + state, parameters]
//	record.json    the commit record: which steps are complete, the SHA-256 of every stored row and file
//
// All files are written atomically (write, sync, rename), except iterates.npy, whose rows are written in place
// and become part of the run only when record.json, written atomically after them, lists them with their
// checksum: a killed process never leaves a half-written file, or row, that is taken as complete. Opening a run
// verifies every checksum and names the file of any mismatch. A lock file keeps two processes from writing the
// same run.
package runs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Config is the identity of a run: every setting that affects its results. Two runs share a directory exactly
// when their configurations are equal.
type Config struct {
	// Library is the revsgd version.
	Library string `json:"library"`
	// Problem describes the data, model and loss.
	Problem ProblemConfig `json:"problem"`
	// Order is the composition order and its settings.
	Order OrderConfig `json:"order"`
	// Rule is the optimizer step and its hyper-parameters.
	Rule RuleConfig `json:"rule"`
	// Seed is the run seed (it draws θ_0 and the batches).
	Seed uint64 `json:"seed"`
	// Steps is the number of update maps n.
	Steps int `json:"steps"`
	// BatchSize is the number of examples per batch.
	BatchSize int `json:"batch_size"`
	// Sampling is how batches are drawn.
	Sampling string `json:"sampling"`
	// Evaluated lists the evaluated steps.
	Evaluated []int `json:"evaluated"`
	// DType is "float32" or "float64".
	DType string `json:"dtype"`
	// Backend names the compute backend.
	Backend string `json:"backend"`
	// GroupWidth, on backends whose numbers depend on the shapes of a graph (XLA), is the fixed width of the
	// lockstep groups the run was computed in (replay.Engine.SetWidth); 0 elsewhere.
	GroupWidth int `json:"group_width,omitempty"`
	// Metrics lists the metrics evaluated at each evaluated step, the columns of metrics.csv after "step".
	Metrics []string `json:"metrics"`
	// EvalLimit, when positive, is the number of examples of each data set the metrics are evaluated on.
	EvalLimit int `json:"eval_limit,omitempty"`
	// Iterates says whether θ is stored at every evaluated step.
	Iterates bool `json:"iterates"`
	// WarmUp, for a run whose θ_0 is the last iterate of a forward warm-up run rather than the model's
	// initialisation, says how θ_0 was made and identifies it; absent otherwise.
	WarmUp *WarmUpConfig `json:"warm_up,omitempty"`
}

// WarmUpConfig describes a warm start: θ_0 made by Steps forward update maps of Rule from the initialisation of
// run seed Seed (itself a stored run), identified by the SHA-256 of θ_0 as float64 little-endian values.
type WarmUpConfig struct {
	Rule         RuleConfig `json:"rule"`
	Steps        int        `json:"steps"`
	Seed         uint64     `json:"seed"`
	Theta0SHA256 string     `json:"theta0_sha256"`
}

// ProblemConfig identifies a problem by its parts and by the SHA-256 of its data.
type ProblemConfig struct {
	Name        string        `json:"name"`
	Model       string        `json:"model"`
	Params      []ParamConfig `json:"params"`
	Loss        string        `json:"loss"`
	TrainSHA256 string        `json:"train_sha256"`
	TestSHA256  string        `json:"test_sha256,omitempty"`
	// Source, for synthetic problems, is the generator and its settings (problem.Source), from which the data and
	// the model can be built again; absent for data read from files.
	Source json.RawMessage `json:"source,omitempty"`
}

// ParamConfig is one parameter tensor of the model.
type ParamConfig struct {
	Name string `json:"name"`
	Dims []int  `json:"dims"`
}

// OrderConfig is a composition order and its settings (e.g. a window length).
type OrderConfig struct {
	Name     string         `json:"name"`
	Settings map[string]any `json:"settings,omitempty"`
}

// RuleConfig is an optimizer step rule and its hyper-parameters.
type RuleConfig struct {
	Name  string             `json:"name"`
	Hyper map[string]float64 `json:"hyper"`
}

// VectorSHA256 is the SHA-256 of a vector as float64 little-endian values, in hex: how WarmUpConfig identifies θ_0.
func VectorSHA256(v []float64) string {
	h := sha256.New()
	var b [8]byte
	for _, x := range v {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// NumParams is the length of the flat parameter vector.
func (c *Config) NumParams() int {
	n := 0
	for _, p := range c.Problem.Params {
		size := 1
		for _, d := range p.Dims {
			size *= d
		}
		n += size
	}
	return n
}

// encode returns the canonical JSON of the configuration (encoding/json sorts map keys).
func (c *Config) encode() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("runs: encoding the configuration: %w", err)
	}
	return append(b, '\n'), nil
}

// Hash returns the SHA-256 of the canonical JSON, in hex.
func (c *Config) Hash() (string, error) {
	b, err := c.encode()
	if err != nil {
		return "", err
	}
	return checksum(b), nil
}

// validate checks what the store relies on.
func (c *Config) validate() error {
	switch {
	case c.Problem.Name == "" || c.Order.Name == "":
		return fmt.Errorf("runs: the configuration needs a problem and an order name")
	case c.Steps <= 0 || c.BatchSize <= 0:
		return fmt.Errorf("runs: the configuration needs positive steps and batch size")
	case len(c.Evaluated) == 0:
		return fmt.Errorf("runs: the configuration has no evaluated steps")
	case c.DType != "float32" && c.DType != "float64":
		return fmt.Errorf("runs: dtype must be float32 or float64, got %q", c.DType)
	case c.Steps > maxElements || c.BatchSize > maxElements || len(c.Evaluated) > c.Steps:
		return fmt.Errorf("runs: %d steps of batches of %d with %d evaluated steps: not a configuration revsgd writes",
			c.Steps, c.BatchSize, len(c.Evaluated))
	}
	params := 0
	for _, p := range c.Problem.Params {
		size := 1
		for _, d := range p.Dims {
			if d <= 0 || size > maxElements/d {
				return fmt.Errorf("runs: parameter %q has dimensions %v: each must be positive, the size below 2⁴⁰",
					p.Name, p.Dims)
			}
			size *= d
		}
		if params += size; params > maxElements {
			return fmt.Errorf("runs: more than 2⁴⁰ parameters")
		}
	}
	if params == 0 {
		return fmt.Errorf("runs: the model has no parameters")
	}
	for _, n := range c.Evaluated {
		if n < 1 || n > c.Steps {
			return fmt.Errorf("runs: evaluated step %d outside [1, %d]", n, c.Steps)
		}
	}
	for _, m := range c.Metrics {
		if m == "" || m == "step" {
			return fmt.Errorf("runs: bad metric name %q", m)
		}
	}
	return nil
}

func (c *Config) npyDType() npyDType {
	if c.DType == "float64" {
		return npyFloat64
	}
	return npyFloat32
}

// dirName is the run's directory below the store root.
func (c *Config) dirName(hash string) string {
	return safeName(c.Problem.Name) + "/" + safeName(c.Order.Name) + "/seed-" + strconv.FormatUint(c.Seed, 10) + "-" + hash[:12]
}

// safeName keeps letters, digits, '-', '_' and '.', replacing anything else with '_', and puts '_' before a name
// of dots alone (or an empty one), so that no name leaves its directory ("..") or names it (".").
func safeName(s string) string {
	out := []byte(s)
	for i, ch := range out {
		ok := ch == '-' || ch == '_' || ch == '.' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
		if !ok {
			out[i] = '_'
		}
	}
	if strings.Trim(string(out), ".") == "" {
		return "_" + string(out)
	}
	return string(out)
}

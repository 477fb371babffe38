package runs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// The .npy format, version 1.0 (numpy's NEP 1): the magic "\x93NUMPY", the version bytes 1 and 0, a
// little-endian uint16 header length, then an ASCII Python dict literal
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } padded with spaces and a final newline so that the
// data starts at a multiple of 64 bytes, then the data in C order. numpy.load reads these files as they are.

// npyDType is an element type the store writes: "<f4", "<f8" or "<i4".
type npyDType string

const (
	npyFloat32 npyDType = "<f4"
	npyFloat64 npyDType = "<f8"
	npyInt32   npyDType = "<i4"
)

func (d npyDType) size() int {
	if d == npyFloat64 {
		return 8
	}
	return 4
}

// npyHeader returns the full header (magic to newline) for an array of the given type and shape.
func npyHeader(dtype npyDType, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtype, tuple)
	const prefix = 10 // magic (6) + version (2) + header length (2)
	total := (prefix + len(dict) + 1 + 63) / 64 * 64
	dict += strings.Repeat(" ", total-prefix-len(dict)-1) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(&buf, binary.LittleEndian, uint16(len(dict)))
	buf.WriteString(dict)
	return buf.Bytes()
}

var npyDictRE = regexp.MustCompile(`^\{'descr': '([<>|][a-z][0-9]+)', 'fortran_order': (True|False), 'shape': \(([0-9, ]*)\), \} *\n$`)

// npyInfo is a parsed header.
type npyInfo struct {
	dtype      npyDType
	shape      []int
	dataOffset int
}

// maxElements bounds the number of elements a header may announce (2⁴⁰, 8 TiB of float64), so that computing
// the size of the data cannot overflow.
const maxElements = 1 << 40

func (i npyInfo) elements() int {
	n := 1
	for _, d := range i.shape {
		n *= d
	}
	return n
}

// readNpyHeader parses the header of an .npy file written by the store; it names the file in any error.
func readNpyHeader(path string, r io.Reader) (npyInfo, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return npyInfo{}, fmt.Errorf("%s: not an .npy file (too short): %w", path, err)
	}
	if string(pre[:6]) != "\x93NUMPY" || pre[6] != 1 || pre[7] != 0 {
		return npyInfo{}, fmt.Errorf("%s: not a version 1.0 .npy file", path)
	}
	n := int(binary.LittleEndian.Uint16(pre[8:]))
	dict := make([]byte, n)
	if _, err := io.ReadFull(r, dict); err != nil {
		return npyInfo{}, fmt.Errorf("%s: truncated .npy header", path)
	}
	m := npyDictRE.FindSubmatch(dict)
	if m == nil {
		return npyInfo{}, fmt.Errorf("%s: unreadable .npy header %q", path, dict)
	}
	info := npyInfo{dtype: npyDType(m[1]), dataOffset: 10 + n}
	if info.dtype != npyFloat32 && info.dtype != npyFloat64 && info.dtype != npyInt32 {
		return npyInfo{}, fmt.Errorf("%s: unexpected element type %s", path, info.dtype)
	}
	if string(m[2]) != "False" {
		return npyInfo{}, fmt.Errorf("%s: Fortran order is not supported", path)
	}
	elements := 1
	for _, f := range strings.Split(string(m[3]), ",") {
		if f = strings.TrimSpace(f); f != "" {
			d, err := strconv.Atoi(f)
			if err != nil || d < 0 || d > 0 && elements > maxElements/d {
				return npyInfo{}, fmt.Errorf("%s: bad shape %q", path, m[3])
			}
			elements *= d
			info.shape = append(info.shape, d)
		}
	}
	return info, nil
}

// encode appends the little-endian bytes of values as dtype.
func encode(dst []byte, dtype npyDType, values []float64) []byte {
	for _, v := range values {
		switch dtype {
		case npyFloat64:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		case npyFloat32:
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v)))
		case npyInt32:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(int32(v)))
		}
	}
	return dst
}

// decode converts little-endian bytes of dtype to float64 values (exact for all three types).
func decode(src []byte, dtype npyDType) []float64 {
	size := dtype.size()
	out := make([]float64, len(src)/size)
	for i := range out {
		b := src[i*size:]
		switch dtype {
		case npyFloat64:
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
		case npyFloat32:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		case npyInt32:
			out[i] = float64(int32(binary.LittleEndian.Uint32(b)))
		}
	}
	return out
}

// npyFile returns the bytes of a whole .npy file holding values as dtype with the given shape.
func npyFile(dtype npyDType, shape []int, values []float64) []byte {
	return encode(npyHeader(dtype, shape), dtype, values)
}

// readNpy reads a whole array, checking that the file holds exactly what its header announces.
func readNpy(path string) (npyInfo, []float64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return npyInfo{}, nil, err
	}
	info, err := readNpyHeader(path, bytes.NewReader(raw))
	if err != nil {
		return npyInfo{}, nil, err
	}
	want := info.dataOffset + info.elements()*info.dtype.size()
	if len(raw) != want {
		return npyInfo{}, nil, fmt.Errorf("%s: %d bytes, but its header %v %s needs %d: the file is truncated or corrupted",
			path, len(raw), info.shape, info.dtype, want)
	}
	return info, decode(raw[info.dataOffset:], info.dtype), nil
}

package runs

import (
	"fmt"

	"github.com/revsgd/revsgd/internal/atomicfile"
)

// writeAtomic replaces path by data atomically (see atomicfile.Write).
func writeAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	return nil
}

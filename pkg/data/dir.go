package data

import (
	"os"
	"path/filepath"
)

// DirEnvVar names the data directory; the revsgd command's -data flag sets it too.
const DirEnvVar = "REVSGD_DATA"

// Dir returns the data directory where fetched data sets live: $REVSGD_DATA, else revsgd/datasets under the
// user's cache directory (~/.cache/revsgd/datasets on Linux).
func Dir() string {
	if d := os.Getenv(DirEnvVar); d != "" {
		return d
	}
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "revsgd", "datasets")
	}
	return filepath.Join(os.TempDir(), "revsgd-datasets")
}

// FetchCommand is the command that downloads a data set into Dir(), for error messages.
func FetchCommand(name string) string { return "go run ./cmd/revsgd fetch " + name }

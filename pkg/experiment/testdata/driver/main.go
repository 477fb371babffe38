// Command driver runs the experiment of the kill-and-resume test (experiment.KillTestSpec) against a run store,
// so that the test can kill a real process part-way.
//
//	driver STORE_DIR
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/runs"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: driver STORE_DIR")
		os.Exit(2)
	}
	b, err := compute.NewWithConfig(backend.GoConfig(""))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	spec, err := experiment.KillTestSpec(&runs.Store{Root: os.Args[1]})
	if err == nil {
		_, err = experiment.Run(context.Background(), b, spec)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

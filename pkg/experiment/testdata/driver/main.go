// Command driver runs the experiment of the kill-and-resume test (experiment.KillTestSpec) against a run store,
// so that the test can kill a real process part-way, on the backend revsgd chooses (as the test's own runs); with a shard "i/n", as shard i of n processes sharing the
// store (the sharding test).
//
//	driver STORE_DIR [i/n]
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/revsgd/revsgd/pkg/backend"
	"github.com/revsgd/revsgd/pkg/experiment"
	"github.com/revsgd/revsgd/pkg/runs"
)

func main() {
	if len(os.Args) != 2 && len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: driver STORE_DIR [i/n]")
		os.Exit(2)
	}
	choice, err := backend.New() // the backend the test itself runs on (backendtest.Default)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b := choice.Backend
	spec, runner, err := experiment.KillTestSpec(&runs.Store{Root: os.Args[1]})
	runner.Backend, runner.Devices = b, []experiment.Device{{Backend: b}}
	if err == nil && len(os.Args) == 3 {
		runner.Shard, err = experiment.ParseShard(os.Args[2])
	}
	if err == nil {
		var res *experiment.Result
		if res, err = runner.Run(context.Background(), spec); err == nil {
			fmt.Printf("applied %d\n", res.Stats.Applied)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

// Every `revsgd figure` command in the job templates and in docs/scaling.md uses flags the command has, with
// values it accepts: run with a figure that does not exist, each fails on the figure's name and on nothing before.
func TestScalingCommandsUseRealFlags(t *testing.T) {
	files, _ := filepath.Glob("../../deploy/*/*")
	files = append(files, "../../docs/scaling.md")
	command := regexp.MustCompile(`revsgd figure((?:[^\n]|\\\n)*)`)
	word := regexp.MustCompile(`^[A-Za-z/]+$`)
	placeholder := map[string]string{"-scale": "paper", "-shard": "2/4", "-runs": t.TempDir(), "-out": t.TempDir(),
		"-devices": "2"}
	found := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("\\\n", " ", "\n              ", " ").Replace(string(raw))
		for _, m := range command.FindAllStringSubmatch(text, -1) {
			fields := strings.Fields(strings.Trim(m[1], "`"))
			var args []string
			for i := 0; i < len(fields); i++ {
				name := fields[i]
				if !strings.HasPrefix(name, "-") || name == "-" {
					continue // the figure's name, or the tail of the line
				}
				value := strings.Trim(fields[min(i+1, len(fields)-1)], `"'`+"`")
				// Shell variables and placeholders (i/n, N, DIR) take a concrete value; so do directories.
				if v, ok := placeholder[name]; ok && (strings.Contains(value, "$") || word.MatchString(value) ||
					name == "-runs" || name == "-out") {
					value = v
				}
				args = append(args, name, value)
				i++
			}
			found++
			err := figureCmd(append(args, "no-such-figure"))
			if err == nil || !strings.Contains(err.Error(), "unknown figure") {
				t.Errorf("%s: `revsgd figure%s` → %v (want only the figure's name refused)", f, m[1], err)
			}
		}
	}
	if found < 6 {
		t.Errorf("found %d `revsgd figure` commands in the templates and docs/scaling.md; expected more", found)
	}
}

// The Kubernetes manifest decodes strictly into Kubernetes' own Job type (a misspelt or misplaced field is an
// error, as kubectl's server-side validation would make it), and its shard count agrees with the Job's.
func TestKubernetesManifestIsAValidJob(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/kubernetes/revsgd-shards.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(raw, &job); err != nil {
		t.Fatalf("the manifest is not a batch/v1 Job: %v", err)
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Errorf("apiVersion %q, kind %q", job.APIVersion, job.Kind)
	}
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Error("the Job is not Indexed: its pods would not get JOB_COMPLETION_INDEX")
	}
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Completions != *spec.Parallelism {
		t.Fatalf("completions %v and parallelism %v must be set and equal", spec.Completions, spec.Parallelism)
	}
	containers := spec.Template.Spec.Containers
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	args := strings.Join(containers[0].Args, " ")
	if want := fmt.Sprintf(`/%d"`, *spec.Completions); !strings.Contains(args, want) {
		t.Errorf("the command's -shard does not count %d shards (%s): %s", *spec.Completions, want, args)
	}
	mounted := map[string]bool{}
	for _, v := range spec.Template.Spec.Volumes {
		mounted[v.Name] = v.PersistentVolumeClaim != nil
	}
	for _, m := range containers[0].VolumeMounts {
		if !mounted[m.Name] {
			t.Errorf("volume mount %q names no persistent volume claim of the pod", m.Name)
		}
	}
	// Strictness is real: the same manifest with one field misspelt is refused.
	bad := strings.Replace(string(raw), "backoffLimitPerIndex:", "backoffLimitPerIndx:", 1)
	if err := yaml.UnmarshalStrict([]byte(bad), &batchv1.Job{}); err == nil {
		t.Error("a misspelt field was accepted")
	}
}

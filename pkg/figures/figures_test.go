package figures

import (
	"strings"
	"testing"
)

func TestScalesAndIDs(t *testing.T) {
	if _, err := ParseScale("huge"); err == nil || !strings.Contains(err.Error(), `"quick"`) {
		t.Errorf("unknown scale: %v", err)
	}
	if _, err := New("quadratic", "huge"); err == nil {
		t.Error("figure at an unknown scale accepted")
	}
	if _, err := New("nope", Quick); err == nil || !strings.Contains(err.Error(), "quadratic") {
		t.Errorf("unknown figure: %v", err)
	}
	for _, id := range IDs() {
		for _, s := range []Scale{Quick, Paper} {
			f, err := New(id, s)
			if err != nil || f.ID() != id || !strings.Contains(f.Settings(), string(s)) {
				t.Errorf("%s at %s: %v", id, s, err)
			}
		}
	}
}

func TestScaleFromEnv(t *testing.T) {
	t.Setenv(ScaleEnvVar, "paper")
	if ScaleFromEnv(Quick) != Paper {
		t.Error("REVSGD_SCALE=paper ignored")
	}
	t.Setenv(ScaleEnvVar, "")
	if ScaleFromEnv(Quick) != Quick {
		t.Error("empty REVSGD_SCALE should mean the default")
	}
	t.Setenv(ScaleEnvVar, "bogus")
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "bogus") {
			t.Errorf("bad REVSGD_SCALE: recovered %v", r)
		}
	}()
	ScaleFromEnv(Quick)
}

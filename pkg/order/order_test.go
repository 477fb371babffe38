package order

import (
	"slices"
	"strings"
	"testing"
)

func TestForwardPlanIsOneChain(t *testing.T) {
	plan := Forward{}.Plan([]int{2, 5})
	if len(plan) != 1 || !slices.Equal(plan[0].Steps, []int{1, 2, 3, 4, 5}) || plan[0].From != 0 {
		t.Fatalf("plan %+v", plan)
	}
	if err := Check(plan, []int{2, 5}); err != nil {
		t.Fatal(err)
	}
	if Cost(plan) != 5 {
		t.Errorf("cost %d", Cost(plan))
	}
}

func TestBackwardPlanReplaysNewestFirst(t *testing.T) {
	plan := Backward{}.Plan([]int{1, 3})
	if len(plan) != 2 || !slices.Equal(plan[1].Steps, []int{3, 2, 1}) || plan[1].Reports[0] != (Report{After: 3, Step: 3}) {
		t.Fatalf("plan %+v", plan)
	}
	if err := Check(plan, []int{1, 3}); err != nil {
		t.Fatal(err)
	}
	// A full backward curve to N costs N(N+1)/2 maps.
	all := make([]int, 100)
	for i := range all {
		all[i] = i + 1
	}
	if c := Cost(Backward{}.Plan(all)); c != 100*101/2 {
		t.Errorf("cost %d", c)
	}
}

func TestCheckFindsBadPlans(t *testing.T) {
	cases := []struct {
		name      string
		plan      []Replay
		evaluated []int
	}{
		{"report beyond the chain", []Replay{{Steps: []int{1}, Reports: []Report{{After: 2, Step: 1}}}}, []int{1}},
		{"start never computed", []Replay{{From: 4, Steps: []int{5}, Reports: []Report{{After: 1, Step: 5}}}}, []int{5}},
		{"step reported twice", []Replay{{Steps: []int{1}, Reports: []Report{{After: 1, Step: 1}, {After: 1, Step: 1}}}}, []int{1}},
		{"evaluated step missing", []Replay{{Steps: []int{1, 2}, Reports: []Report{{After: 2, Step: 2}}}}, []int{1, 2}},
	}
	for _, c := range cases {
		if err := Check(c.plan, c.evaluated); err == nil {
			t.Errorf("%s: the plan passed", c.name)
		}
	}
	if _, err := ByName("sideways"); err == nil {
		t.Error("unknown order accepted")
	}
}

func TestIntermittentPlan(t *testing.T) {
	plan := Intermittent{Resets: EveryW(3)}.Plan([]int{2, 5, 7})
	// Resets at 3 and 6: windows (0,3], (3,6], (6,7].
	want := []Replay{
		{From: 0, Steps: []int{2, 1}, Reports: []Report{{2, 2}}},
		{From: 0, Steps: []int{3, 2, 1}, Reports: []Report{{3, 3}}},
		{From: 3, Steps: []int{5, 4}, Reports: []Report{{2, 5}}},
		{From: 3, Steps: []int{6, 5, 4}, Reports: []Report{{3, 6}}},
		{From: 6, Steps: []int{7}, Reports: []Report{{1, 7}}},
	}
	if len(plan) != len(want) {
		t.Fatalf("plan %+v", plan)
	}
	for i := range want {
		if plan[i].From != want[i].From || !slices.Equal(plan[i].Steps, want[i].Steps) || !slices.Equal(plan[i].Reports, want[i].Reports) {
			t.Errorf("replay %d: %+v, want %+v", i, plan[i], want[i])
		}
	}
	if err := Check(plan, []int{2, 5, 7}); err != nil {
		t.Error(err)
	}
	// Every evaluated step costs at most W maps.
	all := make([]int, 300)
	for i := range all {
		all[i] = i + 1
	}
	for _, r := range (Intermittent{Resets: EveryW(10)}).Plan(all) {
		if len(r.Steps) > 10 {
			t.Fatalf("a replay of %d maps with W = 10", len(r.Steps))
		}
	}
	if got := (Intermittent{Resets: ResetAt{9, 4, 4, 20}}).Resets.Resets(10); !slices.Equal(got, []int{4, 9}) {
		t.Errorf("ResetAt resets %v", got)
	}
}

func TestSwitchPlan(t *testing.T) {
	plan := Switch{At: 4}.Plan([]int{2, 6, 8})
	if len(plan) != 3 || !slices.Equal(plan[0].Steps, []int{1, 2, 3, 4}) || !slices.Equal(plan[2].Steps, []int{8, 7, 6, 5}) || plan[2].From != 4 {
		t.Fatalf("plan %+v", plan)
	}
	if err := Check(plan, []int{2, 6, 8}); err != nil {
		t.Error(err)
	}
	if p := (Switch{At: 0}).Plan([]int{3}); len(p) != 1 || !slices.Equal(p[0].Steps, []int{3, 2, 1}) {
		t.Errorf("switch at 0 is not backward: %+v", p)
	}
	if p := (Switch{At: 9}).Plan([]int{3, 9}); len(p) != 1 || len(p[0].Steps) != 9 {
		t.Errorf("switch at n is not forward: %+v", p)
	}
	for _, name := range []string{"intermittent-w100", "switch-s1000"} {
		o, err := ByName(name)
		if err != nil || o.Name() != name {
			t.Errorf("ByName(%q) = %v, %v", name, o, err)
		}
	}
	if err := Validate(Intermittent{Resets: EveryW(0)}); err == nil {
		t.Error("a window of 0 accepted")
	}
	if err := Validate(Switch{At: -1}); err == nil {
		t.Error("a negative switch step accepted")
	}
}

// A name of a known form with a bad number says what is wrong with the number, not that the order is unknown.
func TestBadNumbersInOrderNames(t *testing.T) {
	for name, want := range map[string]string{"intermittent-w0": "window W", "intermittent-wx": "window W",
		"switch-s-3": "switch step S"} {
		if _, err := ByName(name); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "unknown") {
			t.Errorf("%s: %v, want an error about the %s", name, err, want)
		}
	}
}

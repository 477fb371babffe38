package order

import (
	"slices"
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

package evaluation

import (
	"slices"
	"testing"
)

func TestSchedules(t *testing.T) {
	cases := []struct {
		s    Plan
		n    int
		want []int
	}{
		{Every(1), 4, []int{1, 2, 3, 4}},
		{Every(3), 10, []int{3, 6, 9, 10}},
		{Every(5), 10, []int{5, 10}},
		{Every(20), 10, []int{10}},
		{LogSpaced(4), 1000, []int{1, 10, 100, 1000}},
		{LogSpaced(10), 5, []int{1, 2, 3, 4, 5}},
		{List{9, 2, 5}, 10, []int{2, 5, 9}},
	}
	for _, c := range cases {
		got, err := c.s.Steps(c.n)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%v.Steps(%d) = %v, %v; want %v", c.s, c.n, got, err, c.want)
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, c := range []struct {
		s Plan
		n int
	}{{Every(0), 10}, {Every(-2), 10}, {LogSpaced(1), 10}, {List{}, 10}, {List{0}, 10}, {List{11}, 10}, {List{3, 3}, 10}, {Every(1), 0}} {
		if _, err := c.s.Steps(c.n); err == nil {
			t.Errorf("%v.Steps(%d): no error", c.s, c.n)
		}
	}
}

package store

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkTasksOf: one group's tasks among 100 groups with 50 tasks each
// (what the portal's list and the calendar provider ask per view).
func BenchmarkTasksOf(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	if _, err := s.CreateAccount(Account{First: "T", Last: "T", Role: "teacher"}, func(int) string { return "t.t" }); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for g := range 100 {
		name := fmt.Sprintf("g%02d", g)
		if err := s.CreateGroup(Group{Name: name, Teachers: []string{"t.t"}}); err != nil {
			b.Fatal(err)
		}
		for i := range 50 {
			if _, err := s.CreateTask(Task{Group: name, Title: fmt.Sprintf("Aufgabe %d", i), Text: "Text der Aufgabe",
				Creator: "t.t", Created: now, Due: now.Add(time.Duration(i) * time.Hour), Announced: true}, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		ts, err := s.TasksOf([]string{"g42"})
		if err != nil || len(ts) != 50 {
			b.Fatalf("%d %v", len(ts), err)
		}
	}
}

package teststore

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// TestCopiesAreMigratedAndIndependent: every store is a copy of the migrated
// template, so each is usable at once, and what one test writes is not seen
// by the next one's copy.
func TestCopiesAreMigratedAndIndependent(t *testing.T) {
	ctx := context.Background()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			first := b.Open(t)
			d := store.Department{ID: "dep-1", Name: "某局", USCC: "11100000000013338W", Level: "省级",
				CertificateTypes: []string{"A"}, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			if err := first.CreateDepartment(ctx, d); err != nil {
				t.Fatal(err)
			}
			if got, err := first.ListDepartments(ctx, "", 10); err != nil || len(got) != 1 {
				t.Fatalf("first store: %d departments, %v; want 1", len(got), err)
			}
			second := b.Open(t)
			if got, err := second.ListDepartments(ctx, "", 10); err != nil || len(got) != 0 {
				t.Fatalf("second store: %d departments, %v; want none (a copy of the template, not of the first store)", len(got), err)
			}
		})
	}
}

// TestOwnerAlive: only databases of processes that have exited are swept.
func TestOwnerAlive(t *testing.T) {
	if !ownerAlive(testDatabaseName()) {
		t.Error("this process's database counted as left behind")
	}
	for _, name := range []string{"suishen_t_0a1b2c3d4e5f", "suishen_tpl_0123", "suishen_t_x_1", "other_1_2"} {
		if !ownerAlive(name) {
			t.Errorf("%s (not named by this package) counted as left behind", name)
		}
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("cannot start a process: %v", err)
	}
	if name := fmt.Sprintf("suishen_t_%d_0a1b2c", cmd.Process.Pid); ownerAlive(name) {
		t.Errorf("%s: its process has exited, but it counted as running", name)
	}
}

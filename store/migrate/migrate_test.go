package migrate_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sprocketrun/sprocket/store/migrate"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr string
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A"), "m/README": file("x")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, nil, "0003_c.sql: version 3, want 2"},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0001_b.sql": file("B")}, nil, "want 2"},
		{"bad name", fstest.MapFS{"m/first.sql": file("A")}, nil, "first.sql: name must be"},
		{"empty file", fstest.MapFS{"m/0001_a.sql": file("  \n")}, nil, "0001_a.sql is empty"},
		{"no files", fstest.MapFS{"m/x.txt": file("A")}, nil, "no migrations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := migrate.Load(tc.files, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tc.want) || got[0] != tc.want[0] || got[len(got)-1] != tc.want[len(tc.want)-1] {
				t.Fatalf("versions = %v, want %v", got, tc.want)
			}
			if ms[0].SQL != "A" {
				t.Fatalf("first SQL = %q", ms[0].SQL)
			}
		})
	}
}

func TestPending(t *testing.T) {
	all := []migrate.Migration{{Version: 1}, {Version: 2}, {Version: 3}}
	tests := []struct {
		current int
		want    int
		tooNew  bool
	}{
		{0, 3, false}, {1, 2, false}, {3, 0, false}, {4, 0, true},
	}
	for _, tc := range tests {
		p, err := migrate.Pending(all, tc.current)
		if tc.tooNew {
			if !errors.Is(err, migrate.ErrSchemaTooNew) {
				t.Fatalf("Pending(%d) = %v, want ErrSchemaTooNew", tc.current, err)
			}
			continue
		}
		if err != nil || len(p) != tc.want {
			t.Fatalf("Pending(%d) = %d migrations, %v; want %d", tc.current, len(p), err, tc.want)
		}
		if tc.want > 0 && p[0].Version != tc.current+1 {
			t.Fatalf("Pending(%d) starts at %d", tc.current, p[0].Version)
		}
	}
}

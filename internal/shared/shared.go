// Package shared locates the project's read-only shared material (the
// Liquid test corpora and the Mechanic task library), which lives in a
// folder named shared beside the repository checkout.
package shared

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir returns the shared folder: $SPROCKET_SHARED when set, else the folder
// "shared" beside the module root found by walking up from the working
// directory. It fails when neither exists.
func Dir() (string, error) {
	if d := os.Getenv("SPROCKET_SHARED"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("SPROCKET_SHARED: %w", err)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("shared: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(d); err != nil {
				return "", fmt.Errorf("shared folder beside the checkout: %w", err)
			}
			return filepath.Clean(d), nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("shared: no go.mod above %s", wd)
		}
	}
}

// Path joins elems to the shared folder.
func Path(elems ...string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{d}, elems...)...), nil
}

// Required reports whether tests must fail, rather than skip, when the
// shared material is missing: in CI (CI=true) or with SPROCKET_REQUIRE_CORPUS=1.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("SPROCKET_REQUIRE_CORPUS") == "1"
}

// TB is the part of testing.TB that For needs.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// For returns the path of elems inside the shared folder for a test or
// benchmark, skipping it when the material is missing (failing it when
// Required).
func For(t TB, elems ...string) string {
	t.Helper()
	p, err := Path(elems...)
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		if Required() {
			t.Fatalf("shared test material missing: %v", err)
		}
		t.Skipf("shared test material not available: %v", err)
	}
	return p
}

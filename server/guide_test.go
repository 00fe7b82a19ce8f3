package server

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// guideTools are the programs the API guide's examples use.
var guideTools = []string{"bash", "curl", "jq", "openssl"}

// TestAPIGuide runs every sh block of docs/api.md, in order, as one bash
// script (set -euo pipefail) against a live `sprocket serve`: each curl
// example must succeed and its checks (jq -e, expected status codes) hold.
func TestAPIGuide(t *testing.T) {
	for _, tool := range guideTools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is needed for the API guide test (CI=true)", tool)
			}
			t.Skipf("%s not installed; the API guide examples need %v", tool, guideTools)
		}
	}
	raw, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	if len(blocks) < 8 {
		t.Fatalf("found %d sh blocks in docs/api.md", len(blocks))
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, b := range blocks {
		script.WriteString(b[1])
		script.WriteString("\n")
	}
	for _, topic := range []string{"mechanic/user/trigger", "mechanic/scheduler/daily", "/v1/cache_endpoints", "/v1/secrets/", "/retry", "openssl dgst -sha256 -hmac"} {
		if !strings.Contains(script.String(), topic) {
			t.Errorf("the guide has no example with %q", topic)
		}
	}
	bin := buildBinary(t)
	p := startServe(t, bin, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "SPROCKET_URL="+p.base, "SPROCKET_API_TOKEN="+testToken)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the guide's examples failed: %v\n%s\nserver log:\n%s", err, out, p.logTail())
	}
	for _, want := range []string{`"warnings": []`, "\n3\n", `"data": "hi there"`, "cannot be retried: the task run succeeded and produced actions"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the examples' output lacks %q:\n%s", want, out)
		}
	}
	p.stop()
}

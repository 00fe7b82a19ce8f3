package ftp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/sprocketrun/sprocket/action"
	ftpaction "github.com/sprocketrun/sprocket/action/ftp"
	"github.com/sprocketrun/sprocket/liquid/value"
)

func opts(t *testing.T, m map[string]any) *value.Map {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	v, err := value.FromJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*value.Map)
}

func perform(t *testing.T, p *ftpaction.Performer, o *value.Map, secrets action.SecretResolver) (*value.Map, error) {
	t.Helper()
	if err := p.Validate(o); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := p.Perform(ctx, action.Request{Type: ftpaction.Type, Options: o, RunID: "r1", Attempt: 1, Secrets: secrets})
	if err != nil {
		return nil, err
	}
	if err := action.CheckJSON(res.Value); err != nil {
		t.Fatalf("result is not JSON: %v", err)
	}
	return res.Value.(*value.Map), nil
}

func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(*value.Map)
		if !ok {
			return nil
		}
		v, _ = m.Get(k)
	}
	return v
}

// target is one server set-up the round trip runs against.
type target struct {
	name string
	opts map[string]any
	read func(t *testing.T, path string) []byte
	put  func(t *testing.T, path string, data []byte)
}

func targets(t *testing.T) []target {
	ftpPort, ftpFS, _ := startFTP(t, false)
	ftpsPort, ftpsFS, _ := startFTP(t, true)
	s := startSFTP(t)
	memRead := func(fs afero.Fs) func(*testing.T, string) []byte {
		return func(t *testing.T, p string) []byte { return readFile(t, fs, "/"+strings.TrimPrefix(p, "/")) }
	}
	memPut := func(fs afero.Fs) func(*testing.T, string, []byte) {
		return func(t *testing.T, p string, data []byte) {
			if err := afero.WriteFile(fs, "/"+p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	diskRead := func(t *testing.T, p string) []byte { return readDisk(t, filepath.Join(s.dir, p)) }
	diskPut := func(t *testing.T, p string, data []byte) {
		if err := os.WriteFile(filepath.Join(s.dir, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return []target{
		{"ftp", map[string]any{"host": "127.0.0.1", "port": ftpPort, "user": "alice", "password": "s3cret"}, memRead(ftpFS), memPut(ftpFS)},
		{"ftp ascii mode", map[string]any{"protocol": "ftp", "host": "127.0.0.1", "port": ftpPort, "user": "alice", "password": "s3cret", "mode": "ascii"}, memRead(ftpFS), memPut(ftpFS)},
		{"ftps", map[string]any{"protocol": "ftps", "host": "127.0.0.1", "port": ftpsPort, "user": "alice", "password": "s3cret", "verify": false}, memRead(ftpsFS), memPut(ftpsFS)},
		{"sftp password", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": s.port, "user": "alice", "password": "s3cret"}, diskRead, diskPut},
		{"sftp key", map[string]any{"host": "127.0.0.1", "port": s.port, "user": "alice", "private_key_pem": s.clientKey}, diskRead, diskPut},
		{"sftp key pinned", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": s.port, "user": "alice", "private_key_pem": s.clientKey, "verify": true, "known_hosts": s.knownHosts}, diskRead, diskPut},
	}
}

func TestRoundTrip(t *testing.T) {
	binary := make([]byte, 300<<10)
	for i := range binary {
		binary[i] = byte(i*7 + i>>8)
	}
	p := ftpaction.New(ftpaction.Config{Network: allowLoopback})
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			text := "Title,SKU\nRed T-Shirt,TEE-R\n"
			if tg.opts["mode"] == "ascii" {
				text = "line one\nline two\n"
			}
			o := map[string]any{}
			for k, v := range tg.opts {
				o[k] = v
			}
			o["uploads"] = map[string]any{
				"table.csv":          text,
				"blob.bin":           map[string]any{"base64": base64.StdEncoding.EncodeToString(binary)},
				"nested/dir/one.txt": "nested",
			}
			o["downloads"] = []any{"table.csv", "blob.bin", "nested/dir/one.txt", "preexisting.dat"}
			tg.put(t, "preexisting.dat", []byte{0xff, 0xfe, 'h', 'i'})
			res, err := perform(t, p, opts(t, o), nil)
			if err != nil {
				t.Fatal(err)
			}
			// On the server, byte for byte.
			if got := tg.read(t, "table.csv"); string(got) != text {
				t.Errorf("server table.csv = %q", got)
			}
			if got := tg.read(t, "blob.bin"); !bytes.Equal(got, binary) && tg.opts["mode"] != "ascii" {
				t.Errorf("server blob.bin differs (%d bytes, want %d)", len(got), len(binary))
			}
			if got := tg.read(t, "nested/dir/one.txt"); string(got) != "nested" {
				t.Errorf("server nested file = %q", got)
			}
			// In the result, as documented.
			if got := strings.Join(res.Keys(), ","); got != "log,uploads,downloads" {
				t.Errorf("result keys = %s", got)
			}
			if s := get(res, "uploads", "blob.bin", "size"); s != int64(len(binary)) {
				t.Errorf("uploads.blob.bin.size = %v", s)
			}
			if s := get(res, "uploads", "table.csv", "size"); s != int64(len(text)) {
				t.Errorf("uploads.table.csv.size = %v", s)
			}
			if d := get(res, "downloads", "table.csv", "data"); d != text {
				t.Errorf("downloads.table.csv.data = %q", d)
			}
			if tg.opts["mode"] != "ascii" {
				b64, _ := get(res, "downloads", "blob.bin", "data_base64").(string)
				got, _ := base64.StdEncoding.DecodeString(b64)
				if !bytes.Equal(got, binary) {
					t.Errorf("downloaded blob.bin differs (%d bytes)", len(got))
				}
			}
			if d := get(res, "downloads", "preexisting.dat", "data_base64"); d != base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 'h', 'i'}) {
				t.Errorf("preexisting.dat data_base64 = %v", d)
			}
			if d := get(res, "downloads", "preexisting.dat", "data"); d != "\uFFFDhi" {
				t.Errorf("preexisting.dat data = %q, want invalid UTF-8 replaced", d)
			}
			if s := get(res, "downloads", "preexisting.dat", "size"); s != int64(4) {
				t.Errorf("preexisting.dat size = %v", s)
			}
			log, _ := get(res, "log").(string)
			if strings.Contains(log, "s3cret") || strings.Contains(log, "alice") || strings.Contains(log, "PRIVATE KEY") {
				t.Errorf("log exposes credentials:\n%s", log)
			}
			if !strings.Contains(log, "table.csv") {
				t.Errorf("log does not mention the transfers:\n%s", log)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	ftpPort, _, _ := startFTP(t, false)
	ftpsPort, _, _ := startFTP(t, true)
	s := startSFTP(t)
	other := startSFTP(t) // a different host key
	closed := closedPort(t)
	p := ftpaction.New(ftpaction.Config{Network: allowLoopback})
	up := map[string]any{"a.txt": "a"}
	tests := []struct {
		name string
		opts map[string]any
		want string
		kind action.Kind
	}{
		{"ftp wrong password", map[string]any{"host": "127.0.0.1", "port": ftpPort, "user": "alice", "password": "nope", "uploads": up}, "login refused", action.KindFailed},
		{"ftps wrong password", map[string]any{"protocol": "ftps", "host": "127.0.0.1", "port": ftpsPort, "user": "alice", "password": "nope", "verify": false, "uploads": up}, "login refused", action.KindFailed},
		{"ftps self-signed certificate", map[string]any{"protocol": "ftps", "host": "127.0.0.1", "port": ftpsPort, "user": "alice", "password": "s3cret", "uploads": up}, "TLS certificate verification failed", action.KindFailed},
		{"ftp plain to a TLS-only server", map[string]any{"host": "127.0.0.1", "port": ftpsPort, "user": "alice", "password": "s3cret", "uploads": up}, "TLS is required", action.KindTransient}, // 421: the server's reply says try later
		{"ftp missing download", map[string]any{"host": "127.0.0.1", "port": ftpPort, "user": "alice", "password": "s3cret", "downloads": []any{"missing.txt"}}, "download missing.txt", action.KindFailed},
		{"ftp unreachable", map[string]any{"host": "127.0.0.1", "port": closed, "user": "alice", "password": "x", "uploads": up}, "connection refused", action.KindTransient},
		{"sftp wrong password", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": s.port, "user": "alice", "password": "nope", "uploads": up}, "login refused", action.KindFailed},
		{"sftp unknown key", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": s.port, "user": "alice", "private_key_pem": other.clientKey, "uploads": up}, "login refused", action.KindFailed},
		{"sftp host key mismatch", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": s.port, "user": "alice", "password": "s3cret", "verify": true, "known_hosts": strings.Replace(other.knownHosts, itoa(other.port), itoa(s.port), 1), "uploads": up}, "does not match known_hosts", action.KindFailed},
		{"sftp host not in known_hosts", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": s.port, "user": "alice", "password": "s3cret", "verify": true, "known_hosts": other.knownHosts, "uploads": up}, "not listed in known_hosts", action.KindFailed},
		{"sftp missing download", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": s.port, "user": "alice", "password": "s3cret", "downloads": []any{"missing.txt"}}, "download missing.txt", action.KindFailed},
		{"sftp unreachable", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": closed, "user": "alice", "password": "x", "uploads": up}, "connection refused", action.KindTransient},
		{"bad private key", map[string]any{"protocol": "sftp", "host": "127.0.0.1", "port": s.port, "user": "alice", "private_key_pem": "-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n-----END OPENSSH PRIVATE KEY-----", "uploads": up}, "private_key_pem: cannot read the key", action.KindFailed},
		// Validation.
		{"no host", map[string]any{"user": "u", "uploads": up}, `option "host": is required`, action.KindInvalid},
		{"no user", map[string]any{"host": "h", "uploads": up}, `option "user": is required`, action.KindInvalid},
		{"bad protocol", map[string]any{"protocol": "scp", "host": "h", "user": "u", "uploads": up}, `option "protocol"`, action.KindInvalid},
		{"bad port", map[string]any{"host": "h", "port": 70000, "user": "u", "uploads": up}, `option "port"`, action.KindInvalid},
		{"bad mode", map[string]any{"host": "h", "user": "u", "mode": "ebcdic", "uploads": up}, `option "mode"`, action.KindInvalid},
		{"nothing to do", map[string]any{"host": "h", "user": "u"}, "give uploads, downloads or both", action.KindInvalid},
		{"bad generator", map[string]any{"host": "h", "user": "u", "uploads": map[string]any{"a": map[string]any{"nope": 1}}}, `option "uploads.a.nope"`, action.KindInvalid},
		{"downloads not array", map[string]any{"host": "h", "user": "u", "downloads": "a.txt"}, `option "downloads"`, action.KindInvalid},
		{"verify without known_hosts", map[string]any{"protocol": "sftp", "host": "h", "user": "u", "verify": true, "uploads": up}, `option "known_hosts"`, action.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := perform(t, p, opts(t, tt.opts), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
			if k := action.Classify(err); k != tt.kind {
				t.Errorf("kind = %v, want %v (%v)", k, tt.kind, err)
			}
			if pw, _ := tt.opts["password"].(string); pw != "" && strings.Contains(err.Error(), pw) && pw != "x" {
				t.Errorf("error exposes the password: %v", err)
			}
		})
	}
}

func TestDownloadLimit(t *testing.T) {
	port, fs, _ := startFTP(t, false)
	big := make([]byte, ftpaction.MaxDownloadBytes/2+1)
	for _, name := range []string{"/a.bin", "/b.bin"} {
		if err := afero.WriteFile(fs, name, big, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := ftpaction.New(ftpaction.Config{Network: allowLoopback})
	o := map[string]any{"host": "127.0.0.1", "port": port, "user": "alice", "password": "s3cret"}
	o["downloads"] = []any{"a.bin"}
	if _, err := perform(t, p, opts(t, o), nil); err != nil {
		t.Fatalf("one file under the limit: %v", err)
	}
	o["downloads"] = []any{"a.bin", "b.bin"}
	_, err := perform(t, p, opts(t, o), nil)
	if err == nil || !strings.Contains(err.Error(), "exceed the limit of 20971520 bytes") || action.Classify(err) != action.KindFailed {
		t.Fatalf("two files over the limit: err = %v", err)
	}
}

// secrets resolves "SECRET:name" strings and redacts the values.
type secrets map[string]string

func (s secrets) Resolve(_ context.Context, v any) (any, bool, error) {
	str, ok := v.(string)
	if !ok || !strings.HasPrefix(str, "SECRET:") {
		return v, false, nil
	}
	return s[strings.TrimPrefix(str, "SECRET:")], true, nil
}

func (s secrets) Redact(text string) string {
	for _, v := range s {
		text = strings.ReplaceAll(text, v, "[redacted]")
	}
	return text
}

func TestSecrets(t *testing.T) {
	port, fs, _ := startFTP(t, false)
	if err := afero.WriteFile(fs, "/in.txt", []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := ftpaction.New(ftpaction.Config{Network: allowLoopback})
	sec := secrets{"pw": "s3cret", "user": "alice"}
	o := map[string]any{"host": "127.0.0.1", "port": port, "user": "SECRET:user", "password": "SECRET:pw",
		"uploads": map[string]any{"SECRET:pw.txt": "SECRET:pw"}, "downloads": []any{"in.txt"}}
	res, err := perform(t, p, opts(t, o), sec)
	if err != nil {
		t.Fatal(err)
	}
	// Only connection fields are resolved: the path and content keep the placeholder.
	if got := readFile(t, fs, "/SECRET:pw.txt"); string(got) != "SECRET:pw" {
		t.Errorf("uploaded content = %q", got)
	}
	if d := get(res, "downloads", "in.txt", "data_base64"); d != ftpaction.RedactedValue {
		t.Errorf("data_base64 = %v, want redacted", d)
	}
	if d := get(res, "downloads", "in.txt", "data"); d != "data" {
		t.Errorf("data = %v", d)
	}
	o["password"] = "SECRET:wrong"
	sec["wrong"] = "hunter2-wrong"
	_, err = perform(t, p, opts(t, o), sec)
	if err == nil || strings.Contains(err.Error(), "hunter2-wrong") || strings.Contains(err.Error(), "alice") || action.Classify(err) != action.KindFailed {
		t.Errorf("err = %v, want a failure without secret values", err)
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSilentServer: a server that accepts connections and says nothing
// makes the action time out, as a transient failure.
func TestSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	p := ftpaction.New(ftpaction.Config{Network: allowLoopback, Timeout: 500 * time.Millisecond})
	for _, proto := range []string{"ftp", "sftp"} {
		t.Run(proto, func(t *testing.T) {
			start := time.Now()
			_, err := perform(t, p, opts(t, map[string]any{"protocol": proto, "host": "127.0.0.1", "port": port, "user": "u", "password": "p", "uploads": map[string]any{"a": "a"}}), nil)
			if err == nil || action.Classify(err) != action.KindTransient {
				t.Fatalf("err = %v (%v), want transient", err, action.Classify(err))
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("gave up after %s: the 500ms action timeout does not bound the session", d)
			}
		})
	}
}

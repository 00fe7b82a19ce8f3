package filters

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCodecAndDigestFilters(t *testing.T) {
	c := newCtx(t, "UTC")
	pkcs1, err := os.ReadFile("testdata/rsa_pkcs1.pem")
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := os.ReadFile("testdata/rsa_pkcs8.pem")
	if err != nil {
		t.Fatal(err)
	}
	// Signatures of "header.payload" by ruby -ropenssl (PKCS #1 v1.5 is deterministic).
	const sig256 = "34e7709a9bf274f905838bf4c8903b2bff18eebd3632989cccdd98d2eb7fcba38884a56b53ce6d5170ed30d8ad333170489fc9cff807cdd89db7f2947c4574c72e4c510998d5dd82e74398db2f178dc5d6537d7e679bf38c75c294b440b60f3c0d6ed7b70231e1229b8eaf263705e8d6be353ad324eaa947de3bcd47dfbbe6cb"
	const sig512 = "af7c6b25978e506e43b77c6462ee798c959351fc59a9fab41c79b95dd6cac4d8151feb2f26f7c1187d802cef0bebb15175bce16e4b94b3254d9c53a07351ca3bc5118926d7eaa54bd81d65d4d0b9cc6bfc970166082cec51eab70ad0e595255c4d767b146f314e2fcf456a3d5e0593052ef9229a6e7a6bc8e3dbb623af7cb58c"
	cases := []filterCase{
		// Deprecated "base64" / "decode_base64" (platform/liquid/filters/deprecated.md);
		// "gzip, gunzip" example in platform/liquid/filters/README.md.
		{name: "base64", filter: "base64", input: "user:pass", want: `"dXNlcjpwYXNz"`},
		{name: "decode_base64", filter: "decode_base64", input: "dXNlcjpwYXNz", want: `"user:pass"`},
		{name: "decode_base64 force_utf8 false", filter: "decode_base64", input: "aGVsbG8=", kw: kw("force_utf8", false), want: `"hello"`},
		// Ruby Base64.decode64 leniency (ruby -rbase64).
		{name: "decode_base64 line breaks", filter: "decode_base64", input: "aGVs\nbG8=", want: `"hello"`},
		{name: "decode_base64 junk", filter: "decode_base64", input: "!!", want: `""`},
		{name: "decode_base64 unpadded", filter: "decode_base64", input: "aGVsbG8", want: `"hello"`},
		{name: "decode_base64 stops at padding", filter: "decode_base64", input: "aGVsbA==aGk=", want: `"hell"`},
		{name: "decode_base64 skips url-safe chars", filter: "decode_base64", input: "aGVsbG8-_w", want: `"hello0"`},
		{name: "decode_base64url invalid", filter: "decode_base64url", input: "a!b", err: "invalid base64"},
		{name: "decode_base64 array", filter: "decode_base64", input: js(t, `[1]`), err: "expected a string, got Array"},
		// Base64.urlsafe_encode64 (ruby -rbase64).
		{name: "base64url", filter: "base64url", input: "?~?>", want: `"P34_Pg=="`},
		{name: "decode_base64url unpadded", filter: "decode_base64url", input: "P34_Pg", want: `"?~?>"`},
		// platform/liquid/filters/README.md "gzip, gunzip": "H4sIANAafl8…" | decode_base64 | gunzip => "hello world".
		{name: "gunzip doc example", filter: "gunzip", input: mustB64(t, "H4sIANAafl8AA8tIzcnJVyjPL8pJAQCFEUoNCwAAAA=="), want: `"hello world"`},
		// Same section: the "slow" example (curly quotes) gunzips to UTF-8 text.
		{name: "gunzip doc utf8 example", filter: "gunzip", input: mustB64(t, "H4sIACP1fV8AAyvPSCxRSMlPLVbILFHITU3MUyjJV0hKVXjUMKc4J7/8UcNcewAYP+lTIwAAAA=="),
			want: `"what does it mean to be “slow”?"`},
		{name: "gunzip not gzip", filter: "gunzip", input: "plain", err: "not in gzip format"},
		{name: "gunzip truncated", filter: "gunzip", input: mustB64(t, "H4sIANAafl8AA8tIzcnJVyjPL8pJAQCFEUoN"), err: "gunzip:"},

		// Shopify digests, values from ruby -rdigest and the docs' "sha256, hmac_sha1, hmac_sha256" section (filters.md history).
		{name: "md5", filter: "md5", input: "mechanic", want: `"bcd8b14bbfc1b0ae7a5aa060af713d6e"`},
		// Arrays and hashes hash their Ruby to_s (ruby -rdigest -e 'puts Digest::MD5.hexdigest([1234, 5678].to_s)').
		{name: "md5 array", filter: "md5", input: []any{int64(1234), int64(5678)}, want: `"8175f8deb16f76ae7f663c783f40e10d"`},
		{name: "sha256 hash", filter: "sha256", input: js(t, `{"a":1}`), want: `"84e5300c57f217e5e3a5308355121714e9a7d0454df4a39bfc6741149172952f"`},
		{name: "sha1", filter: "sha1", input: "mechanic", want: `"527072a5969c32325278d9f0cdaebc693b51bd9f"`},
		{name: "sha256 doc", filter: "sha256", input: "mechanic", want: `"6c8a739536961bcf34dccc343908406d48139344da4754d4cfe43dcf8d662607"`},
		{name: "sha512", filter: "sha512", input: "mechanic", want: `"273a59b33c7bcaf0f212157fd37e5ada0b68cd6d5c09633a4ac3cb331d6519421a841ab2501fba23fafba6d1dee009271ed42913b2aa2aad2ff1391b8f2094bb"`},
		{name: "hmac_sha1 doc", filter: "hmac_sha1", input: "mechanic", args: []any{"sincerely"}, want: `"0425a4dbbe0588be87fb51b5706c2244401bc73a"`},
		{name: "hmac_sha256 doc", filter: "hmac_sha256", input: "mechanic", args: []any{"sincerely"}, want: `"4b8e2bcf66f95b21f74f491eacc1459b0c9ea6723355174af52ded391f9326ea"`},
		{name: "hmac_sha512", filter: "hmac_sha512", input: "mechanic", args: []any{"sincerely"}, want: `"90954e30c53c96ac38c829a0bdb159bdd5be03617c716b23419b7469c24ffb2f88e494daf3f62e4b136b178b4a4f2488dc0c2941273b4bf8e71347f3ba041bd6"`},
		{name: "hmac with secret key", filter: "hmac_sha1", input: "mechanic", args: []any{fakeSecret("sincerely")}, want: `"0425a4dbbe0588be87fb51b5706c2244401bc73a"`},
		{name: "hmac missing key", filter: "hmac_sha256", input: "x", err: "wrong number of arguments (given 1, expected 2)"},
		{name: "hmac nil key", filter: "hmac_sha256", input: "x", args: []any{nil}, err: "key is missing"},
		{name: "rsa_sha256 pkcs1", filter: "rsa_sha256", input: "header.payload", args: []any{string(pkcs1)}, want: `"` + sig256 + `"`},
		{name: "rsa_sha256 pkcs8", filter: "rsa_sha256", input: "header.payload", args: []any{string(pkcs8)}, want: `"` + sig256 + `"`},
		{name: "rsa_sha512", filter: "rsa_sha512", input: "header.payload", args: []any{string(pkcs1)}, want: `"` + sig512 + `"`},
		{name: "rsa bad key", filter: "rsa_sha256", input: "x", args: []any{"not a key"}, err: "invalid PEM private key"},
	}
	runCases(t, c, cases)

	// The docs' AWS signature chain uses binary: true keys
	// (filters.md "sha256, hmac_sha1, hmac_sha256", history of platform/liquid/filters).
	step := func(input, key string, binary bool) string {
		var opts = kw("binary", binary)
		out, err := call(t, c, "hmac_sha256", input, []any{key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return out.(string)
	}
	kDate := step("20150830", "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", true)
	kRegion := step("us-east-1", kDate, true)
	kService := step("iam", kRegion, true)
	if got := step("aws4_request", kService, false); got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Fatalf("aws signing key chain = %s", got)
	}

	// gzip round trip; the header carries the render time and Unix as OS,
	// like the docs' "hello world" | gzip | base64 example.
	gz, err := call(t, c, "gzip", "hello world", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := gzip.NewReader(strings.NewReader(gz.(string)))
	if err != nil {
		t.Fatal(err)
	}
	if !r.ModTime.Equal(c.now.Truncate(time.Second)) || r.OS != 3 {
		t.Fatalf("gzip header: mtime %v os %d", r.ModTime, r.OS)
	}
	back, err := call(t, c, "gunzip", gz, nil, nil)
	if err != nil || back != "hello world" {
		t.Fatalf("gunzip(gzip) = %v, %v", back, err)
	}
}

func TestGunzipSizeCap(t *testing.T) {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(make([]byte, MaxGunzipSize+1)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := call(t, newCtx(t, "UTC"), "gunzip", buf.String(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "output exceeds") {
		t.Fatalf("want size cap error, got %v", err)
	}
}

func TestSigningFiltersResolveSecretReferences(t *testing.T) {
	c := newCtx(t, "UTC")
	c.ctx = WithSecrets(c.ctx, fakeSource{"[secret:signing_key]": "sincerely"})
	// The docs' hmac_sha1 value for key "sincerely" (filters.md history).
	got, err := call(t, c, "hmac_sha1", "mechanic", []any{"[secret:signing_key]"}, nil)
	if err != nil || got != "0425a4dbbe0588be87fb51b5706c2244401bc73a" {
		t.Fatalf("hmac with secret reference = %v, %v", got, err)
	}
	// Strings that are not references are used as they are.
	got, err = call(t, c, "hmac_sha1", "mechanic", []any{"sincerely"}, nil)
	if err != nil || got != "0425a4dbbe0588be87fb51b5706c2244401bc73a" {
		t.Fatalf("hmac with plain key = %v, %v", got, err)
	}
	// Other filters see only the reference: sha1 hashes the reference text.
	withRef, _ := call(t, c, "sha1", "[secret:signing_key]", nil, nil)
	plain, _ := call(t, newCtx(t, "UTC"), "sha1", "[secret:signing_key]", nil, nil)
	raw, _ := call(t, c, "sha1", "sincerely", nil, nil)
	if withRef != plain || withRef == raw {
		t.Fatalf("sha1 must not reveal secrets: %v %v %v", withRef, plain, raw)
	}
}

type fakeSource map[string]string

func (f fakeSource) RevealSecret(ref string) (string, bool) {
	raw, ok := f[ref]
	return raw, ok
}

type fakeSecret string

func (s fakeSecret) SecretValue() string { return string(s) }

func mustB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

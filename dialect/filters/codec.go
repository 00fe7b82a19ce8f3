package filters

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// MaxGunzipSize bounds the output of the gunzip filter.
const MaxGunzipSize = 10 << 20

// base64Encode encodes a string as strict base64 (no line breaks).
func base64Encode(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	return encode64("base64", base64.StdEncoding, input, args)
}

// base64URLEncode encodes a string as URL-safe base64 with padding.
func base64URLEncode(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	return encode64("base64url", base64.URLEncoding, input, args)
}

func encode64(name string, enc *base64.Encoding, input any, args []any) (any, error) {
	if err := arity(name, args, 0, 0); err != nil {
		return nil, err
	}
	s, err := str(name, input)
	if err != nil {
		return nil, err
	}
	return enc.EncodeToString([]byte(s)), nil
}

// base64Decode decodes base64 leniently, as Ruby's Base64.decode64 does:
// characters outside the alphabet are skipped, decoding stops at padding,
// and a partial last group yields what it can. force_utf8: false is
// accepted: Go strings are bytes already, so the bytes are kept either way.
func base64Decode(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("decode_base64", args, 0, 0); err != nil {
		return nil, err
	}
	if err := checkKwargs("decode_base64", kwargs, "force_utf8"); err != nil {
		return nil, err
	}
	s, err := str("decode_base64", input)
	if err != nil {
		return nil, err
	}
	return lenientBase64(s), nil
}

func lenientBase64(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		v := strings.IndexByte(alphabet, c)
		if v < 0 {
			continue
		}
		acc = acc<<6 | uint32(v)
		n++
		if n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return string(out)
}

// base64URLDecode decodes URL-safe base64, with or without padding.
func base64URLDecode(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	return decode64URL("decode_base64url", input, args, kwargs)
}

func decode64URL(name string, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity(name, args, 0, 0); err != nil {
		return nil, err
	}
	if err := checkKwargs(name, kwargs, "force_utf8"); err != nil {
		return nil, err
	}
	s, err := str(name, input)
	if err != nil {
		return nil, err
	}
	s = strings.TrimRight(s, "\r\n")
	enc := base64.URLEncoding
	if len(s)%4 != 0 {
		s += strings.Repeat("=", 4-len(s)%4)
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, errorf("%s: invalid base64", name)
	}
	return string(b), nil
}

// gzipFilter compresses a string with gzip, stamping the render's time into
// the header and marking it as made on Unix, as Ruby's zlib binding does.
func gzipFilter(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("gzip", args, 0, 0); err != nil {
		return nil, err
	}
	s, err := str("gzip", input)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.OS = 3
	if c != nil {
		w.ModTime = c.Now()
	}
	if _, err := io.WriteString(w, s); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.String(), nil
}

// gunzipFilter decompresses gzip data, refusing output beyond MaxGunzipSize.
func gunzipFilter(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("gunzip", args, 0, 0); err != nil {
		return nil, err
	}
	if err := checkKwargs("gunzip", kwargs, "force_utf8"); err != nil {
		return nil, err
	}
	s, err := str("gunzip", input)
	if err != nil {
		return nil, err
	}
	r, err := gzip.NewReader(strings.NewReader(s))
	if err != nil {
		return nil, errorf("gunzip: not in gzip format")
	}
	out, err := io.ReadAll(io.LimitReader(r, MaxGunzipSize+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errorf("gunzip: footer is not found")
		}
		return nil, errorf("gunzip: %s", err.Error())
	}
	if len(out) > MaxGunzipSize {
		return nil, errorf("gunzip: output exceeds %d bytes", MaxGunzipSize)
	}
	return string(out), nil
}

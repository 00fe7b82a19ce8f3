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

// base64Decode decodes standard base64. force_utf8: false is accepted: Go
// strings are bytes already, so the decoded bytes are kept either way.
func base64Decode(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	return decode64("decode_base64", false, input, args, kwargs)
}

// base64URLDecode decodes URL-safe base64, with or without padding.
func base64URLDecode(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	return decode64("decode_base64url", true, input, args, kwargs)
}

func decode64(name string, urlSafe bool, input any, args []any, kwargs *value.Map) (any, error) {
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
	enc := base64.StdEncoding
	if urlSafe {
		enc = base64.URLEncoding
	}
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

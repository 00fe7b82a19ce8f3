package filters

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"hash"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Secret is implemented by values standing for a shop secret: signing
// filters use the raw secret when such a value is given as their key.
type Secret interface {
	SecretValue() string
}

// SecretSource reveals shop secrets to the signing filters (hmac_*, rsa_*):
// given the reference a template sees for a secret, it returns the raw
// value. Other filters and template output only ever see the reference.
type SecretSource interface {
	RevealSecret(ref string) (raw string, ok bool)
}

type secretsKey struct{}

// WithSecrets returns a context whose renders let the signing filters
// resolve secret references through s.
func WithSecrets(ctx context.Context, s SecretSource) context.Context {
	return context.WithValue(ctx, secretsKey{}, s)
}

var hashes = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha512": sha512.New,
}

// digestFilter returns a filter computing the hex digest of its input's
// string form, or the raw digest bytes with binary: true.
func digestFilter(algo string) filter.Func {
	newHash := hashes[algo]
	return func(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
		if err := arity(algo, args, 0, 0); err != nil {
			return nil, err
		}
		if err := checkKwargs(algo, kwargs, "binary"); err != nil {
			return nil, err
		}
		// Digests hash Ruby's to_s of their input, so arrays and hashes
		// hash their inspected form (a library task md5s an id array).
		h := newHash()
		h.Write([]byte(rubyToS(input)))
		return digestOut(h.Sum(nil), kwargs), nil
	}
}

func digestOut(sum []byte, kwargs *value.Map) string {
	if kwBool(kwargs, "binary", false) {
		return string(sum)
	}
	return hex.EncodeToString(sum)
}

// keyString reads a signing key argument, unwrapping secrets.
func keyString(c filter.Context, name string, v any) (string, error) {
	if s, ok := v.(Secret); ok {
		return s.SecretValue(), nil
	}
	if v == nil {
		return "", errorf("%s: key is missing", name)
	}
	key, err := str(name, v)
	if err != nil {
		return "", err
	}
	if c != nil && c.Context() != nil {
		if src, ok := c.Context().Value(secretsKey{}).(SecretSource); ok && src != nil {
			if raw, ok := src.RevealSecret(key); ok {
				return raw, nil
			}
		}
	}
	return key, nil
}

// hmacFilter returns a filter computing an HMAC of a string with the given
// key, as hex or raw bytes (binary: true).
func hmacFilter(name string) filter.Func {
	newHash := hashes[name[len("hmac_"):]]
	return func(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
		if err := arity(name, args, 1, 1); err != nil {
			return nil, err
		}
		if err := checkKwargs(name, kwargs, "binary"); err != nil {
			return nil, err
		}
		s, err := str(name, input)
		if err != nil {
			return nil, err
		}
		key, err := keyString(c, name, args[0])
		if err != nil {
			return nil, err
		}
		m := hmac.New(newHash, []byte(key))
		m.Write([]byte(s))
		return digestOut(m.Sum(nil), kwargs), nil
	}
}

// rsaFilter returns a filter signing a string with an RSA private key given
// in PEM (PKCS #1 or PKCS #8) using PKCS #1 v1.5, as hex or raw bytes
// (binary: true).
func rsaFilter(name string) filter.Func {
	h := crypto.SHA256
	if name == "rsa_sha512" {
		h = crypto.SHA512
	}
	return func(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
		if err := arity(name, args, 1, 1); err != nil {
			return nil, err
		}
		if err := checkKwargs(name, kwargs, "binary"); err != nil {
			return nil, err
		}
		s, err := str(name, input)
		if err != nil {
			return nil, err
		}
		pemText, err := keyString(c, name, args[0])
		if err != nil {
			return nil, err
		}
		key, err := parseRSAKey(pemText)
		if err != nil {
			return nil, wrapErr(name, err)
		}
		d := h.New()
		d.Write([]byte(s))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, d.Sum(nil))
		if err != nil {
			return nil, errorf("%s: signing failed: %s", name, err.Error())
		}
		return digestOut(sig, kwargs), nil
	}
}

func parseRSAKey(text string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errorf("invalid PEM private key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errorf("invalid RSA private key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errorf("private key is not an RSA key")
	}
	return rk, nil
}

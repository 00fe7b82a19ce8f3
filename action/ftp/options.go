package ftp

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Option names (docs: core/actions/ftp.md).
const (
	optProtocol      = "protocol"
	optHost          = "host"
	optPort          = "port"
	optUser          = "user"
	optPassword      = "password"
	optUploads       = "uploads"
	optDownloads     = "downloads"
	optMode          = "mode"
	optVerify        = "verify"
	optPrivateKey    = "private_key"
	optPrivateKeyPEM = "private_key_pem"
	optKnownHosts    = "known_hosts"
)

// secretFields are the options in which secret references are resolved,
// as the docs list them; all others keep their placeholders.
var secretFields = []string{optHost, optUser, optPassword, optPrivateKey, optPrivateKeyPEM, optKnownHosts}

// Protocols.
const (
	protoFTP  = "ftp"
	protoFTPS = "ftps"
	protoSFTP = "sftp"
)

// options are the parsed options of one ftp action.
type options struct {
	protocol   string
	host       string
	port       int
	user       string
	password   string
	hasPass    bool
	uploads    *value.Map // path → file generator; nil when none
	downloads  []string
	ascii      bool
	verify     bool // FTPS: check the certificate; SFTP: check the host key
	privateKey string
	knownHosts string
}

func invalid(field, format string, args ...any) *action.ValidationError {
	return action.Invalid(Type, field, format, args...)
}

func optString(m *value.Map, name string, required bool) (string, bool, error) {
	v, ok := m.Get(name)
	if !ok || v == nil {
		if required {
			return "", false, invalid(name, "is required")
		}
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, invalid(name, "must be a string, got %s", value.TypeName(v))
	}
	if required && strings.TrimSpace(s) == "" {
		return "", false, invalid(name, "is required and must not be empty")
	}
	return s, true, nil
}

func optBool(m *value.Map, name string) (val, set bool, err error) {
	v, ok := m.Get(name)
	if !ok || v == nil {
		return false, false, nil
	}
	switch b := v.(type) {
	case bool:
		return b, true, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, true, nil
		case "false":
			return false, true, nil
		}
	}
	return false, false, invalid(name, "must be true or false, got %v", v)
}

// parseOptions checks the options of an ftp action. Secret references must
// already be resolved when the values are used, but their placeholders pass
// validation (they are strings).
func parseOptions(raw any) (*options, error) {
	m, ok := raw.(*value.Map)
	if !ok {
		return nil, invalid("", "must be a hash of connection options, got %s", value.TypeName(raw))
	}
	o := &options{}
	var err error
	if o.host, _, err = optString(m, optHost, true); err != nil {
		return nil, err
	}
	o.host = strings.TrimSpace(o.host)
	if o.user, _, err = optString(m, optUser, true); err != nil {
		return nil, err
	}
	if o.password, o.hasPass, err = optString(m, optPassword, false); err != nil {
		return nil, err
	}
	key, hasKey, err := optString(m, optPrivateKeyPEM, false)
	if err != nil {
		return nil, err
	}
	if !hasKey {
		if key, hasKey, err = optString(m, optPrivateKey, false); err != nil {
			return nil, err
		}
	}
	o.privateKey = key
	if o.knownHosts, _, err = optString(m, optKnownHosts, false); err != nil {
		return nil, err
	}
	if v, ok := m.Get(optPort); ok && v != nil {
		var n float64
		switch p := v.(type) {
		case int64:
			n = float64(p)
		case float64:
			n = p
		case string:
			f, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return nil, invalid(optPort, "must be a port number, got %q", p)
			}
			n = float64(f)
		default:
			return nil, invalid(optPort, "must be a port number, got %s", value.TypeName(v))
		}
		if n != math.Trunc(n) || n < 1 || n > 65535 {
			return nil, invalid(optPort, "must be a port number between 1 and 65535, got %v", v)
		}
		o.port = int(n)
	}
	proto, hasProto, err := optString(m, optProtocol, false)
	if err != nil {
		return nil, err
	}
	switch p := strings.ToLower(strings.TrimSpace(proto)); {
	case hasProto && p != "":
		if p != protoFTP && p != protoFTPS && p != protoSFTP {
			return nil, invalid(optProtocol, "must be \"ftp\", \"ftps\" or \"sftp\", got %q", proto)
		}
		o.protocol = p
	case o.port == 22 || o.privateKey != "" || o.knownHosts != "":
		o.protocol = protoSFTP
	default:
		o.protocol = protoFTP
	}
	if o.port == 0 {
		o.port = 21
		if o.protocol == protoSFTP {
			o.port = 22
		}
	}
	if o.privateKey != "" && o.protocol != protoSFTP {
		return nil, invalid(optPrivateKeyPEM, "is only used with the sftp protocol")
	}

	if mode, ok, err := optString(m, optMode, false); err != nil {
		return nil, err
	} else if ok {
		switch strings.ToLower(strings.TrimSpace(mode)) {
		case "ascii":
			o.ascii = true
		case "binary", "":
		default:
			return nil, invalid(optMode, "must be \"ascii\" or \"binary\", got %q", mode)
		}
		if o.ascii && o.protocol == protoSFTP {
			return nil, invalid(optMode, "applies to ftp and ftps only; sftp transfers are always binary")
		}
	}
	verify, verifySet, err := optBool(m, optVerify)
	if err != nil {
		return nil, err
	}
	switch o.protocol {
	case protoSFTP:
		// Host keys are checked when known_hosts is given, unless verify
		// is false; verify true without known_hosts cannot be honoured.
		if verify && o.knownHosts == "" {
			return nil, invalid(optKnownHosts, "is required when verify is true for sftp: list the server's host keys in known_hosts format")
		}
		o.verify = o.knownHosts != "" && (verify || !verifySet)
	default:
		o.verify = !verifySet || verify
	}

	if v, ok := m.Get(optUploads); ok && v != nil {
		um, ok := v.(*value.Map)
		if !ok {
			return nil, invalid(optUploads, "must be a hash of file paths to file generators, got %s", value.TypeName(v))
		}
		if err := filegen.CheckAll(Type, optUploads, um); err != nil {
			return nil, err
		}
		for _, p := range um.Keys() {
			if err := checkPath(optUploads+"."+p, p); err != nil {
				return nil, err
			}
		}
		o.uploads = um
	}
	if v, ok := m.Get(optDownloads); ok && v != nil {
		arr, ok := v.([]any)
		if !ok {
			return nil, invalid(optDownloads, "must be an array of file paths, got %s", value.TypeName(v))
		}
		for i, e := range arr {
			s, ok := e.(string)
			field := fmt.Sprintf("%s[%d]", optDownloads, i)
			if !ok {
				return nil, invalid(field, "must be a file path string, got %s", value.TypeName(e))
			}
			if err := checkPath(field, s); err != nil {
				return nil, err
			}
			o.downloads = append(o.downloads, s)
		}
	}
	if o.uploads == nil && len(o.downloads) == 0 {
		return nil, invalid("", "give uploads, downloads or both")
	}
	return o, nil
}

func checkPath(field, p string) error {
	if strings.TrimSpace(p) == "" || strings.ContainsAny(p, "\x00\r\n") {
		return invalid(field, "is not a valid file path")
	}
	if base := path.Base(p); base == "/" || base == "." || strings.HasSuffix(p, "/") {
		return invalid(field, "must name a file, not a directory")
	}
	return nil
}

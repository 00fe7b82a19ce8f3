package filters

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Version is a dotted version number with major, minor, patch and
// patch_minor parts.
type Version struct{ parts []string }

// Get returns a part of the version.
func (v *Version) Get(key string) (any, bool) {
	idx := map[string]int{"major": 0, "minor": 1, "patch": 2, "patch_minor": 3}[key]
	switch key {
	case "major", "minor", "patch", "patch_minor":
		if idx < len(v.parts) {
			return v.parts[idx], true
		}
		return nil, true
	case "segments":
		out := make([]any, len(v.parts))
		for i, p := range v.parts {
			out[i] = p
		}
		return out, true
	case "to_s":
		return v.LiquidString(), true
	}
	return nil, false
}

// LiquidString joins the parts with dots.
func (v *Version) LiquidString() string { return strings.Join(v.parts, ".") }

// MarshalJSON encodes the version as its string.
func (v *Version) MarshalJSON() ([]byte, error) { return json.Marshal(v.LiquidString()) }

func newVersion(parts ...string) *Version {
	var out []string
	for _, p := range parts {
		if p == "" {
			break
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil
	}
	return &Version{out}
}

func versionValue(v *Version) any {
	if v == nil {
		return nil
	}
	return v
}

// OS is the operating system found in a user agent.
type OS struct {
	name    string
	version *Version
}

// Get returns name or version.
func (o *OS) Get(key string) (any, bool) {
	switch key {
	case "name", "family":
		return o.name, true
	case "version":
		return versionValue(o.version), true
	case "to_s":
		return o.LiquidString(), true
	}
	return nil, false
}

// LiquidString is the name and version, e.g. "iOS 12.4".
func (o *OS) LiquidString() string {
	if o.version == nil {
		return o.name
	}
	return o.name + " " + o.version.LiquidString()
}

// MarshalJSON encodes the OS as a JSON object.
func (o *OS) MarshalJSON() ([]byte, error) {
	return value.ToJSON(value.MapOf("name", o.name, "version", versionString(o.version)))
}

func versionString(v *Version) any {
	if v == nil {
		return nil
	}
	return v.LiquidString()
}

// Device is the device found in a user agent.
type Device struct {
	name, brand, model string
}

func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Get returns name, brand or model.
func (d *Device) Get(key string) (any, bool) {
	switch key {
	case "name", "family":
		return d.name, true
	case "brand":
		return nonEmpty(d.brand), true
	case "model":
		return nonEmpty(d.model), true
	case "to_s":
		return d.name, true
	}
	return nil, false
}

// LiquidString is the device name.
func (d *Device) LiquidString() string { return d.name }

// MarshalJSON encodes the device as a JSON object.
func (d *Device) MarshalJSON() ([]byte, error) {
	return value.ToJSON(value.MapOf("name", d.name, "brand", nonEmpty(d.brand), "model", nonEmpty(d.model)))
}

// Browser is the result of the browser filter: a user agent parsed into
// browser name and version, operating system and device.
type Browser struct {
	name    string
	version *Version
	os      *OS
	device  *Device
}

// Get returns name, version, os or device.
func (b *Browser) Get(key string) (any, bool) {
	switch key {
	case "name", "family":
		return b.name, true
	case "version":
		return versionValue(b.version), true
	case "os":
		return b.os, true
	case "device":
		return b.device, true
	case "to_s":
		return b.LiquidString(), true
	}
	return nil, false
}

// LiquidString is the name and version, e.g. "Chrome 79.0.3945".
func (b *Browser) LiquidString() string {
	if b.version == nil {
		return b.name
	}
	return b.name + " " + b.version.LiquidString()
}

// MarshalJSON encodes the browser as a JSON object.
func (b *Browser) MarshalJSON() ([]byte, error) {
	os, _ := b.os.MarshalJSON()
	dev, _ := b.device.MarshalJSON()
	osv, _ := value.FromJSON(os)
	devv, _ := value.FromJSON(dev)
	return value.ToJSON(value.MapOf("name", b.name, "version", versionString(b.version), "os", osv, "device", devv))
}

type uaRule struct {
	re       *regexp.Regexp
	name     string // "" keeps the first group as name
	maxParts int    // version parts kept; 0 means 4
}

const ver = `(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?`

// browserRules are tried in order; the groups after the name are the
// version parts.
var browserRules = []uaRule{
	{regexp.MustCompile(`(?i)(googlebot|bingbot|yandexbot|duckduckbot|baiduspider|facebookexternalhit|twitterbot|slurp)(?:/` + ver + `)?`), "", 0},
	{regexp.MustCompile(`GSA/` + ver), "Google", 0},
	{regexp.MustCompile(`\bFBAV/` + ver), "Facebook", 3},
	{regexp.MustCompile(`\bInstagram ` + ver), "Instagram", 3},
	{regexp.MustCompile(`\bEdg(?:e|A|iOS)?/` + ver), "Edge", 0},
	{regexp.MustCompile(`\bOPR/` + ver + `.*Mobile|Mobile.*\bOPR/` + ver), "Opera Mobile", 3},
	{regexp.MustCompile(`\bOPR/` + ver), "Opera", 3},
	{regexp.MustCompile(`\bIEMobile[ /]` + ver), "IE Mobile", 0},
	{regexp.MustCompile(`\bUC ?Browser/?` + ver), "UC Browser", 3},
	{regexp.MustCompile(`\bSamsungBrowser/` + ver), "Samsung Internet", 0},
	{regexp.MustCompile(`\bFxiOS/` + ver), "Firefox iOS", 0},
	{regexp.MustCompile(`\bFirefox/` + ver + `.*Mobile|Mobile.*\bFirefox/` + ver), "Firefox Mobile", 0},
	{regexp.MustCompile(`\bFirefox/` + ver), "Firefox", 0},
	{regexp.MustCompile(`\bCriOS/` + ver), "Chrome Mobile iOS", 0},
	{regexp.MustCompile(`(?:; wv\)|Version/\d+\.\d+ ).*\bChrome/` + ver + `.*Mobile`), "Chrome Mobile WebView", 0},
	{regexp.MustCompile(`\bChrome/` + ver + `.*Mobile`), "Chrome Mobile", 0},
	{regexp.MustCompile(`\bChrome/` + ver), "Chrome", 0},
	{regexp.MustCompile(`Android.*\bVersion/\d+\.\d+.*Safari`), "Android", 0},
	{regexp.MustCompile(`\bVersion/` + ver + `.*Mobile.*Safari`), "Mobile Safari", 0},
	{regexp.MustCompile(`\bVersion/` + ver + `.*Safari`), "Safari", 0},
	{regexp.MustCompile(`(?:iPhone|iPad|iPod).*AppleWebKit`), "Mobile Safari UI/WKWebView", 0},
	{regexp.MustCompile(`\bMSIE ` + ver), "IE", 0},
	{regexp.MustCompile(`Trident/.*rv:` + ver), "IE", 0},
	{regexp.MustCompile(`^((?:[A-LN-Za-z]|M[a-np-z])[\w.-]*)/` + ver), "", 0},
}

var (
	reIOS      = regexp.MustCompile(`(?:CPU (?:iPhone )?OS|iPhone OS) (\d+)_(\d+)(?:_(\d+))? like Mac OS X`)
	reAndroid  = regexp.MustCompile(`Android[ /]?(\d+)?(?:\.(\d+))?(?:\.(\d+))?`)
	reWindows  = regexp.MustCompile(`Windows NT (\d+\.\d+)`)
	reWinPhone = regexp.MustCompile(`Windows Phone(?: OS)? (\d+)\.(\d+)`)
	reMac      = regexp.MustCompile(`Mac OS X (\d+)[_.](\d+)(?:[_.](\d+))?`)
	reModel    = regexp.MustCompile(`; ([^;)]+?)(?: Build/|\) AppleWebKit| MIUI)`)
	reCrOS     = regexp.MustCompile(`CrOS \S+ (\d+)\.(\d+)(?:\.(\d+))?`)
	reAppDev   = regexp.MustCompile(`(?:FBDV/|Instagram [\d.]+ \()((?:iPhone|iPad|iPod)\d+,\d+)`)
)

var windowsVersions = map[string][]string{
	"10.0": {"10"}, "6.3": {"8", "1"}, "6.2": {"8"}, "6.1": {"7"}, "6.0": {"Vista"}, "5.1": {"XP"}, "5.2": {"XP"},
}

// modelBrands maps Android model prefixes to brands; named says whether
// the device name starts with the brand.
var modelBrands = []struct {
	prefix, brand string
	named         bool
}{
	{"SM-", "Samsung", true}, {"GT-", "Samsung", true}, {"Pixel", "Google", false}, {"Nexus", "Google", false},
	{"Redmi", "XiaoMi", true}, {"Mi ", "XiaoMi", true}, {"moto", "Motorola", true}, {"Moto", "Motorola", true},
	{"LM-", "LG", true}, {"ONEPLUS", "OnePlus", true}, {"CPH", "Oppo", true},
}

// browser parses a user agent string into a Browser, using a compact rule
// set modelled on the ua-parser families.
func browser(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("browser", args, 0, 0); err != nil {
		return nil, err
	}
	if input == nil {
		return nil, nil
	}
	ua, err := str("browser", input)
	if err != nil {
		return nil, err
	}
	if len(ua) > 4096 {
		ua = ua[:4096]
	}
	return ParseUserAgent(ua), nil
}

// ParseUserAgent parses a user agent string.
func ParseUserAgent(ua string) *Browser {
	b := &Browser{name: "Other", os: &OS{name: "Other"}, device: &Device{name: "Other", model: "Other"}}
	for _, r := range browserRules {
		m := r.re.FindStringSubmatch(ua)
		if m == nil {
			continue
		}
		groups := m[1:]
		if r.name == "" {
			b.name = groups[0]
			groups = groups[1:]
		} else {
			b.name = r.name
		}
		// rules with two alternatives carry two sets of version groups
		parts := groups
		if len(parts) > 4 && parts[0] == "" {
			parts = parts[4:]
		}
		max := r.maxParts
		if max == 0 {
			max = 4
		}
		if len(parts) > max {
			parts = parts[:max]
		}
		b.version = newVersion(parts...)
		if r.name == "" && r.re == browserRules[0].re {
			b.device = &Device{name: "Spider", brand: "Spider", model: "Desktop"}
		}
		break
	}
	switch {
	case reIOS.MatchString(ua):
		m := reIOS.FindStringSubmatch(ua)
		b.os = &OS{name: "iOS", version: newVersion(m[1:]...)}
	case strings.Contains(ua, "Android"):
		m := reAndroid.FindStringSubmatch(ua)
		b.os = &OS{name: "Android", version: newVersion(m[1:]...)}
	case reWinPhone.MatchString(ua):
		m := reWinPhone.FindStringSubmatch(ua)
		b.os = &OS{name: "Windows Phone", version: newVersion(m[1:]...)}
	case strings.Contains(ua, "Windows CE"):
		b.os = &OS{name: "Windows CE"}
	case reWindows.MatchString(ua):
		m := reWindows.FindStringSubmatch(ua)
		b.os = &OS{name: "Windows", version: newVersion(windowsVersions[m[1]]...)}
	case strings.Contains(ua, "CrOS"):
		b.os = &OS{name: "Chrome OS"}
		if m := reCrOS.FindStringSubmatch(ua); m != nil {
			b.os.version = newVersion(m[1:]...)
		}
	case reMac.MatchString(ua):
		m := reMac.FindStringSubmatch(ua)
		b.os = &OS{name: "Mac OS X", version: newVersion(m[1:]...)}
	case strings.Contains(ua, "Ubuntu"):
		b.os = &OS{name: "Ubuntu"}
	case strings.Contains(ua, "Linux"):
		b.os = &OS{name: "Linux"}
	}
	if b.name == "Android" && b.version == nil && b.os.name == "Android" {
		b.version = b.os.version
	}
	if b.device.name != "Other" {
		return b
	}
	for _, apple := range []string{"iPhone", "iPad", "iPod"} {
		if strings.Contains(ua, apple) {
			b.device = &Device{name: apple, brand: "Apple", model: apple}
			if m := reAppDev.FindStringSubmatch(ua); m != nil {
				b.device.model = m[1]
			}
			return b
		}
	}
	switch {
	case b.os.name == "Android":
		if m := reModel.FindStringSubmatch(ua); m != nil && !strings.HasPrefix(m[1], "Android") {
			model := strings.TrimSpace(m[1])
			model = strings.TrimPrefix(model, "SAMSUNG ")
			b.device = &Device{name: model, brand: "Generic_Android", model: model}
			for _, mb := range modelBrands {
				if strings.HasPrefix(model, mb.prefix) {
					b.device.brand = mb.brand
					if mb.named {
						b.device.name = mb.brand + " " + model
					}
					break
				}
			}
		} else {
			b.device = &Device{name: "Generic Smartphone", brand: "Generic", model: "Smartphone"}
		}
	case b.os.name == "Mac OS X" && strings.Contains(ua, "Macintosh"):
		b.device = &Device{name: "Mac", brand: "Apple", model: "Mac"}
	}
	return b
}

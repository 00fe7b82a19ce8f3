package filters

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// imageSizes are the named sizes of Shopify's legacy img_url filter.
var imageSizes = map[string]string{
	"pico": "16x16", "icon": "32x32", "thumb": "50x50", "small": "100x100", "compact": "160x160",
	"medium": "240x240", "large": "480x480", "grande": "600x600", "original": "1024x1024",
	"1024x1024": "1024x1024", "2048x2048": "2048x2048", "master": "",
}

var (
	reImageSize = regexp.MustCompile(`^(?:\d+x\d*|x\d+)$`)
	reImageFile = regexp.MustCompile(`^(.*?)(\.[A-Za-z0-9]+)?(\?.*)?$`)
)

// imgURL is the deprecated img_url filter: it rewrites a Shopify CDN image
// URL for a size ("100x300", "large", "master"; default "small") and the
// crop, scale and format options. The input is a URL, or an object whose
// image is found under src, image, featured_image or images.
func imgURL(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("img_url", args, 0, 1); err != nil {
		return nil, err
	}
	if err := checkKwargs("img_url", kwargs, "crop", "scale", "format"); err != nil {
		return nil, err
	}
	src := imageSource(input, 0)
	if src == "" {
		return "", nil
	}
	size := "small"
	if len(args) == 1 && args[0] != nil {
		size = value.ToS(args[0])
	}
	suffix, ok := imageSizes[size]
	if !ok {
		if !reImageSize.MatchString(size) {
			return nil, errorf("img_url: invalid size %s", value.InspectString(size))
		}
		suffix = size
	}
	if size == "master" && kwargs == nil {
		return src, nil
	}
	m := reImageFile.FindStringSubmatch(src)
	base, ext, query := m[1], m[2], m[3]
	var b strings.Builder
	b.WriteString(base)
	if suffix != "" {
		b.WriteString("_" + suffix)
	}
	if crop, ok := kwarg(kwargs, "crop"); ok && crop != nil {
		b.WriteString("_crop_" + value.ToS(crop))
	}
	if scale, ok := kwarg(kwargs, "scale"); ok && scale != nil {
		n, err := toInt("img_url", scale)
		if err != nil || n < 1 || n > 3 {
			return nil, errorf("img_url: invalid scale %s", value.Inspect(scale))
		}
		b.WriteString("@" + strconv.FormatInt(n, 10) + "x")
	}
	if format, ok := kwarg(kwargs, "format"); ok && format != nil {
		switch f := value.ToS(format); f {
		case "pjpg":
			b.WriteString(".progressive")
			ext = ".jpg"
		case "jpg":
			if !strings.EqualFold(ext, ".jpg") && !strings.EqualFold(ext, ".jpeg") {
				ext += ".jpg"
			}
		default:
			return nil, errorf("img_url: invalid format %s", value.InspectString(f))
		}
	}
	b.WriteString(ext)
	b.WriteString(query)
	return b.String(), nil
}

// imageSource finds the image URL of an img_url input.
func imageSource(v any, depth int) string {
	if depth > 4 {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			return imageSource(x[0], depth+1)
		}
		return ""
	case nil:
		return ""
	}
	for _, k := range []string{"src", "image", "featured_image", "images"} {
		if e, ok := value.Index(v, k); ok && e != nil {
			if s := imageSource(e, depth+1); s != "" {
				return s
			}
		}
	}
	return ""
}

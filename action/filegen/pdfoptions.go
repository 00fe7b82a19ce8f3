package filegen

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// PDFOptions are the parsed options of a pdf generator. Mechanic forwards
// them to Pdfcrowd's HTML-to-PDF API (version 20.10), so they carry that
// API's names and defaults; lengths are in inches.
type PDFOptions struct {
	// HTML is the document to render (option html, required).
	HTML string
	// PageWidth and PageHeight are the portrait page size (page_size,
	// page_width, page_height; A4 by default). PageHeight is negative for
	// page_height "-1": one page as tall as the content.
	PageWidth, PageHeight float64
	// Landscape turns the page (orientation "landscape").
	Landscape bool
	// Margins (margin_top, margin_right, margin_bottom, margin_left; 0.4in
	// by default, 0 with no_margins).
	MarginTop, MarginRight, MarginBottom, MarginLeft float64
	// PageRanges selects pages, e.g. "1-3,5" (print_page_range).
	PageRanges string
	// HeaderHTML and FooterHTML are repeated on every page (header_html,
	// footer_html), in bands HeaderHeight and FooterHeight tall (0.5in by
	// default). Elements of class pdfcrowd-page-number, pdfcrowd-page-count,
	// pdfcrowd-source-title and pdfcrowd-source-url get the page number, the
	// page count, the title and the URL.
	HeaderHTML, FooterHTML     string
	HeaderHeight, FooterHeight float64
	// NoHeaderFooterHorizontalMargins lets header and footer span the full
	// page width (no_header_footer_horizontal_margins).
	NoHeaderFooterHorizontalMargins bool
	// PrintBackground prints backgrounds (false with no_background).
	PrintBackground bool
	// PageBackgroundColor paints every page, e.g. "#ffeecc"
	// (page_background_color).
	PageBackgroundColor string
	// DisableJavaScript, DisableImages and DisableRemoteFonts turn off
	// scripts, images and web fonts (disable_javascript,
	// disable_image_loading, disable_remote_fonts).
	DisableJavaScript, DisableImages, DisableRemoteFonts bool
	// PrintMedia renders with the print media type instead of screen
	// (use_print_media).
	PrintMedia bool
	// OnLoadJavaScript runs right after the page loads; CustomJavaScript
	// runs after JavaScriptDelay, just before printing (on_load_javascript,
	// custom_javascript).
	OnLoadJavaScript, CustomJavaScript string
	// JavaScriptDelay is how long scripts may run after the page loads
	// (javascript_delay in milliseconds; 200 ms by default, at most 30 s).
	JavaScriptDelay time.Duration
	// WaitForElement is a CSS selector to wait for before printing
	// (wait_for_element).
	WaitForElement string
	// ElementToConvert is a CSS selector of the only content to print, with
	// ElementToConvertMode "cut-out" (default), "remove-siblings" or
	// "hide-siblings" (element_to_convert, element_to_convert_mode).
	ElementToConvert, ElementToConvertMode string
	// CustomCSS is added to the document (custom_css).
	CustomCSS string
	// Title sets the document title (title).
	Title string
	// Scale is the rendering scale, 1 by default (scale_factor in percent,
	// 10 to 200).
	Scale float64
	// ViewportWidth and ViewportHeight are the browser window size in CSS
	// pixels (viewport_width, viewport_height; 1024 x 768 by default).
	ViewportWidth, ViewportHeight int
	// Ignored lists the Pdfcrowd options that were given but have no effect
	// with this renderer (document metadata, viewer preferences, …).
	Ignored []string
}

// PDF option defaults, as Pdfcrowd documents them.
const (
	defaultPDFMargin       = 0.4
	defaultPDFBandHeight   = 0.5
	defaultJavaScriptDelay = 200 * time.Millisecond
	// MaxJavaScriptDelay bounds javascript_delay.
	MaxJavaScriptDelay = 30 * time.Second
)

// pageSizes are Pdfcrowd's named page sizes, portrait, in inches.
var pageSizes = map[string][2]float64{
	"a0": {33.1, 46.8}, "a1": {23.4, 33.1}, "a2": {16.54, 23.4}, "a3": {11.7, 16.54},
	"a4": {8.27, 11.7}, "a5": {5.83, 8.27}, "a6": {4.13, 5.83},
	"letter": {8.5, 11}, "legal": {8.5, 14}, "tabloid": {11, 17}, "ledger": {17, 11},
}

// pdfIgnored are Pdfcrowd options accepted without effect: metadata and
// viewer preferences the browser's printer cannot set, and conversion
// settings that only make sense on Pdfcrowd's service.
var pdfIgnored = []string{
	"author", "subject", "keywords", "linearize", "page_layout", "page_mode",
	"initial_zoom_type", "initial_page", "initial_zoom", "hide_toolbar",
	"hide_menubar", "hide_window_ui", "fit_window", "center_window",
	"display_title", "right_to_left", "jpeg_quality", "convert_images_to_jpeg",
	"image_dpi", "block_ads", "default_encoding", "locale", "rendering_mode",
	"smart_scaling_mode", "debug_log", "tag", "use_http", "retry_count",
	"converter_version", "load_iframes", "enable_pdf_forms", "exclude_header_on_pages",
	"exclude_footer_on_pages", "header_footer_scale_factor", "page_numbering_offset",
	"fail_on_main_url_error", "fail_on_any_url_error", "verify_ssl_certificates",
	"no_xpdfcrowd_header", "readability_enhancements", "use_mobile_user_agent",
	"content_area_x", "content_area_y", "content_area_width", "content_area_height",
	"css_page_rule_mode", "extract_meta_tags", "auto_detect_element_to_convert",
}

// pdfRefused are Pdfcrowd options whose promise this renderer cannot keep
// (encryption and permissions, watermarks and backgrounds from files,
// fetching other URLs); ignoring them would silently produce a different
// document, so they are errors.
var pdfRefused = []string{
	"encrypt", "user_password", "owner_password", "no_print", "no_modify", "no_copy",
	"page_watermark", "page_watermark_url", "multipage_watermark", "multipage_watermark_url",
	"page_background", "page_background_url", "multipage_background", "multipage_background_url",
	"header_url", "footer_url", "cookies", "http_auth_user_name", "http_auth_password",
	"custom_http_header", "http_proxy", "https_proxy", "client_certificate",
	"client_certificate_password", "zip_main_filename", "zip_header_filename", "zip_footer_filename",
}

var pdfSupported = []string{
	"html", "page_size", "page_width", "page_height", "orientation",
	"margin_top", "margin_right", "margin_bottom", "margin_left", "no_margins",
	"print_page_range", "header_html", "header_height", "footer_html", "footer_height",
	"no_header_footer_horizontal_margins", "no_background", "page_background_color",
	"disable_javascript", "disable_image_loading", "disable_remote_fonts", "use_print_media",
	"on_load_javascript", "custom_javascript", "javascript_delay", "wait_for_element",
	"element_to_convert", "element_to_convert_mode", "custom_css", "title", "scale_factor",
	"viewport_width", "viewport_height",
}

var lengthRE = regexp.MustCompile(`^\s*(-?[0-9]*\.?[0-9]+)\s*(in|mm|cm|pt|px)\s*$`)

// ParsePDFOptions parses the hash of a pdf generator for action type typ;
// field names it in errors (e.g. "files.invoice.pdf.pdf"). Option names
// starting with "__" (Mechanic's internal switches) are ignored.
func ParsePDFOptions(typ, field string, m *value.Map) (*PDFOptions, error) {
	o := &PDFOptions{
		PageWidth: 8.27, PageHeight: 11.7,
		MarginTop: defaultPDFMargin, MarginRight: defaultPDFMargin, MarginBottom: defaultPDFMargin, MarginLeft: defaultPDFMargin,
		HeaderHeight: defaultPDFBandHeight, FooterHeight: defaultPDFBandHeight,
		PrintBackground: true, JavaScriptDelay: defaultJavaScriptDelay, Scale: 1,
		ViewportWidth: 1024, ViewportHeight: 768, ElementToConvertMode: "cut-out",
	}
	bad := func(opt, format string, args ...any) error {
		return action.Invalid(typ, field+"."+opt, format, args...)
	}
	var err error
	for _, k := range m.Keys() {
		switch {
		case strings.HasPrefix(k, "__"):
		case slices.Contains(pdfSupported, k):
		case slices.Contains(pdfIgnored, k):
			o.Ignored = append(o.Ignored, k)
		case slices.Contains(pdfRefused, k):
			return nil, bad(k, "is a Pdfcrowd option this server's PDF renderer does not support")
		default:
			return nil, bad(k, "is not a PDF option; see the Pdfcrowd HTML-to-PDF options (page_size, orientation, margin_top, header_html, javascript_delay, …)")
		}
	}
	str := func(opt string) (string, bool, error) {
		v, ok := m.Get(opt)
		if !ok || v == nil {
			return "", false, nil
		}
		s, ok := v.(string)
		if !ok {
			return "", false, bad(opt, "must be a string, got %s", value.TypeName(v))
		}
		return s, true, nil
	}
	boolean := func(opt string) (bool, error) {
		v, ok := m.Get(opt)
		if !ok || v == nil {
			return false, nil
		}
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true":
				return true, nil
			case "false", "":
				return false, nil
			}
		}
		return false, bad(opt, "must be true or false, got %v", v)
	}
	length := func(opt string, dst *float64, allowAuto bool) error {
		v, has := m.Get(opt)
		if !has || v == nil {
			return nil
		}
		if n, isNum := number(v); isNum {
			if n == 0 || (allowAuto && n == -1) {
				*dst = n
				return nil
			}
			return bad(opt, "must be a length with a unit (in, mm, cm, pt or px), e.g. \"10mm\"; got %v", v)
		}
		s, ok := v.(string)
		if !ok {
			return bad(opt, "must be a string, got %s", value.TypeName(v))
		}
		if allowAuto && strings.TrimSpace(s) == "-1" {
			*dst = -1
			return nil
		}
		if strings.TrimSpace(s) == "0" {
			*dst = 0
			return nil
		}
		mm := lengthRE.FindStringSubmatch(strings.ToLower(s))
		if mm == nil {
			return bad(opt, "must be a length with a unit (in, mm, cm, pt or px), e.g. \"10mm\"; got %q", s)
		}
		n, _ := strconv.ParseFloat(mm[1], 64)
		if n < 0 {
			return bad(opt, "must not be negative, got %q", s)
		}
		switch mm[2] {
		case "mm":
			n /= 25.4
		case "cm":
			n /= 2.54
		case "pt":
			n /= 72
		case "px":
			n /= 96
		}
		*dst = n
		return nil
	}

	h, ok, err := str("html")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, bad("html", "is required")
	}
	o.HTML = h

	if s, ok, err := str("page_size"); err != nil {
		return nil, err
	} else if ok {
		sz, known := pageSizes[strings.ToLower(strings.TrimSpace(s))]
		if !known {
			return nil, bad("page_size", "must be one of A0, A1, A2, A3, A4, A5, A6, Letter, Legal, Tabloid, Ledger; got %q", s)
		}
		o.PageWidth, o.PageHeight = sz[0], sz[1]
	}
	if err := length("page_width", &o.PageWidth, false); err != nil {
		return nil, err
	}
	if err := length("page_height", &o.PageHeight, true); err != nil {
		return nil, err
	}
	if o.PageWidth <= 0 || o.PageHeight == 0 {
		return nil, bad("page_width", "the page must have a width and a height")
	}
	if s, ok, err := str("orientation"); err != nil {
		return nil, err
	} else if ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "landscape":
			o.Landscape = true
		case "portrait", "":
		default:
			return nil, bad("orientation", "must be \"portrait\" or \"landscape\", got %q", s)
		}
	}
	noMargins, err := boolean("no_margins")
	if err != nil {
		return nil, err
	}
	if noMargins {
		o.MarginTop, o.MarginRight, o.MarginBottom, o.MarginLeft = 0, 0, 0, 0
	}
	for opt, dst := range map[string]*float64{
		"margin_top": &o.MarginTop, "margin_right": &o.MarginRight, "margin_bottom": &o.MarginBottom,
		"margin_left": &o.MarginLeft, "header_height": &o.HeaderHeight, "footer_height": &o.FooterHeight,
	} {
		if err := length(opt, dst, false); err != nil {
			return nil, err
		}
	}
	if s, ok, err := str("print_page_range"); err != nil {
		return nil, err
	} else if ok {
		s = strings.ReplaceAll(s, " ", "")
		if !regexp.MustCompile(`^[0-9]+(-[0-9]*)?(,[0-9]+(-[0-9]*)?)*$`).MatchString(s) {
			return nil, bad("print_page_range", "must list page numbers and ranges such as \"1-3,5\", got %q", s)
		}
		o.PageRanges = s
	}
	for opt, dst := range map[string]*string{
		"header_html": &o.HeaderHTML, "footer_html": &o.FooterHTML, "page_background_color": &o.PageBackgroundColor,
		"on_load_javascript": &o.OnLoadJavaScript, "custom_javascript": &o.CustomJavaScript,
		"wait_for_element": &o.WaitForElement, "element_to_convert": &o.ElementToConvert,
		"custom_css": &o.CustomCSS, "title": &o.Title,
	} {
		s, _, err := str(opt)
		if err != nil {
			return nil, err
		}
		*dst = s
	}
	if o.PageBackgroundColor != "" && !regexp.MustCompile(`^#?[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$`).MatchString(o.PageBackgroundColor) {
		return nil, bad("page_background_color", "must be an RGB or RGBA hex color such as \"#ffeecc\", got %q", o.PageBackgroundColor)
	}
	if s, ok, err := str("element_to_convert_mode"); err != nil {
		return nil, err
	} else if ok && s != "" {
		switch s {
		case "cut-out", "remove-siblings", "hide-siblings":
			o.ElementToConvertMode = s
		default:
			return nil, bad("element_to_convert_mode", "must be \"cut-out\", \"remove-siblings\" or \"hide-siblings\", got %q", s)
		}
	}
	flags := []struct {
		opt string
		dst *bool
		neg bool
	}{
		{"no_header_footer_horizontal_margins", &o.NoHeaderFooterHorizontalMargins, false},
		{"no_background", &o.PrintBackground, true},
		{"disable_javascript", &o.DisableJavaScript, false},
		{"disable_image_loading", &o.DisableImages, false},
		{"disable_remote_fonts", &o.DisableRemoteFonts, false},
		{"use_print_media", &o.PrintMedia, false},
	}
	for _, f := range flags {
		b, err := boolean(f.opt)
		if err != nil {
			return nil, err
		}
		if f.neg {
			*f.dst = !b
		} else {
			*f.dst = b
		}
	}
	intOpt := func(opt string, lo, hi int64) (int64, bool, error) {
		v, ok := m.Get(opt)
		if !ok || v == nil {
			return 0, false, nil
		}
		n, isNum := number(v)
		if s, isStr := v.(string); isStr {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			n, isNum = f, err == nil
		}
		if !isNum || n != math.Trunc(n) {
			return 0, false, bad(opt, "must be a whole number, got %v", v)
		}
		if int64(n) < lo || int64(n) > hi {
			return 0, false, bad(opt, "must be between %d and %d, got %v", lo, hi, v)
		}
		return int64(n), true, nil
	}
	if n, ok, err := intOpt("javascript_delay", 0, MaxJavaScriptDelay.Milliseconds()); err != nil {
		return nil, err
	} else if ok {
		o.JavaScriptDelay = time.Duration(n) * time.Millisecond
	}
	if n, ok, err := intOpt("scale_factor", 10, 200); err != nil {
		return nil, err
	} else if ok {
		o.Scale = float64(n) / 100
	}
	if n, ok, err := intOpt("viewport_width", 96, 65000); err != nil {
		return nil, err
	} else if ok {
		o.ViewportWidth = int(n)
	}
	if n, ok, err := intOpt("viewport_height", 96, 65000); err != nil {
		return nil, err
	} else if ok {
		o.ViewportHeight = int(n)
	}
	return o, nil
}

// number converts a canonical numeric value to float64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(n).Float64()
		return f, true
	}
	return 0, false
}

// String describes the page set-up, for logs.
func (o *PDFOptions) String() string {
	return fmt.Sprintf("%.2fx%.2fin landscape=%t margins=%.2f/%.2f/%.2f/%.2fin", o.PageWidth, o.PageHeight, o.Landscape,
		o.MarginTop, o.MarginRight, o.MarginBottom, o.MarginLeft)
}

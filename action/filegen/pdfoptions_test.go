package filegen_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/liquid/value"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestParsePDFOptions(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(t *testing.T, o *filegen.PDFOptions)
	}{
		{"defaults are Pdfcrowd's", `{"html": "x"}`, func(t *testing.T, o *filegen.PDFOptions) {
			if !near(o.PageWidth, 8.27) || !near(o.PageHeight, 11.7) || o.Landscape {
				t.Errorf("page %v x %v landscape=%v, want A4 portrait", o.PageWidth, o.PageHeight, o.Landscape)
			}
			if !near(o.MarginTop, 0.4) || !near(o.MarginLeft, 0.4) || !near(o.HeaderHeight, 0.5) {
				t.Errorf("margins %v %v header %v", o.MarginTop, o.MarginLeft, o.HeaderHeight)
			}
			if !o.PrintBackground || o.PrintMedia || o.JavaScriptDelay != 200*time.Millisecond || o.Scale != 1 || o.ViewportWidth != 1024 {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{"docs example", `{"html": "x", "page_width": "7in", "page_height": "5in", "margin_top": "10mm", "margin_right": "10mm", "margin_bottom": "10mm", "margin_left": "10mm"}`, func(t *testing.T, o *filegen.PDFOptions) {
			if !near(o.PageWidth, 7) || !near(o.PageHeight, 5) || !near(o.MarginTop, 10/25.4) || !near(o.MarginLeft, 10/25.4) {
				t.Errorf("got %s", o)
			}
		}},
		{"library: landscape with header", `{"html": "x", "orientation": "landscape", "header_html": "<span class=\"pdfcrowd-page-number\"></span>", "__force_pdfcrowd": true}`, func(t *testing.T, o *filegen.PDFOptions) {
			if !o.Landscape || o.HeaderHTML == "" {
				t.Errorf("got %+v", o)
			}
		}},
		{"units and page size", `{"html": "x", "page_size": "letter", "margin_top": "72pt", "margin_left": "2.54cm", "margin_right": "96px", "margin_bottom": 0}`, func(t *testing.T, o *filegen.PDFOptions) {
			if !near(o.PageWidth, 8.5) || !near(o.PageHeight, 11) || !near(o.MarginTop, 1) || !near(o.MarginLeft, 1) || !near(o.MarginRight, 1) || o.MarginBottom != 0 {
				t.Errorf("got %s", o)
			}
		}},
		{"no margins", `{"html": "x", "no_margins": true}`, func(t *testing.T, o *filegen.PDFOptions) {
			if o.MarginTop != 0 || o.MarginRight != 0 || o.MarginBottom != 0 || o.MarginLeft != 0 {
				t.Errorf("got %s", o)
			}
		}},
		{"single page", `{"html": "x", "page_height": "-1"}`, func(t *testing.T, o *filegen.PDFOptions) {
			if o.PageHeight >= 0 {
				t.Errorf("page height %v, want negative", o.PageHeight)
			}
		}},
		{"scripts and flags", `{"html": "x", "javascript_delay": 1500, "scale_factor": "50", "no_background": "true", "use_print_media": true, "disable_javascript": false, "wait_for_element": "#done", "element_to_convert": "main", "element_to_convert_mode": "hide-siblings", "print_page_range": "1-2, 4"}`, func(t *testing.T, o *filegen.PDFOptions) {
			if o.JavaScriptDelay != 1500*time.Millisecond || o.Scale != 0.5 || o.PrintBackground || !o.PrintMedia || o.WaitForElement != "#done" ||
				o.ElementToConvert != "main" || o.ElementToConvertMode != "hide-siblings" || o.PageRanges != "1-2,4" {
				t.Errorf("got %+v", o)
			}
		}},
		{"ignored options are listed", `{"html": "x", "author": "me", "linearize": true}`, func(t *testing.T, o *filegen.PDFOptions) {
			if !slices.Equal(o.Ignored, []string{"author", "linearize"}) {
				t.Errorf("ignored = %v", o.Ignored)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := filegen.ParsePDFOptions("files", "f.pdf", spec(t, tt.json).(*value.Map))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestParsePDFOptionsErrors(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"html missing", `{}`, `option "f.pdf.html": is required`},
		{"html not string", `{"html": 1}`, `option "f.pdf.html": must be a string`},
		{"unknown option", `{"html": "x", "page_sise": "A4"}`, `option "f.pdf.page_sise": is not a PDF option`},
		{"refused option", `{"html": "x", "user_password": "pw"}`, `option "f.pdf.user_password": is a Pdfcrowd option this server's PDF renderer does not support`},
		{"bad page size", `{"html": "x", "page_size": "B5"}`, `option "f.pdf.page_size": must be one of`},
		{"length without unit", `{"html": "x", "margin_top": "10"}`, `option "f.pdf.margin_top": must be a length with a unit`},
		{"number length", `{"html": "x", "margin_top": 10}`, `option "f.pdf.margin_top": must be a length with a unit`},
		{"bad orientation", `{"html": "x", "orientation": "sideways"}`, `option "f.pdf.orientation"`},
		{"delay too long", `{"html": "x", "javascript_delay": 60000}`, `option "f.pdf.javascript_delay": must be between 0 and 30000`},
		{"scale out of range", `{"html": "x", "scale_factor": 500}`, `option "f.pdf.scale_factor": must be between 10 and 200`},
		{"bad range", `{"html": "x", "print_page_range": "odd"}`, `option "f.pdf.print_page_range"`},
		{"bad color", `{"html": "x", "page_background_color": "red"}`, `option "f.pdf.page_background_color"`},
		{"bad bool", `{"html": "x", "no_margins": "yes"}`, `option "f.pdf.no_margins": must be true or false`},
		{"bad mode", `{"html": "x", "element_to_convert_mode": "crop"}`, `option "f.pdf.element_to_convert_mode"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := filegen.ParsePDFOptions("files", "f.pdf", spec(t, tt.json).(*value.Map))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
		})
	}
}

package webhook

import (
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// FuzzBodyParams checks that no body, whatever its type, panics the
// interpreters, and that what they return encodes as JSON.
func FuzzBodyParams(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("a[][x]=1&a[][y]=2&a[][x]=3&b[c][]=4"))
	f.Add("application/json", []byte(`{"a":[1,{"b":null}],"c":"\u00e9"}`))
	f.Add("multipart/form-data; boundary="+multipartBoundary, []byte(multipartBody))
	f.Add("", []byte("x=1&y[]=2"))
	f.Add("", []byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		m, err := bodyParams(contentType, body)
		if err != nil {
			return
		}
		if _, err := value.ToJSON(m); err != nil {
			t.Fatalf("params do not encode: %v", err)
		}
	})
}

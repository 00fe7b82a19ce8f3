package googlesheets_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/googledrive"
	"github.com/sprocketrun/sprocket/action/googlesheets"
	actionhttp "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/action/internal/actiontest"
	"github.com/sprocketrun/sprocket/integrations/standin"
	"github.com/sprocketrun/sprocket/liquid/value"
)

func get(t *testing.T, v any, k string) any {
	t.Helper()
	m, ok := v.(*value.Map)
	if !ok {
		t.Fatalf("not a hash: %v", v)
	}
	x, _ := m.Get(k)
	return x
}

// TestOperations performs every operation in turn against the stand-in
// Sheets and Drive APIs, checking results and the spreadsheet's state.
func TestOperations(t *testing.T) {
	mux := http.NewServeMux()
	o := &standin.OAuthServer{ClientID: "c", ClientSecret: "s", TokenTTL: time.Hour}
	o.Mount(mux, "/google/oauth")
	g := &standin.Google{OAuth: o}
	g.Mount(mux, "/g")
	ts := httptest.NewServer(mux)
	defer ts.Close()
	m := actiontest.Manager(t, "google", ts.URL, o)
	actiontest.Connect(t, m, o, "google", "", map[string]any{"email": "u@example.com"})
	p := googlesheets.New(googlesheets.Config{Tokens: m, SheetsBaseURL: ts.URL + "/g", DriveBaseURL: ts.URL + "/g"})
	ctx := context.Background()
	perform := func(opts string) any {
		t.Helper()
		res, err := p.Perform(ctx, actiontest.Request(t, "google_sheets", opts))
		if err != nil {
			t.Fatalf("%s: %v", opts, err)
		}
		return res.Value
	}

	created := perform(`{"account":"u@example.com","operation":"create_spreadsheet","title":"Sales","folder_path":"reports/2026",
		"sheets":[{"name":"Orders","rows":[["Order","Total"]]},{"name":"Refund Notes","rows":[["Refund"]]}]}`)
	id := get(t, created, "spreadsheet_id").(string)
	if get(t, created, "folder_path") != "reports/2026" || len(get(t, created, "sheets").([]any)) != 2 {
		t.Fatalf("create: %s", actiontest.JSON(t, created))
	}
	if _, ok := g.Drive("u@example.com")["reports/2026/Sales"]; !ok {
		t.Fatalf("not moved into the folder: %v", g.Drive("u@example.com"))
	}
	acct := `"account":"u@example.com","spreadsheet_id":"` + id + `"`
	app := perform(`{` + acct + `,"operation":"append_rows","rows":[["#1001",10.5],["#1002",7]]}`)
	if get(t, app, "updated_rows") != int64(2) || !strings.HasPrefix(get(t, app, "updated_range").(string), "Orders!A2") {
		t.Fatalf("append to the first sheet: %s", actiontest.JSON(t, app))
	}
	upd := perform(`{` + acct + `,"operation":"update_rows","sheet_name":"Orders","sheet_range":"A3:B3","rows":[["#1002",8]]}`)
	if get(t, upd, "updated_cells") != int64(2) {
		t.Fatalf("update: %s", actiontest.JSON(t, upd))
	}
	vals := perform(`{` + acct + `,"operation":"get_values","sheet_name":"Orders"}`)
	if get(t, vals, "row_count") != int64(3) || !strings.Contains(actiontest.JSON(t, get(t, vals, "values")), `["#1002","8"]`) {
		t.Fatalf("get_values: %s", actiontest.JSON(t, vals))
	}
	perform(`{` + acct + `,"operation":"add_sheet","sheet_name":"Q3","rows":[["Date","Revenue"]]}`)
	ren := perform(`{` + acct + `,"operation":"rename_sheet","sheet_name":"Q3","new_sheet_name":"Q3 Archive"}`)
	if get(t, ren, "previous_sheet_name") != "Q3" {
		t.Fatalf("rename: %s", actiontest.JSON(t, ren))
	}
	if got := g.Values("u@example.com", id, "Q3 Archive"); len(got) != 1 {
		t.Fatalf("renamed sheet: %v", got)
	}
	perform(`{` + acct + `,"operation":"clear_values","sheet_range":"'Refund Notes'!A1:A1"}`)
	del := perform(`{` + acct + `,"operation":"delete_rows","sheet_name":"Orders","start_row":2}`)
	if get(t, del, "deleted_rows") != int64(1) || len(g.Values("u@example.com", id, "Orders")) != 2 {
		t.Fatalf("delete_rows: %s %v", actiontest.JSON(t, del), g.Values("u@example.com", id, "Orders"))
	}
	perform(`{` + acct + `,"operation":"delete_sheet","sheet_name":"Q3 Archive"}`)
	exp := perform(`{` + acct + `,"operation":"export_spreadsheet","file_type":"csv"}`)
	data, _ := base64.StdEncoding.DecodeString(get(t, exp, "data_base64").(string))
	if get(t, exp, "name") != "Sales" || string(data) != "Order,Total\n#1002,8\n" {
		t.Fatalf("export: %s %q", actiontest.JSON(t, exp), data)
	}

	bad := []struct{ opts, field string }{
		{`{"account":"u@example.com","operation":"frobnicate"}`, "operation"},
		{`{"operation":"get_values","spreadsheet_id":"x"}`, "account"},
		{`{"account":"a","operation":"append_rows","spreadsheet_id":"x"}`, "rows"},
		{`{"account":"a","operation":"append_rows","spreadsheet_id":"x","rows":[1]}`, "rows[0]"},
		{`{"account":"a","operation":"get_values","spreadsheet_id":"x","sheet_name":"A","sheet_range":"B!A1"}`, "sheet_range"},
		{`{"account":"a","operation":"delete_rows","spreadsheet_id":"x","sheet_name":"A","start_row":0}`, "start_row"},
		{`{"account":"a","operation":"export_spreadsheet","spreadsheet_id":"x","file_type":"doc"}`, "file_type"},
		{`{"account":"a","operation":"create_spreadsheet","rows":[["a"]],"sheets":[{"name":"x"}]}`, "sheets"},
		{`{"account":"a","operation":"create_spreadsheet","folder_path":"a/b:c"}`, "folder_path"},
		{`{"account":"a","operation":"append_rows","spreadsheet_id":"x","rows":[["a"]],"value_input_option":"formula"}`, "value_input_option"},
	}
	for _, b := range bad {
		err := p.Validate(actiontest.Request(t, "google_sheets", b.opts).Options)
		if !strings.Contains(err.Error(), `"`+b.field+`"`) {
			t.Errorf("%s: got %v, want field %s", b.opts, err, b.field)
		}
	}
	// Ambiguous writes are not retried after a 5xx-like failure, but are after 429.
	g.RateLimit = 1
	_, err := p.Perform(ctx, actiontest.Request(t, "google_sheets", `{`+acct+`,"operation":"add_sheet","sheet_name":"Z"}`))
	if action.Classify(err) != action.KindTransient {
		t.Fatalf("429 on add_sheet: %v", err)
	}
	_, err = p.Perform(ctx, actiontest.Request(t, "google_sheets", `{`+acct+`,"operation":"add_sheet","sheet_name":"Orders"}`))
	if action.Classify(err) != action.KindFailed {
		t.Fatalf("duplicate sheet: %v", err)
	}
}

// TestDriveUploads uploads into folders, then overwrites.
func TestDriveUploads(t *testing.T) {
	mux := http.NewServeMux()
	o := &standin.OAuthServer{ClientID: "c", ClientSecret: "s"}
	o.Mount(mux, "/google/oauth")
	g := &standin.Google{OAuth: o}
	g.Mount(mux, "/g")
	ts := httptest.NewServer(mux)
	defer ts.Close()
	m := actiontest.Manager(t, "google", ts.URL, o)
	actiontest.Connect(t, m, o, "google", "", map[string]any{"email": "d@example.com"})
	p := googledrive.New(googledrive.Config{Tokens: m, DriveBaseURL: ts.URL + "/g", Files: actionhttp.New(actionhttp.Config{}).Files()})
	ctx := context.Background()
	up := func(opts string) any {
		res, err := p.Perform(ctx, actiontest.Request(t, "google_drive", opts))
		if err != nil {
			t.Fatal(err)
		}
		return res.Value
	}
	res := up(`{"account":"d@example.com","uploads":{"a.txt":"one","reports/2024/b.csv":"x,y","pack.zip":{"zip":{"files":{"r.txt":"r"}}}}}`)
	u := get(t, get(t, res, "uploads"), "reports/2024/b.csv")
	if get(t, u, "path") != "reports/2024" || get(t, u, "name") != "b.csv" || get(t, u, "mime_type") == "" {
		t.Fatalf("upload result: %s", actiontest.JSON(t, res))
	}
	up(`{"account":"d@example.com","uploads":{"a.txt":"two"}}`)
	up(`{"account":"d@example.com","uploads":{"overwrite":true,"reports/2024/b.csv":"z"}}`)
	files := g.Drive("d@example.com")
	if files["reports/2024/b.csv"] != "z" || !strings.HasPrefix(files["pack.zip"], "PK") {
		t.Fatalf("drive: %v", files)
	}
	for _, bad := range []string{`{"account":"d@example.com","uploads":{"a|b.txt":"x"}}`, `{"account":"d@example.com","uploads":{}}`, `{"uploads":{"a":"b"}}`} {
		if err := p.Validate(actiontest.Request(t, "google_drive", bad).Options); action.Classify(err) != action.KindInvalid {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// Package googlesheets implements the google_sheets action: operations on
// spreadsheets through the Google Sheets API (and Drive, for folders and
// exports) with a connected Google account's token.
//
// Operations (option operation): create_spreadsheet, append_rows,
// update_rows, clear_values, get_values (results capped at 20 MB),
// delete_rows, add_sheet, rename_sheet, delete_sheet and
// export_spreadsheet; every operation needs account, all but
// create_spreadsheet spreadsheet_id. sheet_name targets a sheet (the first
// sheet when omitted, where optional); sheet_range is A1 notation,
// combined with sheet_name when unqualified and refused when it names
// another sheet. value_input_option is "raw" (default) or "user_entered".
// Reads and idempotent writes are retried on transient errors; ambiguous
// writes (append_rows unless retry_on_transient_errors, create_spreadsheet,
// add_sheet, delete_rows, delete_sheet) only after 429.
package googlesheets

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/internal/apicall"
	"github.com/sprocketrun/sprocket/action/internal/gapi"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type.
const Type = "google_sheets"

// MaxValuesBytes caps get_values results (20 MB).
const MaxValuesBytes = 20 << 20

// Config configures the action.
type Config struct {
	// Tokens supplies the connected accounts' tokens.
	Tokens apicall.Tokens
	// SheetsBaseURL and DriveBaseURL override the Google API bases (tests).
	SheetsBaseURL, DriveBaseURL string
	// HTTP sends requests; nil means a client with a 60 s timeout.
	HTTP *http.Client
}

// Performer performs google_sheets actions.
type Performer struct {
	g *gapi.Client
}

// New returns the google_sheets action's performer.
func New(cfg Config) *Performer {
	return &Performer{g: gapi.NewClient(Type, cfg.Tokens, cfg.HTTP, cfg.DriveBaseURL, cfg.SheetsBaseURL, MaxValuesBytes)}
}

// Operations lists the supported operations.
var Operations = []string{"create_spreadsheet", "append_rows", "update_rows", "clear_values", "get_values",
	"delete_rows", "add_sheet", "rename_sheet", "delete_sheet", "export_spreadsheet"}

var exportTypes = map[string]string{
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"csv":  "text/csv",
	"pdf":  "application/pdf",
	"html": "application/zip",
	"ods":  "application/x-vnd.oasis.opendocument.spreadsheet",
	"tsv":  "text/tab-separated-values",
}

var renderOptions = map[string]string{
	"formatted_value": "FORMATTED_VALUE", "unformatted_value": "UNFORMATTED_VALUE", "formula": "FORMULA",
}

type opts struct {
	m                                      *value.Map
	op, account, id, sheetName, sheetRange string
	inputOption                            string
	rows                                   []any
	hasRows                                bool
}

func invalid(field, format string, args ...any) error {
	return action.Invalid(Type, field, format, args...)
}

func (o *opts) str(field string, required bool) (string, error) {
	v, ok := o.m.Get(field)
	if !ok || v == nil || v == "" {
		if required {
			return "", invalid(field, "is required for %s", o.op)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", invalid(field, "must be a string, got %s", value.TypeName(v))
	}
	return s, nil
}

func checkRows(field string, v any) ([]any, error) {
	rows, ok := v.([]any)
	if !ok {
		return nil, invalid(field, "must be an array of arrays, got %s", value.TypeName(v))
	}
	for i, r := range rows {
		cells, ok := r.([]any)
		if !ok {
			return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "must be an array of cell values, got %s", value.TypeName(r))
		}
		for j, c := range cells {
			switch c.(type) {
			case nil, string, bool, int64, float64, *big.Int:
			default:
				return nil, invalid(fmt.Sprintf("%s[%d][%d]", field, i, j), "must be a string, number, boolean or null, got %s", value.TypeName(c))
			}
		}
	}
	return rows, nil
}

// Validate implements action.Validator.
func (p *Performer) Validate(raw any) error {
	_, err := parse(raw)
	return err
}

func parse(raw any) (*opts, error) {
	m, ok := raw.(*value.Map)
	if !ok {
		return nil, invalid("", "must be a hash, got %s", value.TypeName(raw))
	}
	o := &opts{m: m}
	opv, _ := m.Get("operation")
	o.op, _ = opv.(string)
	if !slices.Contains(Operations, o.op) {
		return nil, invalid("operation", "must be one of %s, got %v", strings.Join(Operations, ", "), opv)
	}
	var err error
	if o.account, err = o.str("account", true); err != nil {
		return nil, err
	}
	if o.op != "create_spreadsheet" {
		if o.id, err = o.str("spreadsheet_id", true); err != nil {
			return nil, err
		}
	}
	if o.sheetName, err = o.str("sheet_name", false); err != nil {
		return nil, err
	}
	if o.sheetRange, err = o.str("sheet_range", false); err != nil {
		return nil, err
	}
	if o.sheetRange != "" {
		if q, _, ok := splitRange(o.sheetRange); ok && o.sheetName != "" && q != o.sheetName {
			return nil, invalid("sheet_range", "names sheet %q but sheet_name is %q", q, o.sheetName)
		}
	}
	iv, err := o.str("value_input_option", false)
	if err != nil {
		return nil, err
	}
	switch iv {
	case "", "raw":
		o.inputOption = "RAW"
	case "user_entered":
		o.inputOption = "USER_ENTERED"
	default:
		return nil, invalid("value_input_option", `must be "raw" or "user_entered", got %q`, iv)
	}
	if rv, ok := m.Get("rows"); ok && rv != nil {
		if o.rows, err = checkRows("rows", rv); err != nil {
			return nil, err
		}
		o.hasRows = true
	}
	switch o.op {
	case "create_spreadsheet":
		if sv, ok := m.Get("sheets"); ok && sv != nil {
			if o.hasRows {
				return nil, invalid("sheets", "cannot be combined with rows; give each sheet its rows")
			}
			list, ok := sv.([]any)
			if !ok || len(list) == 0 {
				return nil, invalid("sheets", `must be a non-empty array of {"name": ..., "rows": [...]}`)
			}
			for i, s := range list {
				sm, ok := s.(*value.Map)
				name, _ := sm.Get("name")
				if n, _ := name.(string); !ok || n == "" {
					return nil, invalid(fmt.Sprintf("sheets[%d].name", i), "is required")
				}
				if r, ok := sm.Get("rows"); ok && r != nil {
					if _, err := checkRows(fmt.Sprintf("sheets[%d].rows", i), r); err != nil {
						return nil, err
					}
				}
			}
		}
		if fp, err := o.str("folder_path", false); err != nil {
			return nil, err
		} else if fp != "" {
			if _, _, err := gapi.SplitPath(fp + "/x"); err != nil {
				return nil, invalid("folder_path", "%v", err)
			}
		}
	case "append_rows", "update_rows":
		if !o.hasRows {
			return nil, invalid("rows", "is required for %s (an array of arrays)", o.op)
		}
		if o.op == "update_rows" && o.sheetName == "" && o.sheetRange == "" {
			return nil, invalid("sheet_range", "or sheet_name is required for update_rows")
		}
	case "clear_values":
		if o.sheetName == "" && o.sheetRange == "" {
			return nil, invalid("sheet_range", "or sheet_name is required for clear_values")
		}
	case "get_values":
		if rv, err := o.str("value_render_option", false); err != nil {
			return nil, err
		} else if rv != "" && renderOptions[rv] == "" {
			return nil, invalid("value_render_option", `must be "formatted_value", "unformatted_value" or "formula", got %q`, rv)
		}
	case "delete_rows":
		if o.sheetName == "" {
			return nil, invalid("sheet_name", "is required for delete_rows")
		}
		start, ok := intOpt(m, "start_row")
		if !ok || start < 1 {
			return nil, invalid("start_row", "is required: a row number, 1 or more")
		}
		if _, has := m.Get("end_row"); has {
			if end, ok := intOpt(m, "end_row"); !ok || end < start {
				return nil, invalid("end_row", "must be a row number not before start_row")
			}
		}
	case "add_sheet", "delete_sheet":
		if o.sheetName == "" {
			return nil, invalid("sheet_name", "is required for %s", o.op)
		}
	case "rename_sheet":
		if o.sheetName == "" {
			return nil, invalid("sheet_name", "is required for rename_sheet")
		}
		if _, err := o.str("new_sheet_name", true); err != nil {
			return nil, err
		}
	case "export_spreadsheet":
		if ft, err := o.str("file_type", false); err != nil {
			return nil, err
		} else if ft != "" && exportTypes[ft] == "" {
			return nil, invalid("file_type", "must be one of xlsx, csv, pdf, html, ods, tsv, got %q", ft)
		}
	}
	if rv, ok := m.Get("retry_on_transient_errors"); ok && rv != nil {
		if _, ok := rv.(bool); !ok {
			return nil, invalid("retry_on_transient_errors", "must be a boolean, got %s", value.TypeName(rv))
		}
	}
	return o, nil
}

func intOpt(m *value.Map, k string) (int64, bool) {
	v, _ := m.Get(k)
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), x == float64(int64(x))
	}
	return 0, false
}

var qualifiedRE = regexp.MustCompile(`^(?:'((?:[^']|'')+)'|([^'!]+))!(.*)$`)

// splitRange splits "Sheet!A1:B2" into the sheet and the cells.
func splitRange(r string) (sheet, cells string, qualified bool) {
	m := qualifiedRE.FindStringSubmatch(r)
	if m == nil {
		return "", r, false
	}
	if m[1] != "" {
		return strings.ReplaceAll(m[1], "''", "'"), m[3], true
	}
	return m[2], m[3], true
}

var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quoteSheet quotes a sheet name for A1 notation.
func quoteSheet(s string) string {
	if plainName.MatchString(s) && !regexp.MustCompile(`^[A-Za-z]{1,3}[0-9]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func spreadsheetURL(id string) string { return "https://docs.google.com/spreadsheets/d/" + id }

type sheetProps struct {
	SheetID int64  `json:"sheetId"`
	Title   string `json:"title"`
	Index   int64  `json:"index"`
}

type spreadsheet struct {
	SpreadsheetID string `json:"spreadsheetId"`
	Properties    struct {
		Title string `json:"title"`
	} `json:"properties"`
	Sheets []struct {
		Properties sheetProps `json:"properties"`
	} `json:"sheets"`
}

func (p *Performer) sheetsURL(id, rest string) string {
	return p.g.SheetsBase + "/v4/spreadsheets/" + url.PathEscape(id) + rest
}

func (p *Performer) sheets(ctx context.Context, o *opts) ([]sheetProps, error) {
	var s spreadsheet
	if _, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "GET", URL: p.sheetsURL(o.id, "?fields="+url.QueryEscape("sheets.properties(sheetId,title,index)")), Retry: true}, &s); err != nil {
		return nil, err
	}
	out := make([]sheetProps, len(s.Sheets))
	for i, sh := range s.Sheets {
		out[i] = sh.Properties
	}
	slices.SortFunc(out, func(a, b sheetProps) int { return int(a.Index - b.Index) })
	return out, nil
}

func (p *Performer) sheetNamed(ctx context.Context, o *opts, name string) (sheetProps, error) {
	all, err := p.sheets(ctx, o)
	if err != nil {
		return sheetProps{}, err
	}
	for _, s := range all {
		if s.Title == name {
			return s, nil
		}
	}
	return sheetProps{}, action.Failed(fmt.Errorf("google_sheets action: spreadsheet %s has no sheet named %q", o.id, name))
}

// target is the A1 range an operation works on.
func (p *Performer) target(ctx context.Context, o *opts) (string, error) {
	if _, _, q := splitRange(o.sheetRange); q {
		return o.sheetRange, nil
	}
	sheet := o.sheetName
	if sheet == "" {
		all, err := p.sheets(ctx, o)
		if err != nil {
			return "", err
		}
		if len(all) == 0 {
			return "", action.Failed(fmt.Errorf("google_sheets action: spreadsheet %s has no sheets", o.id))
		}
		sheet = all[0].Title
	}
	if o.sheetRange != "" {
		return quoteSheet(sheet) + "!" + o.sheetRange, nil
	}
	return quoteSheet(sheet), nil
}

type updateResult struct {
	UpdatedRange   string `json:"updatedRange"`
	UpdatedRows    int64  `json:"updatedRows"`
	UpdatedColumns int64  `json:"updatedColumns"`
	UpdatedCells   int64  `json:"updatedCells"`
}

func (p *Performer) writeRows(ctx context.Context, o *opts, rng string, rows []any, retry bool) (updateResult, error) {
	var ur updateResult
	u := p.sheetsURL(o.id, "/values/"+url.PathEscape(rng)+"?valueInputOption="+o.inputOption)
	_, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "PUT", URL: u, Body: map[string]any{"range": rng, "majorDimension": "ROWS", "values": jsonRows(rows)}, Retry: retry}, &ur)
	return ur, err
}

// jsonRows converts canonical values for encoding/json.
func jsonRows(rows []any) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		cells := r.([]any)
		out[i] = make([]any, len(cells))
		for j, c := range cells {
			if b, ok := c.(*big.Int); ok {
				out[i][j] = b.String()
			} else {
				out[i][j] = c
			}
		}
	}
	return out
}

func (p *Performer) batchUpdate(ctx context.Context, o *opts, req map[string]any, retry bool) (map[string]any, error) {
	var out struct {
		Replies []map[string]any `json:"replies"`
	}
	if _, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "POST", URL: p.sheetsURL(o.id, ":batchUpdate"), Body: map[string]any{"requests": []any{req}}, Retry: retry}, &out); err != nil {
		return nil, err
	}
	if len(out.Replies) > 0 {
		return out.Replies[0], nil
	}
	return map[string]any{}, nil
}

func newResult(id string) *value.Map {
	m := value.NewMap(8)
	m.Set("spreadsheet_id", id)
	return m
}

// Perform implements action.Performer.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	o, err := parse(req.Options)
	if err != nil {
		return action.Result{}, err
	}
	res, err := p.perform(ctx, o)
	if err != nil {
		return action.Result{}, err
	}
	return action.Result{Value: res}, nil
}

func (p *Performer) perform(ctx context.Context, o *opts) (*value.Map, error) {
	switch o.op {
	case "create_spreadsheet":
		// A failure after the spreadsheet exists is permanent (not
		// retried), so that a retry does not create a second one.
		return p.create(ctx, o)
	case "append_rows":
		rng, err := p.target(ctx, o)
		if err != nil {
			return nil, err
		}
		retry, _ := o.m.Get("retry_on_transient_errors")
		var out struct {
			Updates updateResult `json:"updates"`
		}
		u := p.sheetsURL(o.id, "/values/"+url.PathEscape(rng)+":append?valueInputOption="+o.inputOption+"&insertDataOption=INSERT_ROWS")
		if _, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "POST", URL: u, Body: map[string]any{"range": rng, "majorDimension": "ROWS", "values": jsonRows(o.rows)}, Retry: retry == true}, &out); err != nil {
			return nil, err
		}
		r := newResult(o.id)
		r.Set("updated_range", out.Updates.UpdatedRange)
		r.Set("updated_rows", out.Updates.UpdatedRows)
		r.Set("updated_columns", out.Updates.UpdatedColumns)
		r.Set("spreadsheet_url", spreadsheetURL(o.id))
		return r, nil
	case "update_rows":
		rng, err := p.target(ctx, o)
		if err != nil {
			return nil, err
		}
		if _, _, q := splitRange(rng); !q {
			rng += "!A1"
		}
		ur, err := p.writeRows(ctx, o, rng, o.rows, true)
		if err != nil {
			return nil, err
		}
		r := newResult(o.id)
		r.Set("updated_range", ur.UpdatedRange)
		r.Set("updated_rows", ur.UpdatedRows)
		r.Set("updated_columns", ur.UpdatedColumns)
		r.Set("updated_cells", ur.UpdatedCells)
		r.Set("spreadsheet_url", spreadsheetURL(o.id))
		return r, nil
	case "clear_values":
		rng, err := p.target(ctx, o)
		if err != nil {
			return nil, err
		}
		var out struct {
			ClearedRange string `json:"clearedRange"`
		}
		if _, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "POST", URL: p.sheetsURL(o.id, "/values/"+url.PathEscape(rng)+":clear"), Body: map[string]any{}, Retry: true}, &out); err != nil {
			return nil, err
		}
		r := newResult(o.id)
		r.Set("cleared_range", out.ClearedRange)
		r.Set("spreadsheet_url", spreadsheetURL(o.id))
		return r, nil
	case "get_values":
		return p.getValues(ctx, o)
	case "delete_rows":
		sh, err := p.sheetNamed(ctx, o, o.sheetName)
		if err != nil {
			return nil, err
		}
		start, _ := intOpt(o.m, "start_row")
		end := start
		if e, ok := intOpt(o.m, "end_row"); ok {
			end = e
		}
		if _, err := p.batchUpdate(ctx, o, map[string]any{"deleteDimension": map[string]any{"range": map[string]any{
			"sheetId": sh.SheetID, "dimension": "ROWS", "startIndex": start - 1, "endIndex": end}}}, false); err != nil {
			return nil, err
		}
		r := newResult(o.id)
		r.Set("sheet_name", o.sheetName)
		r.Set("start_row", start)
		r.Set("end_row", end)
		r.Set("deleted_rows", end-start+1)
		r.Set("spreadsheet_url", spreadsheetURL(o.id))
		return r, nil
	case "add_sheet":
		reply, err := p.batchUpdate(ctx, o, map[string]any{"addSheet": map[string]any{"properties": map[string]any{"title": o.sheetName}}}, false)
		if err != nil {
			return nil, err
		}
		r := newResult(o.id)
		r.Set("sheet_id", sheetIDOf(reply, "addSheet"))
		r.Set("sheet_name", o.sheetName)
		if o.hasRows && len(o.rows) > 0 {
			ur, err := p.writeRows(ctx, o, quoteSheet(o.sheetName)+"!A1", o.rows, true)
			if err != nil {
				return nil, action.Failed(fmt.Errorf("sheet %q was added, but writing its rows failed: %w", o.sheetName, err))
			}
			r.Set("updated_rows", ur.UpdatedRows)
			r.Set("updated_columns", ur.UpdatedColumns)
		}
		r.Set("spreadsheet_url", spreadsheetURL(o.id))
		return r, nil
	case "rename_sheet":
		newName, _ := o.str("new_sheet_name", true)
		sh, err := p.sheetNamed(ctx, o, o.sheetName)
		if err != nil {
			return nil, err
		}
		if _, err := p.batchUpdate(ctx, o, map[string]any{"updateSheetProperties": map[string]any{
			"properties": map[string]any{"sheetId": sh.SheetID, "title": newName}, "fields": "title"}}, true); err != nil {
			return nil, err
		}
		r := newResult(o.id)
		r.Set("sheet_id", sh.SheetID)
		r.Set("previous_sheet_name", o.sheetName)
		r.Set("sheet_name", newName)
		r.Set("spreadsheet_url", spreadsheetURL(o.id))
		return r, nil
	case "delete_sheet":
		all, err := p.sheets(ctx, o)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(all, func(s sheetProps) bool { return s.Title == o.sheetName })
		if i < 0 {
			return nil, action.Failed(fmt.Errorf("google_sheets action: spreadsheet %s has no sheet named %q", o.id, o.sheetName))
		}
		if len(all) == 1 {
			return nil, action.Failed(fmt.Errorf("google_sheets action: %q is the spreadsheet's last sheet and cannot be deleted", o.sheetName))
		}
		if _, err := p.batchUpdate(ctx, o, map[string]any{"deleteSheet": map[string]any{"sheetId": all[i].SheetID}}, false); err != nil {
			return nil, err
		}
		r := newResult(o.id)
		r.Set("sheet_id", all[i].SheetID)
		r.Set("sheet_name", o.sheetName)
		r.Set("spreadsheet_url", spreadsheetURL(o.id))
		return r, nil
	case "export_spreadsheet":
		return p.export(ctx, o)
	}
	return nil, invalid("operation", "unsupported %q", o.op)
}

func sheetIDOf(reply map[string]any, key string) int64 {
	m, _ := reply[key].(map[string]any)
	props, _ := m["properties"].(map[string]any)
	f, _ := props["sheetId"].(float64)
	return int64(f)
}

func (p *Performer) create(ctx context.Context, o *opts) (*value.Map, error) {
	title, err := o.str("title", false)
	if err != nil {
		return nil, err
	}
	if title == "" {
		title = "New Spreadsheet"
	}
	body := map[string]any{"properties": map[string]any{"title": title}}
	type named struct {
		name string
		rows []any
	}
	var named_ []named
	if sv, ok := o.m.Get("sheets"); ok && sv != nil {
		var sheets []any
		for _, s := range sv.([]any) {
			sm := s.(*value.Map)
			n, _ := sm.Get("name")
			r, _ := sm.Get("rows")
			rows, _ := r.([]any)
			named_ = append(named_, named{name: n.(string), rows: rows})
			sheets = append(sheets, map[string]any{"properties": map[string]any{"title": n}})
		}
		body["sheets"] = sheets
	}
	var s spreadsheet
	if _, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "POST", URL: p.g.SheetsBase + "/v4/spreadsheets", Body: body}, &s); err != nil {
		return nil, err
	}
	if s.SpreadsheetID == "" {
		return nil, action.Failed(fmt.Errorf("google_sheets action: create_spreadsheet: Google answered no spreadsheetId"))
	}
	o.id = s.SpreadsheetID
	r := newResult(o.id)
	r.Set("spreadsheet_url", spreadsheetURL(o.id))
	r.Set("title", s.Properties.Title)
	if o.hasRows && len(o.rows) > 0 && len(s.Sheets) > 0 {
		if _, err := p.writeRows(ctx, o, quoteSheet(s.Sheets[0].Properties.Title)+"!A1", o.rows, true); err != nil {
			return nil, action.Failed(fmt.Errorf("spreadsheet %s was created, but writing its rows failed: %w", o.id, err))
		}
	}
	if named_ != nil {
		list := make([]any, 0, len(s.Sheets))
		for _, sh := range s.Sheets {
			m := value.NewMap(2)
			m.Set("name", sh.Properties.Title)
			m.Set("sheet_id", sh.Properties.SheetID)
			list = append(list, m)
		}
		for _, n := range named_ {
			if len(n.rows) > 0 {
				if _, err := p.writeRows(ctx, o, quoteSheet(n.name)+"!A1", n.rows, true); err != nil {
					return nil, action.Failed(fmt.Errorf("spreadsheet %s was created, but writing sheet %q failed: %w", o.id, n.name, err))
				}
			}
		}
		r.Set("sheets", list)
	}
	fp, _ := o.str("folder_path", false)
	if fp != "" {
		folders, _, _ := gapi.SplitPath(fp + "/x")
		folder, err := p.g.EnsureFolders(ctx, o.account, folders)
		if err == nil {
			err = p.g.Move(ctx, o.account, o.id, folder)
		}
		if err != nil {
			return nil, action.Failed(fmt.Errorf("spreadsheet %s was created, but moving it to %q failed: %w", o.id, fp, err))
		}
		r.Set("folder_path", strings.Trim(fp, "/"))
	} else {
		r.Set("folder_path", nil)
	}
	return r, nil
}

func (p *Performer) getValues(ctx context.Context, o *opts) (*value.Map, error) {
	rng, err := p.target(ctx, o)
	if err != nil {
		return nil, err
	}
	render := "FORMATTED_VALUE"
	if rv, _ := o.str("value_render_option", false); rv != "" {
		render = renderOptions[rv]
	}
	raw, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "GET", URL: p.sheetsURL(o.id, "/values/"+url.PathEscape(rng)+"?valueRenderOption="+render+"&majorDimension=ROWS"), Retry: true}, nil)
	if err != nil {
		if strings.Contains(err.Error(), "larger than the limit") {
			return nil, action.Failed(fmt.Errorf("google_sheets action: get_values: the values exceed %d bytes; narrow sheet_range", MaxValuesBytes))
		}
		return nil, err
	}
	v, err := value.FromJSON(raw)
	if err != nil {
		return nil, action.Failed(fmt.Errorf("google_sheets action: get_values: %w", err))
	}
	vm, _ := v.(*value.Map)
	rangeV, values := any(rng), any([]any{})
	if vm != nil {
		if x, ok := vm.Get("range"); ok {
			rangeV = x
		}
		if x, ok := vm.Get("values"); ok && x != nil {
			values = x
		}
	}
	r := newResult(o.id)
	r.Set("range", rangeV)
	r.Set("values", values)
	r.Set("row_count", int64(len(values.([]any))))
	r.Set("spreadsheet_url", spreadsheetURL(o.id))
	return r, nil
}

func (p *Performer) export(ctx context.Context, o *opts) (*value.Map, error) {
	ft, _ := o.str("file_type", false)
	if ft == "" {
		ft = "xlsx"
	}
	var meta gapi.File
	fileURL := p.g.DriveBase + "/drive/v3/files/" + url.PathEscape(o.id)
	if _, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "GET", URL: fileURL + "?fields=id,name", Retry: true}, &meta); err != nil {
		return nil, err
	}
	data, err := p.g.Do(ctx, gapi.Call{Account: o.account, Method: "GET", URL: fileURL + "/export?mimeType=" + url.QueryEscape(exportTypes[ft]), Retry: true}, nil)
	if err != nil {
		return nil, err
	}
	r := newResult(o.id)
	r.Set("name", meta.Name)
	r.Set("size", int64(len(data)))
	r.Set("file_type", ft)
	r.Set("data_base64", base64.StdEncoding.EncodeToString(data))
	return r, nil
}

package standin

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Google serves the parts of the Drive v3 and Sheets v4 APIs that
// Sprocket's google, google_sheets and google_drive actions call, with
// one drive per connected identity (its "email"). Requests need a live
// token of OAuth.
type Google struct {
	// OAuth issues and checks tokens.
	OAuth *OAuthServer
	// RateLimit makes the next n API calls answer 429 with Retry-After.
	RateLimit int

	mu     sync.Mutex
	drives map[string]*drive
	nextID int
	calls  int
}

type drive struct {
	files  map[string]*dfile
	sheets map[string]*spreadsheet
}

type dfile struct {
	ID, Name, MimeType string
	Parents            []string
	Data               []byte
	Trashed            bool
}

type spreadsheet struct {
	id, title string
	sheets    []*gsheet
}

type gsheet struct {
	id    int64
	title string
	cells [][]any
}

// Mount adds the APIs under prefix: prefix+"/drive/v3/…",
// prefix+"/upload/drive/v3/…" and prefix+"/v4/spreadsheets…".
func (g *Google) Mount(mux *http.ServeMux, prefix string) {
	g.mu.Lock()
	if g.drives == nil {
		g.drives = map[string]*drive{}
	}
	g.mu.Unlock()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, http.HandlerFunc(g.serve)))
}

func gerr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": http.StatusText(status)}})
}

// Calls counts API calls answered (401s and 429s included).
func (g *Google) Calls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls
}

// Drive returns the files of identity's drive: name → content, with
// folder paths ("reports/a.txt"), spreadsheets as "<title>.gsheet".
func (g *Google) Drive(identity string) map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]string{}
	d := g.drives[identity]
	if d == nil {
		return out
	}
	var pathOf func(f *dfile) string
	pathOf = func(f *dfile) string {
		if len(f.Parents) == 0 || f.Parents[0] == "root" {
			return f.Name
		}
		p := d.files[f.Parents[0]]
		if p == nil {
			return f.Name
		}
		return pathOf(p) + "/" + f.Name
	}
	for _, f := range d.files {
		if f.MimeType == folderMIME || f.Trashed {
			continue
		}
		out[pathOf(f)] = string(f.Data)
	}
	return out
}

// Values returns a sheet's cells.
func (g *Google) Values(identity, spreadsheetID, sheet string) [][]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.drives[identity]
	if d == nil || d.sheets[spreadsheetID] == nil {
		return nil
	}
	for _, s := range d.sheets[spreadsheetID].sheets {
		if s.title == sheet {
			return s.cells
		}
	}
	return nil
}

const folderMIME = "application/vnd.google-apps.folder"

func (g *Google) id() string {
	g.nextID++
	return fmt.Sprintf("g%06d", g.nextID)
}

func (g *Google) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.calls++
	if g.RateLimit > 0 {
		g.RateLimit--
		g.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		gerr(w, http.StatusTooManyRequests, "Quota exceeded")
		return
	}
	g.mu.Unlock()
	id, ok := g.OAuth.Valid(r)
	if !ok {
		gerr(w, http.StatusUnauthorized, "Request had invalid authentication credentials.")
		return
	}
	email, _ := id["email"].(string)
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		gerr(w, http.StatusBadRequest, err.Error())
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.drives[email]
	if d == nil {
		d = &drive{files: map[string]*dfile{}, sheets: map[string]*spreadsheet{}}
		g.drives[email] = d
	}
	p := r.URL.EscapedPath()
	switch {
	case strings.HasPrefix(p, "/v4/spreadsheets"):
		g.sheetsAPI(w, r, d, strings.TrimPrefix(p, "/v4/spreadsheets"), body)
	case strings.HasPrefix(p, "/upload/drive/v3/files"):
		g.upload(w, r, d, strings.TrimPrefix(p, "/upload/drive/v3/files"), body)
	case strings.HasPrefix(p, "/drive/v3/files"):
		g.files(w, r, d, strings.TrimPrefix(p, "/drive/v3/files"), body)
	default:
		gerr(w, http.StatusNotFound, "no such API: "+p)
	}
}

func fileJSON(f *dfile) map[string]any {
	link := "https://drive.google.com/file/d/" + f.ID + "/view"
	if f.MimeType == "application/vnd.google-apps.spreadsheet" {
		link = "https://docs.google.com/spreadsheets/d/" + f.ID + "/edit"
	}
	return map[string]any{"kind": "drive#file", "id": f.ID, "name": f.Name, "mimeType": f.MimeType, "parents": f.Parents, "webViewLink": link}
}

var qTerm = regexp.MustCompile(`(name|mimeType)\s*(=|!=|contains)\s*'((?:[^'\\]|\\.)*)'|'((?:[^'\\]|\\.)*)'\s+in\s+parents|trashed\s*=\s*(true|false)`)

func unq(s string) string { return strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(s) }

// match applies the subset of Drive's query language the actions use.
func match(f *dfile, q string) bool {
	trashedWanted := false
	for _, m := range qTerm.FindAllStringSubmatch(q, -1) {
		switch {
		case m[1] != "":
			field := f.Name
			if m[1] == "mimeType" {
				field = f.MimeType
			}
			v := unq(m[3])
			switch m[2] {
			case "=":
				if field != v {
					return false
				}
			case "!=":
				if field == v {
					return false
				}
			case "contains":
				if !strings.Contains(field, v) {
					return false
				}
			}
		case m[4] != "":
			parent := unq(m[4])
			found := false
			for _, p := range f.Parents {
				found = found || p == parent
			}
			if !found {
				return false
			}
		case m[5] != "":
			trashedWanted = m[5] == "true"
		}
	}
	return f.Trashed == trashedWanted
}

func (g *Google) files(w http.ResponseWriter, r *http.Request, d *drive, rest string, body []byte) {
	q := r.URL.Query()
	switch {
	case rest == "" && r.Method == http.MethodGet:
		size, _ := strconv.Atoi(q.Get("pageSize"))
		if size <= 0 || size > 1000 {
			size = 100
		}
		list := []any{}
		for _, f := range sortedFiles(d) {
			if match(f, q.Get("q")) && len(list) < size {
				list = append(list, fileJSON(f))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"kind": "drive#fileList", "files": list})
	case rest == "" && r.Method == http.MethodPost:
		var meta struct {
			Name     string   `json:"name"`
			MimeType string   `json:"mimeType"`
			Parents  []string `json:"parents"`
		}
		if err := json.Unmarshal(body, &meta); err != nil || meta.Name == "" {
			gerr(w, http.StatusBadRequest, "file metadata needs a name")
			return
		}
		f := g.newFile(d, meta.Name, meta.MimeType, meta.Parents, nil)
		writeJSON(w, http.StatusOK, fileJSON(f))
	default:
		id, sub, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		f := d.files[id]
		if f == nil {
			gerr(w, http.StatusNotFound, "File not found: "+id)
			return
		}
		switch {
		case sub == "export" && r.Method == http.MethodGet:
			g.export(w, d, f, q.Get("mimeType"))
		case sub == "" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, fileJSON(f))
		case sub == "" && r.Method == http.MethodPatch:
			if add := q.Get("addParents"); add != "" {
				var keep []string
				remove := strings.Split(q.Get("removeParents"), ",")
				for _, p := range f.Parents {
					if !contains(remove, p) {
						keep = append(keep, p)
					}
				}
				f.Parents = append(keep, strings.Split(add, ",")...)
			}
			var meta struct {
				Name string `json:"name"`
			}
			if json.Unmarshal(body, &meta) == nil && meta.Name != "" {
				f.Name = meta.Name
			}
			writeJSON(w, http.StatusOK, fileJSON(f))
		default:
			gerr(w, http.StatusMethodNotAllowed, r.Method+" "+rest)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedFiles(d *drive) []*dfile {
	out := make([]*dfile, 0, len(d.files))
	for _, f := range d.files {
		out = append(out, f)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (g *Google) newFile(d *drive, name, mimeType string, parents []string, data []byte) *dfile {
	if len(parents) == 0 {
		parents = []string{"root"}
	}
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	f := &dfile{ID: g.id(), Name: name, MimeType: mimeType, Parents: parents, Data: data}
	d.files[f.ID] = f
	return f
}

func (g *Google) upload(w http.ResponseWriter, r *http.Request, d *drive, rest string, body []byte) {
	q := r.URL.Query()
	id := strings.TrimPrefix(rest, "/")
	switch q.Get("uploadType") {
	case "media":
		ct := r.Header.Get("Content-Type")
		if id != "" && r.Method == http.MethodPatch {
			f := d.files[id]
			if f == nil {
				gerr(w, http.StatusNotFound, "File not found: "+id)
				return
			}
			f.Data = body
			if ct != "" {
				f.MimeType = ct
			}
			writeJSON(w, http.StatusOK, fileJSON(f))
			return
		}
		if r.Method != http.MethodPost {
			gerr(w, http.StatusMethodNotAllowed, r.Method)
			return
		}
		f := g.newFile(d, "Untitled", ct, nil, body)
		writeJSON(w, http.StatusOK, fileJSON(f))
	case "multipart":
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/related" {
			gerr(w, http.StatusBadRequest, "multipart uploads need Content-Type multipart/related")
			return
		}
		mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
		metaPart, err := mr.NextPart()
		if err != nil {
			gerr(w, http.StatusBadRequest, "missing metadata part")
			return
		}
		var meta struct {
			Name     string   `json:"name"`
			MimeType string   `json:"mimeType"`
			Parents  []string `json:"parents"`
		}
		if err := json.NewDecoder(metaPart).Decode(&meta); err != nil {
			gerr(w, http.StatusBadRequest, "bad metadata: "+err.Error())
			return
		}
		dataPart, err := mr.NextPart()
		if err != nil {
			gerr(w, http.StatusBadRequest, "missing media part")
			return
		}
		data, _ := io.ReadAll(dataPart)
		if meta.MimeType == "" {
			meta.MimeType = dataPart.Header.Get("Content-Type")
		}
		for _, p := range meta.Parents {
			if p != "root" && d.files[p] == nil {
				gerr(w, http.StatusNotFound, "File not found: "+p)
				return
			}
		}
		f := g.newFile(d, meta.Name, meta.MimeType, meta.Parents, data)
		writeJSON(w, http.StatusOK, fileJSON(f))
	default:
		gerr(w, http.StatusBadRequest, "uploadType must be media or multipart")
	}
}

func (g *Google) export(w http.ResponseWriter, d *drive, f *dfile, mimeType string) {
	s := d.sheets[f.ID]
	if s == nil {
		gerr(w, http.StatusBadRequest, "Export only supports Docs Editors files.")
		return
	}
	sep := ","
	switch mimeType {
	case "text/csv":
	case "text/tab-separated-values":
		sep = "\t"
	case "application/pdf", "application/zip", "application/x-vnd.oasis.opendocument.spreadsheet",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		sep = ""
	default:
		gerr(w, http.StatusBadRequest, "unsupported export mimeType "+mimeType)
		return
	}
	var b strings.Builder
	if sep == "" {
		fmt.Fprintf(&b, "stand-in %s export of %s\n", mimeType, s.title)
		sep = ","
	}
	for _, row := range s.sheets[0].cells {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = fmt.Sprint(c)
		}
		b.WriteString(strings.Join(cells, sep) + "\n")
	}
	w.Header().Set("Content-Type", mimeType)
	_, _ = w.Write([]byte(b.String()))
}

// --- Sheets ---

func sheetJSON(s *spreadsheet) map[string]any {
	sheets := []any{}
	for i, sh := range s.sheets {
		sheets = append(sheets, map[string]any{"properties": map[string]any{"sheetId": sh.id, "title": sh.title, "index": i}})
	}
	return map[string]any{"spreadsheetId": s.id, "properties": map[string]any{"title": s.title}, "sheets": sheets,
		"spreadsheetUrl": "https://docs.google.com/spreadsheets/d/" + s.id + "/edit"}
}

func (g *Google) sheetsAPI(w http.ResponseWriter, r *http.Request, d *drive, rest string, body []byte) {
	if rest == "" && r.Method == http.MethodPost {
		var in struct {
			Properties struct {
				Title string `json:"title"`
			} `json:"properties"`
			Sheets []struct {
				Properties struct {
					Title string `json:"title"`
				} `json:"properties"`
			} `json:"sheets"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			gerr(w, http.StatusBadRequest, err.Error())
			return
		}
		title := in.Properties.Title
		if title == "" {
			title = "Untitled spreadsheet"
		}
		f := g.newFile(d, title, "application/vnd.google-apps.spreadsheet", nil, nil)
		s := &spreadsheet{id: f.ID, title: title}
		for i, sh := range in.Sheets {
			s.sheets = append(s.sheets, &gsheet{id: int64(i * 1000), title: sh.Properties.Title})
		}
		if len(s.sheets) == 0 {
			s.sheets = []*gsheet{{id: 0, title: "Sheet1"}}
		}
		d.sheets[s.id] = s
		writeJSON(w, http.StatusOK, sheetJSON(s))
		return
	}
	rest = strings.TrimPrefix(rest, "/")
	idPart, sub, _ := strings.Cut(rest, "/")
	id, verb, _ := strings.Cut(idPart, ":")
	s := d.sheets[id]
	if s == nil {
		gerr(w, http.StatusNotFound, "Requested entity was not found.")
		return
	}
	switch {
	case sub == "" && verb == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, sheetJSON(s))
	case sub == "" && verb == "batchUpdate" && r.Method == http.MethodPost:
		g.batchUpdate(w, s, body)
	case strings.HasPrefix(sub, "values/"):
		rawRange, valueVerb := strings.TrimPrefix(sub, "values/"), ""
		if i := strings.LastIndex(rawRange, ":"); i >= 0 && (rawRange[i+1:] == "append" || rawRange[i+1:] == "clear") {
			rawRange, valueVerb = rawRange[:i], rawRange[i+1:]
		}
		rng, err := url.PathUnescape(rawRange)
		if err != nil {
			gerr(w, http.StatusBadRequest, err.Error())
			return
		}
		g.values(w, r, s, rng, valueVerb, body)
	default:
		gerr(w, http.StatusNotFound, "no such method: "+rest)
	}
}

func (g *Google) batchUpdate(w http.ResponseWriter, s *spreadsheet, body []byte) {
	var in struct {
		Requests []map[string]json.RawMessage `json:"requests"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		gerr(w, http.StatusBadRequest, err.Error())
		return
	}
	replies := []any{}
	find := func(id int64) (int, *gsheet) {
		for i, sh := range s.sheets {
			if sh.id == id {
				return i, sh
			}
		}
		return -1, nil
	}
	for _, req := range in.Requests {
		switch {
		case req["addSheet"] != nil:
			var a struct {
				Properties struct {
					Title string `json:"title"`
				} `json:"properties"`
			}
			_ = json.Unmarshal(req["addSheet"], &a)
			for _, sh := range s.sheets {
				if sh.title == a.Properties.Title {
					gerr(w, http.StatusBadRequest, fmt.Sprintf("Invalid requests[0].addSheet: A sheet with the name %q already exists.", a.Properties.Title))
					return
				}
			}
			sh := &gsheet{id: int64(len(s.sheets)*1000 + 7), title: a.Properties.Title}
			s.sheets = append(s.sheets, sh)
			replies = append(replies, map[string]any{"addSheet": map[string]any{"properties": map[string]any{"sheetId": sh.id, "title": sh.title}}})
		case req["deleteSheet"] != nil:
			var a struct {
				SheetID int64 `json:"sheetId"`
			}
			_ = json.Unmarshal(req["deleteSheet"], &a)
			i, _ := find(a.SheetID)
			if i < 0 || len(s.sheets) == 1 {
				gerr(w, http.StatusBadRequest, "Invalid requests[0].deleteSheet")
				return
			}
			s.sheets = append(s.sheets[:i], s.sheets[i+1:]...)
			replies = append(replies, map[string]any{})
		case req["updateSheetProperties"] != nil:
			var a struct {
				Properties struct {
					SheetID int64  `json:"sheetId"`
					Title   string `json:"title"`
				} `json:"properties"`
			}
			_ = json.Unmarshal(req["updateSheetProperties"], &a)
			_, sh := find(a.Properties.SheetID)
			if sh == nil {
				gerr(w, http.StatusBadRequest, "Invalid requests[0].updateSheetProperties: no sheet")
				return
			}
			sh.title = a.Properties.Title
			replies = append(replies, map[string]any{})
		case req["deleteDimension"] != nil:
			var a struct {
				Range struct {
					SheetID    int64  `json:"sheetId"`
					Dimension  string `json:"dimension"`
					StartIndex int    `json:"startIndex"`
					EndIndex   int    `json:"endIndex"`
				} `json:"range"`
			}
			_ = json.Unmarshal(req["deleteDimension"], &a)
			_, sh := find(a.Range.SheetID)
			if sh == nil || a.Range.Dimension != "ROWS" || a.Range.StartIndex < 0 || a.Range.EndIndex <= a.Range.StartIndex {
				gerr(w, http.StatusBadRequest, "Invalid requests[0].deleteDimension")
				return
			}
			end := min(a.Range.EndIndex, len(sh.cells))
			if a.Range.StartIndex < end {
				sh.cells = append(sh.cells[:a.Range.StartIndex], sh.cells[end:]...)
			}
			replies = append(replies, map[string]any{})
		default:
			gerr(w, http.StatusBadRequest, "unsupported batchUpdate request")
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"spreadsheetId": s.id, "replies": replies})
}

var cellRE = regexp.MustCompile(`^([A-Z]*)([0-9]*)$`)

// a1 parses "A2" into a 0-based column and row (-1 when absent).
func a1(s string) (col, row int) {
	m := cellRE.FindStringSubmatch(strings.ToUpper(s))
	if m == nil {
		return -1, -1
	}
	col, row = -1, -1
	if m[1] != "" {
		col = 0
		for _, c := range m[1] {
			col = col*26 + int(c-'A'+1)
		}
		col--
	}
	if m[2] != "" {
		row, _ = strconv.Atoi(m[2])
		row--
	}
	return col, row
}

func colName(c int) string {
	s := ""
	for c++; c > 0; c = (c - 1) / 26 {
		s = string(rune('A'+(c-1)%26)) + s
	}
	return s
}

// parseRange splits "'My Sheet'!A2:C" into the sheet and the corners.
func (s *spreadsheet) parseRange(rng string) (*gsheet, int, int, int, int, error) {
	sheetName, cells, ok := strings.Cut(rng, "!")
	if !ok {
		sheetName, cells = rng, ""
	}
	if strings.HasPrefix(sheetName, "'") && strings.HasSuffix(sheetName, "'") {
		sheetName = strings.ReplaceAll(sheetName[1:len(sheetName)-1], "''", "'")
	}
	var sh *gsheet
	for _, x := range s.sheets {
		if x.title == sheetName {
			sh = x
		}
	}
	if sh == nil {
		return nil, 0, 0, 0, 0, fmt.Errorf("Unable to parse range: %s", rng)
	}
	c0, r0, c1, r1 := 0, 0, 1<<20, 1<<20
	if cells != "" {
		from, to, _ := strings.Cut(cells, ":")
		fc, fr := a1(from)
		if fc >= 0 {
			c0 = fc
		}
		if fr >= 0 {
			r0 = fr
		}
		if to == "" {
			c1, r1 = c0, r0
			if fr < 0 {
				r1 = 1 << 20
			}
		} else {
			tc, tr := a1(to)
			if tc >= 0 {
				c1 = tc
			}
			if tr >= 0 {
				r1 = tr
			}
		}
	}
	return sh, c0, r0, c1, r1, nil
}

func quoteTitle(t string) string {
	if regexp.MustCompile(`^[A-Za-z0-9_]+$`).MatchString(t) {
		return t
	}
	return "'" + strings.ReplaceAll(t, "'", "''") + "'"
}

func (g *Google) values(w http.ResponseWriter, r *http.Request, s *spreadsheet, rng, verb string, body []byte) {
	sh, c0, r0, c1, r1, err := s.parseRange(rng)
	if err != nil {
		gerr(w, http.StatusBadRequest, err.Error())
		return
	}
	write := func(startRow int, rows [][]any) map[string]any {
		cols := 0
		for i, row := range rows {
			for len(sh.cells) <= startRow+i {
				sh.cells = append(sh.cells, []any{})
			}
			line := sh.cells[startRow+i]
			for len(line) < c0+len(row) {
				line = append(line, "")
			}
			for j, v := range row {
				line[c0+j] = v
			}
			sh.cells[startRow+i] = line
			cols = max(cols, len(row))
		}
		return map[string]any{
			"spreadsheetId":  s.id,
			"updatedRange":   fmt.Sprintf("%s!%s%d:%s%d", quoteTitle(sh.title), colName(c0), startRow+1, colName(c0+max(cols, 1)-1), startRow+len(rows)),
			"updatedRows":    len(rows),
			"updatedColumns": cols,
			"updatedCells":   len(rows) * cols,
		}
	}
	switch {
	case verb == "" && r.Method == http.MethodGet:
		var out [][]any
		for i := r0; i < len(sh.cells) && i <= r1; i++ {
			row := sh.cells[i]
			var line []any
			for j := c0; j < len(row) && j <= c1; j++ {
				line = append(line, fmt.Sprint(row[j]))
			}
			out = append(out, line)
		}
		resp := map[string]any{"range": fmt.Sprintf("%s!%s%d:%s%d", quoteTitle(sh.title), colName(c0), r0+1, colName(min(c1, 25)), min(r1+1, 1000)), "majorDimension": "ROWS"}
		if len(out) > 0 {
			resp["values"] = out
		}
		writeJSON(w, http.StatusOK, resp)
	case verb == "" && r.Method == http.MethodPut:
		var in struct {
			Values [][]any `json:"values"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			gerr(w, http.StatusBadRequest, err.Error())
			return
		}
		if opt := r.URL.Query().Get("valueInputOption"); opt != "RAW" && opt != "USER_ENTERED" {
			gerr(w, http.StatusBadRequest, "valueInputOption is required")
			return
		}
		writeJSON(w, http.StatusOK, write(r0, in.Values))
	case verb == "append" && r.Method == http.MethodPost:
		var in struct {
			Values [][]any `json:"values"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			gerr(w, http.StatusBadRequest, err.Error())
			return
		}
		if opt := r.URL.Query().Get("valueInputOption"); opt != "RAW" && opt != "USER_ENTERED" {
			gerr(w, http.StatusBadRequest, "valueInputOption is required")
			return
		}
		last := len(sh.cells)
		for last > 0 && len(sh.cells[last-1]) == 0 {
			last--
		}
		writeJSON(w, http.StatusOK, map[string]any{"spreadsheetId": s.id, "updates": write(max(last, r0), in.Values)})
	case verb == "clear" && r.Method == http.MethodPost:
		for i := r0; i < len(sh.cells) && i <= r1; i++ {
			for j := c0; j < len(sh.cells[i]) && j <= c1; j++ {
				sh.cells[i][j] = ""
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"spreadsheetId": s.id, "clearedRange": rng})
	default:
		gerr(w, http.StatusNotFound, "no such values method: "+verb)
	}
}

package standin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Airtable serves the Airtable Web API calls the library uses: create a
// table (POST /v0/meta/bases/{base}/tables), list a base's tables, and
// create, list and update records (POST/GET/PATCH /v0/{base}/{table}),
// plus /v0/meta/whoami; tokens of OAuth, errors as Airtable's
// {"error": {"type", "message"}}.
type Airtable struct {
	// OAuth issues and checks tokens.
	OAuth *OAuthServer

	mu     sync.Mutex
	tables map[string]*atable // base/tableID → table
	next   int
}

type atable struct {
	ID, Name, Owner string
	Fields          []any
	Records         []map[string]any
}

// Mount adds the API under prefix (the API base).
func (a *Airtable) Mount(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+"/v0/meta/whoami", a.whoami)
	mux.HandleFunc("POST "+prefix+"/v0/meta/bases/{base}/tables", a.createTable)
	mux.HandleFunc("GET "+prefix+"/v0/meta/bases/{base}/tables", a.listTables)
	mux.HandleFunc("POST "+prefix+"/v0/{base}/{table}", a.records)
	mux.HandleFunc("GET "+prefix+"/v0/{base}/{table}", a.records)
	mux.HandleFunc("PATCH "+prefix+"/v0/{base}/{table}", a.records)
}

func atErr(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"type": typ, "message": msg}})
}

func (a *Airtable) auth(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, ok := a.OAuth.Valid(r)
	if !ok {
		atErr(w, http.StatusUnauthorized, "AUTHENTICATION_REQUIRED", "Authentication required")
		return "", false
	}
	return fmt.Sprint(id["email"]), true
}

func (a *Airtable) whoami(w http.ResponseWriter, r *http.Request) {
	id, ok := a.OAuth.Valid(r)
	if !ok {
		atErr(w, http.StatusUnauthorized, "AUTHENTICATION_REQUIRED", "Authentication required")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": "usr" + fmt.Sprint(id["email"]), "email": id["email"]})
}

// Tables returns the tables of base with their records, by name.
func (a *Airtable) Tables(base string) map[string][]map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string][]map[string]any{}
	for k, t := range a.tables {
		if len(k) > len(base) && k[:len(base)+1] == base+"/" {
			out[t.Name] = t.Records
		}
	}
	return out
}

func (a *Airtable) createTable(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.auth(w, r)
	if !ok {
		return
	}
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Fields      []any  `json:"fields"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &in); err != nil || in.Name == "" || len(in.Fields) == 0 {
		atErr(w, http.StatusUnprocessableEntity, "INVALID_REQUEST_UNKNOWN", "a table needs a name and fields")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tables == nil {
		a.tables = map[string]*atable{}
	}
	a.next++
	t := &atable{ID: fmt.Sprintf("tbl%011d", a.next), Name: in.Name, Fields: in.Fields, Owner: owner}
	a.tables[r.PathValue("base")+"/"+t.ID] = t
	writeJSON(w, http.StatusOK, map[string]any{"id": t.ID, "name": t.Name, "description": in.Description, "fields": t.Fields})
}

func (a *Airtable) listTables(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.auth(w, r); !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	list := []any{}
	for k, t := range a.tables {
		if len(k) > len(r.PathValue("base")) && k[:len(r.PathValue("base"))] == r.PathValue("base") {
			list = append(list, map[string]any{"id": t.ID, "name": t.Name, "fields": t.Fields})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tables": list})
}

func (a *Airtable) records(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.auth(w, r); !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tables[r.PathValue("base")+"/"+r.PathValue("table")]
	if t == nil {
		for k, x := range a.tables {
			if k == r.PathValue("base")+"/"+x.ID && x.Name == r.PathValue("table") {
				t = x
			}
		}
	}
	if t == nil {
		atErr(w, http.StatusNotFound, "TABLE_NOT_FOUND", "Could not find table "+r.PathValue("table"))
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"records": t.Records})
		return
	}
	var in struct {
		Records []map[string]any `json:"records"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &in); err != nil || len(in.Records) == 0 || len(in.Records) > 10 {
		atErr(w, http.StatusUnprocessableEntity, "INVALID_RECORDS", "send 1 to 10 records")
		return
	}
	out := []any{}
	for _, rec := range in.Records {
		fields, _ := rec["fields"].(map[string]any)
		if r.Method == http.MethodPatch {
			found := false
			for _, old := range t.Records {
				if old["id"] == rec["id"] {
					for k, v := range fields {
						old["fields"].(map[string]any)[k] = v
					}
					out = append(out, old)
					found = true
				}
			}
			if !found {
				atErr(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("record %v not found", rec["id"]))
				return
			}
			continue
		}
		a.next++
		nr := map[string]any{"id": fmt.Sprintf("rec%011d", a.next), "createdTime": time.Now().UTC().Format(time.RFC3339), "fields": fields}
		t.Records = append(t.Records, nr)
		out = append(out, nr)
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": out})
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/sprocketrun/sprocket/action/reporttoaster"
	"github.com/sprocketrun/sprocket/integrations/appevents"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/store"
)

// settingApp stores an app integration's settings, keyed by app name.
const settingApp store.SettingKind = "app_integration"

// sourceApp is the source of events delivered by app integrations.
const sourceApp = "integration"

// appConfig is an app integration's stored settings; secrets sealed.
type appConfig struct {
	Secret    string    `json:"sealed_secret,omitempty"`
	APIURL    string    `json:"api_url,omitempty"`
	APIKey    string    `json:"sealed_api_key,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// appSettings reads and writes app integration settings.
type appSettings struct {
	st   store.Settings
	box  *seal.Box
	shop *shopConn
	env  ShopifyConfig
}

func (a *appSettings) get(ctx context.Context, app string) (appConfig, error) {
	s, err := a.st.GetSetting(ctx, settingApp, app)
	if errors.Is(err, store.ErrNotFound) {
		return appConfig{}, nil
	}
	if err != nil {
		return appConfig{}, fmt.Errorf("read %s settings: %w", app, err)
	}
	var c appConfig
	if err := json.Unmarshal(s.Value, &c); err != nil {
		return appConfig{}, fmt.Errorf("read %s settings: %w", app, err)
	}
	return c, nil
}

func (a *appSettings) open(app, field, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b, err := a.box.Open(sealed, "app/"+app+"/"+field)
	if err != nil {
		return "", fmt.Errorf("open %s %s: %w", app, field, err)
	}
	return string(b), nil
}

// secret is the key that verifies app's deliveries: the configured one,
// or for flow the Shopify app's secret.
func (a *appSettings) secret(ctx context.Context, app string) (string, error) {
	c, err := a.get(ctx, app)
	if err != nil {
		return "", err
	}
	s, err := a.open(app, "secret", c.Secret)
	if err != nil || s != "" || app != "flow" {
		return s, err
	}
	if conn := a.shop.current(); conn != nil && conn.apiSecret != "" {
		return conn.apiSecret, nil
	}
	return a.env.APISecret, nil
}

// ReportToasterEndpoint implements reporttoaster.Endpoints.
func (a *appSettings) ReportToasterEndpoint(ctx context.Context) (reporttoaster.Endpoint, error) {
	c, err := a.get(ctx, "report_toaster")
	if err != nil {
		return reporttoaster.Endpoint{}, err
	}
	if c.APIURL == "" || c.APIKey == "" {
		return reporttoaster.Endpoint{}, errors.New("Report Toaster is not configured: set api_url and api_key with PUT /v1/integrations/report_toaster")
	}
	key, err := a.open("report_toaster", "api_key", c.APIKey)
	if err != nil {
		return reporttoaster.Endpoint{}, err
	}
	ep := reporttoaster.Endpoint{URL: c.APIURL, APIKey: key}
	if conn := a.shop.current(); conn != nil {
		ep.Shop = conn.shop
	}
	return ep, nil
}

// appEventRoutes adds the app integration endpoints:
//
//   - GET /v1/integrations: each app, whether it is configured, and the URL
//     to give it;
//   - PUT /v1/integrations/{app} {"secret", "api_url", "api_key"} and
//     DELETE /v1/integrations/{app};
//   - POST /integrations/{app} and /integrations/{app}/{subject}/{verb}
//     (unauthenticated; each delivery's signature is verified);
//   - run links (runlinks.go): POST /v1/run_links mints a signed link,
//     GET/POST /run/tasks[/{id}] shows and follows it.
func (s *Service) appEventRoutes(api map[string]apiHandler, mux *recordingMux) {
	api["GET /v1/integrations"] = s.listApps
	api["PUT /v1/integrations/{app}"] = s.putApp
	api["DELETE /v1/integrations/{app}"] = s.deleteApp
	mux.Handle("POST /integrations/{app}", s.gateIngest(http.HandlerFunc(s.appDelivery)))
	mux.Handle("POST /integrations/{app}/{rest...}", s.gateIngest(http.HandlerFunc(s.appDelivery)))
	api["POST /v1/run_links"] = s.createRunLink
	for _, p := range []string{runLinkPath, runLinkPath + "/{id}"} {
		mux.Handle("GET "+p, s.gateIngest(http.HandlerFunc(s.serveRunLink)))
		mux.HandleFunc("POST "+p, s.serveRunLink)
	}
}

func (s *Service) appSettings() *appSettings {
	return &appSettings{st: s.st, box: s.box, shop: s.shop, env: s.cfg.Shopify}
}

func knownApp(app string) error {
	if !slices.Contains(appevents.Apps, app) {
		return errorf(http.StatusNotFound, "app", "unknown app integration %q (one of %v)", app, appevents.Apps)
	}
	return nil
}

func (s *Service) listApps(r *http.Request) (int, any, error) {
	a := s.appSettings()
	out := []map[string]any{}
	for _, app := range appevents.Apps {
		c, err := a.get(r.Context(), app)
		if err != nil {
			return 0, nil, err
		}
		sec, err := a.secret(r.Context(), app)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, map[string]any{
			"app": app, "has_secret": sec != "", "api_url": c.APIURL, "has_api_key": c.APIKey != "",
			"delivery_url": s.publicURL(r) + "/integrations/" + app,
		})
	}
	return http.StatusOK, map[string]any{"integrations": out}, nil
}

func (s *Service) putApp(r *http.Request) (int, any, error) {
	app := r.PathValue("app")
	if err := knownApp(app); err != nil {
		return 0, nil, err
	}
	var in struct {
		Secret string `json:"secret"`
		APIURL string `json:"api_url"`
		APIKey string `json:"api_key"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	a := s.appSettings()
	c, err := a.get(r.Context(), app)
	if err != nil {
		return 0, nil, err
	}
	if in.Secret != "" {
		c.Secret = s.box.Seal([]byte(in.Secret), "app/"+app+"/secret")
	}
	if in.APIURL != "" {
		if app != "report_toaster" {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "api_url", "only report_toaster takes an api_url")
		}
		c.APIURL = in.APIURL
	}
	if in.APIKey != "" {
		c.APIKey = s.box.Seal([]byte(in.APIKey), "app/"+app+"/api_key")
	}
	c.UpdatedAt = time.Now().UTC()
	raw, _ := json.Marshal(c)
	if _, err := s.st.PutSetting(r.Context(), settingApp, app, raw); err != nil {
		return 0, nil, fmt.Errorf("store %s settings: %w", app, err)
	}
	return http.StatusOK, map[string]any{"app": app, "has_secret": c.Secret != "", "api_url": c.APIURL, "has_api_key": c.APIKey != ""}, nil
}

func (s *Service) deleteApp(r *http.Request) (int, any, error) {
	app := r.PathValue("app")
	if err := knownApp(app); err != nil {
		return 0, nil, err
	}
	if err := s.st.DeleteSetting(r.Context(), settingApp, app); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"deleted": true}, nil
}

// appDelivery verifies an app's delivery and records its event; it
// answers 202 with the event's id once the event is stored.
func (s *Service) appDelivery(w http.ResponseWriter, r *http.Request) {
	app := r.PathValue("app")
	if err := knownApp(app); err != nil {
		writeError(w, err.(*apiError))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, appevents.MaxBody))
	if err != nil {
		writeError(w, errorf(http.StatusRequestEntityTooLarge, "", "%s delivery: body over %d bytes or unreadable: %v", app, appevents.MaxBody, err))
		return
	}
	ctx := r.Context()
	a := s.appSettings()
	secret, err := a.secret(ctx, app)
	if err != nil {
		writeError(w, s.internal(r, err))
		return
	}
	if err := appevents.Verify(app, secret, r.Header, body, time.Now()); err != nil {
		s.log.Warn("app delivery refused", "app", app, "error", err)
		writeError(w, errorf(http.StatusUnauthorized, "", "%v", err))
		return
	}
	ev, err := appevents.Parse(app, r.PathValue("rest"), body)
	if err != nil {
		writeError(w, errorf(http.StatusUnprocessableEntity, "", "%v", err))
		return
	}
	ne := store.NewEvent{Topic: ev.Topic, Data: ev.Data, Source: sourceApp}
	if ev.TaskID != "" {
		if _, err := s.st.GetTask(ctx, ev.TaskID); err != nil {
			writeError(w, errorf(http.StatusUnprocessableEntity, "task_id", "flow delivery: task %q: %v", ev.TaskID, err))
			return
		}
		ne.TaskIDs = []string{ev.TaskID}
	}
	evs, err := s.st.InsertEvents(ctx, []store.NewEvent{ne})
	if err != nil || len(evs) != 1 {
		writeError(w, s.internal(r, fmt.Errorf("record %s event: %w", app, err)))
		return
	}
	s.wake()
	s.log.Info("app event", "app", app, "topic", ev.Topic, "event_id", evs[0].ID)
	writeJSON(w, http.StatusAccepted, map[string]any{"event_id": evs[0].ID, "topic": ev.Topic})
}

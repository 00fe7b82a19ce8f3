package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sprocketrun/sprocket/ingress/webhook"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
)

type settingsData struct {
	Webhooks       []webhookRow
	Globals        []globalRow
	Secrets        []store.Setting
	Filters        []filterRow
	CacheEndpoints []store.CacheEndpoint
	Tokens         []server.APIToken
	NewToken       string
	TimeZone       string
	Retention      string
	Shop           shopView
	EmailTemplates []server.EmailTemplate
	OAuth          []server.OAuthConnection
	Errors         map[string]string
	Form           map[string]string
}

// shopView is the Shopify connection as the settings page shows it.
type shopView struct {
	Connected                      bool
	Shop, Auth, Source, APIVersion string
	Granted, Needed, Missing       []string
}

func shopViewOf(m map[string]any) shopView {
	strs := func(k string) []string {
		switch v := m[k].(type) {
		case []string:
			return v
		case []any:
			out := make([]string, 0, len(v))
			for _, x := range v {
				out = append(out, fmt.Sprint(x))
			}
			return out
		}
		return nil
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	connected, _ := m["connected"].(bool)
	return shopView{Connected: connected, Shop: str("shop"), Auth: str("auth"), Source: str("source"), APIVersion: str("api_version"),
		Granted: strs("scopes"), Needed: strs("scopes_needed"), Missing: strs("scopes_missing")}
}

type webhookRow struct {
	store.Webhook
	URL string
}

type globalRow struct {
	Key   string
	Value string
}

type filterRow struct {
	Name, Template string
}

func (u *UI) settingsPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.showSettings(w, r, s, http.StatusOK, nil, nil, "")
}

// showSettings renders the settings page, with a form's errors and values.
func (u *UI) showSettings(w http.ResponseWriter, r *http.Request, s *session, status int, errs, form map[string]string, newToken string) {
	ctx := r.Context()
	d := settingsData{Errors: errs, Form: form, NewToken: newToken, TimeZone: u.svc.Location().String()}
	if ret := u.svc.Retention(); ret < 0 {
		d.Retention = "kept forever"
	} else {
		d.Retention = fmt.Sprintf("%d days", int(ret.Hours()/24))
	}
	shop, err := u.svc.ShopConnection(ctx)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	d.Shop = shopViewOf(shop)
	if d.EmailTemplates, err = u.svc.EmailTemplates(ctx); err != nil {
		u.internal(w, r, s, err)
		return
	}
	if d.OAuth, err = u.svc.OAuthConnections(ctx); err != nil {
		u.internal(w, r, s, err)
		return
	}
	hooks, err := u.st.ListWebhooks(ctx)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	for _, h := range hooks {
		d.Webhooks = append(d.Webhooks, webhookRow{Webhook: h, URL: scheme + "://" + r.Host + webhook.DefaultPrefix + h.ID})
	}
	gs, err := u.st.ListSettings(ctx, store.SettingGlobal)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	for _, g := range gs {
		d.Globals = append(d.Globals, globalRow{Key: g.Key, Value: string(g.Value)})
	}
	if d.Secrets, err = u.st.ListSettings(ctx, store.SettingSecret); err != nil {
		u.internal(w, r, s, err)
		return
	}
	fs, err := u.st.ListSettings(ctx, store.SettingEventFilter)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	for _, f := range fs {
		var v struct{ Name, Template string }
		if json.Unmarshal(f.Value, &v) == nil {
			d.Filters = append(d.Filters, filterRow{Name: f.Key, Template: v.Template})
		}
	}
	if d.CacheEndpoints, err = u.st.ListCacheEndpoints(ctx); err != nil {
		u.internal(w, r, s, err)
		return
	}
	if d.Tokens, err = u.svc.ListAPITokens(ctx); err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.render(w, r, s, status, "settings", "Settings", d)
}

func formValues(r *http.Request, names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = r.PostFormValue(n)
	}
	return m
}

func (u *UI) createWebhook(w http.ResponseWriter, r *http.Request, s *session) {
	f := server.WebhookFields{
		Name: strings.TrimSpace(r.PostFormValue("name")), Topic: strings.TrimSpace(r.PostFormValue("topic")),
		DataMode: r.PostFormValue("data_mode"), Secret: r.PostFormValue("secret"), SignatureHeader: strings.TrimSpace(r.PostFormValue("signature_header")),
	}
	hook, err := u.svc.CreateWebhook(r.Context(), f)
	if err != nil {
		field := server.ErrorField(err)
		if field == "" && !errors.Is(err, store.ErrInvalid) {
			u.internal(w, r, s, err)
			return
		}
		u.showSettings(w, r, s, http.StatusUnprocessableEntity, map[string]string{"webhook." + field: err.Error()}, formValues(r, "name", "topic", "data_mode", "signature_header"), "")
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Webhook %q created: POST to %s%s.", hook.Name, webhook.DefaultPrefix, hook.ID))
	u.redirect(w, r, "/settings#webhooks")
}

func (u *UI) deleteWebhook(w http.ResponseWriter, r *http.Request, s *session) {
	if err := u.svc.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", "Webhook deleted.")
	u.redirect(w, r, "/settings#webhooks")
}

func (u *UI) putGlobal(w http.ResponseWriter, r *http.Request, s *session) {
	key := strings.TrimSpace(r.PostFormValue("key"))
	raw := strings.TrimSpace(r.PostFormValue("value"))
	errs := map[string]string{}
	if !server.ValidSettingKey(key) {
		errs["global.key"] = "Keys are lower snake case starting with a letter (a-z, 0-9, _)."
	}
	var val []byte
	if raw == "" {
		errs["global.value"] = "A value is required (JSON, or plain text stored as a string)."
	} else if v, err := value.FromJSON([]byte(raw)); err == nil {
		val, _ = value.ToJSON(v)
	} else {
		val, _ = json.Marshal(r.PostFormValue("value"))
	}
	if len(errs) > 0 {
		u.showSettings(w, r, s, http.StatusUnprocessableEntity, errs, map[string]string{"global.key": key, "global.value": raw}, "")
		return
	}
	if _, err := u.st.PutSetting(r.Context(), store.SettingGlobal, key, val); err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.svc.SettingsChanged()
	u.sess.addFlash(s, "ok", fmt.Sprintf("Global %q saved.", key))
	u.redirect(w, r, "/settings#globals")
}

// putSecret stores a secret; its value is never shown again.
func (u *UI) putSecret(w http.ResponseWriter, r *http.Request, s *session) {
	key := strings.TrimSpace(r.PostFormValue("key"))
	val := r.PostFormValue("value")
	errs := map[string]string{}
	if !server.ValidSettingKey(key) {
		errs["secret.key"] = "Keys are lower snake case starting with a letter (a-z, 0-9, _)."
	}
	if val == "" {
		errs["secret.value"] = "A value is required."
	}
	if len(errs) > 0 {
		u.showSettings(w, r, s, http.StatusUnprocessableEntity, errs, map[string]string{"secret.key": key}, "")
		return
	}
	if _, err := u.svc.PutSecret(r.Context(), key, val); err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Secret %q saved. Its value is write-only: tasks see it as secrets.%s.", key, key))
	u.redirect(w, r, "/settings#secrets")
}

func (u *UI) putEventFilter(w http.ResponseWriter, r *http.Request, s *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	tmpl := strings.ReplaceAll(r.PostFormValue("template"), "\r\n", "\n")
	errs := map[string]string{}
	if name == "" {
		errs["filter.name"] = "A name is required."
	}
	if _, err := u.eng.Parse(tmpl); err != nil {
		errs["filter.template"] = "Liquid: " + err.Error()
	}
	if len(errs) > 0 {
		u.showSettings(w, r, s, http.StatusUnprocessableEntity, errs, map[string]string{"filter.name": name, "filter.template": tmpl}, "")
		return
	}
	raw, err := json.Marshal(map[string]string{"name": name, "template": tmpl})
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if _, err := u.st.PutSetting(r.Context(), store.SettingEventFilter, name, raw); err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.svc.SettingsChanged()
	u.sess.addFlash(s, "ok", fmt.Sprintf("Event filter %q saved.", name))
	u.redirect(w, r, "/settings#filters")
}

func (u *UI) deleteSetting(kind store.SettingKind, what string) handler {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		key := r.PathValue("key")
		if err := u.st.DeleteSetting(r.Context(), kind, key); err != nil {
			u.internal(w, r, s, err)
			return
		}
		u.svc.SettingsChanged()
		u.sess.addFlash(s, "ok", fmt.Sprintf("Deleted %s %q.", what, key))
		u.redirect(w, r, "/settings")
	}
}

func (u *UI) createCacheEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	key := strings.TrimSpace(r.PostFormValue("key"))
	ct := strings.TrimSpace(r.PostFormValue("content_type"))
	if ct == "" {
		ct = "application/json"
	}
	errs := map[string]string{}
	if key == "" {
		errs["cache.key"] = "A cache key is required."
	}
	if strings.ContainsAny(ct, "\r\n") || !strings.Contains(ct, "/") {
		errs["cache.content_type"] = "Use a media type such as application/json."
	}
	if len(errs) > 0 {
		u.showSettings(w, r, s, http.StatusUnprocessableEntity, errs, map[string]string{"cache.key": key, "cache.content_type": ct}, "")
		return
	}
	e, err := u.st.CreateCacheEndpoint(r.Context(), store.CacheEndpoint{Key: key, ContentType: ct})
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Cache endpoint created at /cache/%s.", e.ID))
	u.redirect(w, r, "/settings#cache")
}

func (u *UI) deleteCacheEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	if err := u.st.DeleteCacheEndpoint(r.Context(), r.PathValue("id")); err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", "Cache endpoint deleted.")
	u.redirect(w, r, "/settings#cache")
}

func (u *UI) createAPIToken(w http.ResponseWriter, r *http.Request, s *session) {
	_, tok, err := u.svc.CreateAPIToken(r.Context(), strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		u.log.WarnContext(r.Context(), "create API token", "error", err)
		u.showSettings(w, r, s, http.StatusUnprocessableEntity, map[string]string{"token.name": err.Error()}, nil, "")
		return
	}
	// The token is shown once, on this response only.
	u.showSettings(w, r, s, http.StatusOK, nil, nil, tok)
}

func (u *UI) revokeAPIToken(w http.ResponseWriter, r *http.Request, s *session) {
	if err := u.svc.RevokeAPIToken(r.Context(), r.PathValue("id")); err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", "API token revoked.")
	u.redirect(w, r, "/settings#tokens")
}

// connectShop connects a shop with an access token (checked against it).
func (u *UI) connectShop(w http.ResponseWriter, r *http.Request, s *session) {
	shop := strings.TrimSpace(r.PostFormValue("shop"))
	token := strings.TrimSpace(r.PostFormValue("access_token"))
	errs := map[string]string{}
	if shop == "" {
		errs["shop.shop"] = "The shop's domain is required, e.g. demo.myshopify.com."
	}
	if token == "" {
		errs["shop.access_token"] = "An Admin API access token is required."
	}
	if len(errs) == 0 {
		if err := u.svc.ConnectShop(r.Context(), shop, token); err != nil {
			field := "shop." + server.ErrorField(err)
			if field == "shop." {
				field = "shop.shop"
			}
			errs[field] = err.Error()
		}
	}
	if len(errs) > 0 {
		u.showSettings(w, r, s, http.StatusUnprocessableEntity, errs, map[string]string{"shop.shop": shop}, "")
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Connected to %s.", shop))
	u.redirect(w, r, "/settings#shop")
}

// disconnectShop forgets the stored connection.
func (u *UI) disconnectShop(w http.ResponseWriter, r *http.Request, s *session) {
	if err := u.svc.DisconnectShop(r.Context()); err != nil {
		u.sess.addFlash(s, "error", err.Error())
	} else {
		u.sess.addFlash(s, "ok", "The shop is disconnected.")
	}
	u.redirect(w, r, "/settings#shop")
}

// putEmailTemplate stores an email template.
func (u *UI) putEmailTemplate(w http.ResponseWriter, r *http.Request, s *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	body := r.PostFormValue("body")
	if err := u.svc.PutEmailTemplate(r.Context(), name, body); err != nil {
		field := "template." + server.ErrorField(err)
		if field == "template." {
			field = "template.body"
		}
		u.showSettings(w, r, s, http.StatusUnprocessableEntity, map[string]string{field: err.Error()},
			map[string]string{"template.name": name, "template.body": body}, "")
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Email template %q saved.", name))
	u.redirect(w, r, "/settings#email-templates")
}

// deleteEmailTemplate deletes an email template.
func (u *UI) deleteEmailTemplate(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	if err := u.svc.DeleteEmailTemplate(r.Context(), name); err != nil {
		u.sess.addFlash(s, "error", err.Error())
	} else {
		u.sess.addFlash(s, "ok", fmt.Sprintf("Email template %q deleted.", name))
	}
	u.redirect(w, r, "/settings#email-templates")
}

// connectOAuth sends the browser to the provider to connect an account.
func (u *UI) connectOAuth(w http.ResponseWriter, r *http.Request, s *session) {
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	to, err := u.svc.ConnectOAuth(r.Context(), r.PathValue("provider"), r.PostFormValue("account"), scheme+"://"+r.Host)
	if err != nil {
		u.sess.addFlash(s, "error", err.Error())
		u.redirect(w, r, "/settings#connections")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// disconnectOAuth forgets an account.
func (u *UI) disconnectOAuth(w http.ResponseWriter, r *http.Request, s *session) {
	p, a := r.PathValue("provider"), r.PathValue("account")
	if err := u.svc.DisconnectOAuth(r.Context(), p, a); err != nil {
		u.sess.addFlash(s, "error", err.Error())
	} else {
		u.sess.addFlash(s, "ok", fmt.Sprintf("Disconnected %s account %q.", p, a))
	}
	u.redirect(w, r, "/settings#connections")
}

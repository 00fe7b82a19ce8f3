package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/shopify/objects"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// UIFactory builds the web interface served at "/" on the service's parts
// (see package web); it is called once by Open.
type UIFactory func(s *Service) (http.Handler, error)

// CheckToken reports whether token is the admin token or an API token.
func (s *Service) CheckToken(token string) bool { return s.auth.checkToken(token) }

// Wake tells the pipeline that new work may be due.
func (s *Service) Wake() { s.wake() }

// Location returns the shop's time zone.
func (s *Service) Location() *time.Location { return s.cfg.Location }

// Retention returns how long finished events and runs are kept (negative:
// forever).
func (s *Service) Retention() time.Duration { return s.cfg.Retention }

// Previewer returns the task previewer, or nil when previews are not available.
func (s *Service) Previewer() Previewer { return s.cfg.Previewer }

// Vault returns the service's globals and secrets.
func (s *Service) Vault() *Vault { return s.vault }

// SettingsChanged drops cached globals, secrets and event filters after
// they were changed directly in the store.
func (s *Service) SettingsChanged() { s.vault.invalidate() }

// Variables returns the globals and secrets Liquid variables (secrets as
// references, never their values).
func (v *Vault) Variables(ctx context.Context) (globals, secrets map[string]any, err error) {
	return v.variables(ctx)
}

// ValidSettingKey reports whether key is a valid global or secret key.
func ValidSettingKey(key string) bool { return settingKey.MatchString(key) }

// ErrorField returns the request field an error of this package names,
// or "".
func ErrorField(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.field
	}
	return ""
}

// WebhookFields are the editable fields of a Mechanic webhook.
type WebhookFields struct {
	// Name is the display name.
	Name string
	// Topic is the user/... topic of the events it creates.
	Topic string
	// DataMode is "auto" or "full_request".
	DataMode string
	// Secret optionally signs requests.
	Secret string
	// SignatureHeader names the header carrying the signature.
	SignatureHeader string
}

// CreateWebhook validates f as POST /v1/webhooks does and stores the
// webhook; validation errors name their field (ErrorField).
func (s *Service) CreateWebhook(ctx context.Context, f WebhookFields) (store.Webhook, error) {
	in := webhookInput{Name: &f.Name, Topic: &f.Topic, DataMode: &f.DataMode, Secret: &f.Secret, SignatureHeader: &f.SignatureHeader}
	var w store.Webhook
	if err := in.apply(&w, s.box); err != nil {
		return w, err
	}
	w, err := s.st.CreateWebhook(ctx, w)
	if err != nil {
		return w, fmt.Errorf("create webhook: %w", err)
	}
	return w, nil
}

// DeleteWebhook deletes a webhook and forgets its cached lookup.
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	err := s.st.DeleteWebhook(ctx, id)
	s.hooks.forget(id)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// APIToken describes a token created through the API or the web interface.
type APIToken struct {
	// ID is the first hex digits of the token's hash.
	ID string
	// Name is the label given at creation.
	Name string
	// CreatedAt is when it was created.
	CreatedAt time.Time
}

// ListAPITokens lists the created API tokens (never their values).
func (s *Service) ListAPITokens(ctx context.Context) ([]APIToken, error) {
	list, err := s.st.ListSettings(ctx, store.SettingAPIToken)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	out := make([]APIToken, 0, len(list))
	for _, x := range list {
		var meta struct{ Name string }
		_ = json.Unmarshal(x.Value, &meta)
		out = append(out, APIToken{ID: x.Key[:min(apiTokenIDLen, len(x.Key))], Name: meta.Name, CreatedAt: x.CreatedAt})
	}
	return out, nil
}

// CreateAPIToken creates a named token and returns it (shown once; only
// its hash is stored).
func (s *Service) CreateAPIToken(ctx context.Context, name string) (APIToken, string, error) {
	if strings.TrimSpace(name) == "" {
		return APIToken{}, "", errorf(http.StatusBadRequest, "name", "name is required")
	}
	list, err := s.st.ListSettings(ctx, store.SettingAPIToken)
	if err != nil {
		return APIToken{}, "", fmt.Errorf("list API tokens: %w", err)
	}
	if len(list) >= MaxAPITokens {
		return APIToken{}, "", errorf(http.StatusConflict, "", "there are already %d API tokens; revoke one first", MaxAPITokens)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return APIToken{}, "", fmt.Errorf("generate API token: %w", err)
	}
	token := newToken(b)
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	meta, err := json.Marshal(map[string]string{"name": name})
	if err != nil {
		return APIToken{}, "", fmt.Errorf("encode API token: %w", err)
	}
	x, err := s.st.PutSetting(ctx, store.SettingAPIToken, key, meta)
	if err != nil {
		return APIToken{}, "", fmt.Errorf("store API token: %w", err)
	}
	if err := s.auth.loadTokens(ctx, s.st); err != nil {
		return APIToken{}, "", err
	}
	return APIToken{ID: key[:apiTokenIDLen], Name: name, CreatedAt: x.CreatedAt}, token, nil
}

// RevokeAPIToken deletes the API token with this id; store.ErrNotFound
// when there is none.
func (s *Service) RevokeAPIToken(ctx context.Context, id string) error {
	list, err := s.st.ListSettings(ctx, store.SettingAPIToken)
	if err != nil {
		return fmt.Errorf("list API tokens: %w", err)
	}
	for _, x := range list {
		if len(id) < apiTokenIDLen || !strings.HasPrefix(x.Key, id) {
			continue
		}
		if err := s.st.DeleteSetting(ctx, store.SettingAPIToken, x.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("revoke API token: %w", err)
		}
		return s.auth.loadTokens(ctx, s.st)
	}
	return fmt.Errorf("API token %q: %w", id, store.ErrNotFound)
}

// TaskProblem is a reason a task cannot be saved or enabled.
type TaskProblem struct {
	// Field is the task field ("script", "options.<key>", …).
	Field string
	// Line is the line within the field, or 0.
	Line int
	// Message says what is wrong, naming the field.
	Message string
}

// TaskSaveProblems returns the Liquid syntax errors of every template of
// t (code, subscriptions template, JavaScript, option values holding
// Liquid), which refuse a save as in Mechanic's editor: the rules of the
// task API (syntaxProblems), for the web UI.
func TaskSaveProblems(t *task.Task) []TaskProblem {
	return taskProblems(syntaxProblems(t))
}

// TaskEnableProblems returns what refuses enabling t: its save problems,
// required options left empty and option values invalid for their keys
// (the task API's enableProblems).
func TaskEnableProblems(t *task.Task, now time.Time) []TaskProblem {
	return taskProblems(enableProblems(t, now))
}

func taskProblems(ps []problem) []TaskProblem {
	out := make([]TaskProblem, len(ps))
	for i, p := range ps {
		out[i] = TaskProblem(p)
	}
	return out
}

// ShopConnection describes the Shopify connection for the web UI: the
// fields of GET /v1/shop/connection and, when connected, the scopes the
// enabled tasks need and miss.
func (s *Service) ShopConnection(ctx context.Context) (map[string]any, error) {
	return s.shopifyStatus(ctx)
}

// ConnectShop connects a shop with an Admin API access token, checked
// against the shop first, as PUT /v1/shop/connection does.
func (s *Service) ConnectShop(ctx context.Context, shop, accessToken string) error {
	if err := s.envManaged(); err != nil {
		return err
	}
	req := connectRequest{Shop: shop, AccessToken: accessToken}
	conn, err := s.shop.connect(ctx, req)
	if err != nil {
		return err
	}
	if err := s.shop.verify(ctx, conn); err != nil {
		return errorf(http.StatusUnprocessableEntity, "access_token", "the shop did not accept the token: %v", err)
	}
	if err := s.shop.save(ctx, conn, req); err != nil {
		return err
	}
	s.hookSync.Kick()
	return nil
}

// DisconnectShop forgets the stored Shopify connection.
func (s *Service) DisconnectShop(ctx context.Context) error {
	if err := s.envManaged(); err != nil {
		return err
	}
	return s.shop.remove(ctx)
}

// EmailTemplate is a stored email template.
type EmailTemplate struct {
	Name, Body string
	UpdatedAt  time.Time
}

// EmailTemplates lists the email templates.
func (s *Service) EmailTemplates(ctx context.Context) ([]EmailTemplate, error) {
	list, err := s.st.ListSettings(ctx, settingEmailTemplate)
	if err != nil {
		return nil, fmt.Errorf("list email templates: %w", err)
	}
	out := make([]EmailTemplate, len(list))
	for i, x := range list {
		j := emailTemplateOut(x)
		out[i] = EmailTemplate{Name: j.Name, Body: j.Body, UpdatedAt: j.UpdatedAt}
	}
	return out, nil
}

// PutEmailTemplate stores a template after checking that it parses.
func (s *Service) PutEmailTemplate(ctx context.Context, name, body string) error {
	if strings.TrimSpace(name) == "" || len(name) > maxEmailTemplateName || strings.ContainsAny(name, "/\x00\r\n") {
		return errorf(http.StatusBadRequest, "name", "template names are 1 to %d characters without slashes or line breaks", maxEmailTemplateName)
	}
	if _, err := dialect.NewEngine(dialect.Options{}).Parse(body); err != nil {
		return errorf(http.StatusBadRequest, "body", "the template does not parse: %v", err)
	}
	raw, err := json.Marshal(map[string]string{"name": name, "body": body})
	if err != nil {
		return err
	}
	if _, err := s.st.PutSetting(ctx, settingEmailTemplate, name, raw); err != nil {
		return fmt.Errorf("put email template: %w", err)
	}
	return nil
}

// DeleteEmailTemplate deletes a template.
func (s *Service) DeleteEmailTemplate(ctx context.Context, name string) error {
	return s.st.DeleteSetting(ctx, settingEmailTemplate, name)
}

// ConsoleShopifyCalls bounds the Shopify API calls of one console evaluation.
const ConsoleShopifyCalls = 50

// ShopifyReads returns what a Liquid console evaluation reads Shopify with:
// the shopify filter's client and the REST-backed objects of the connected
// shop, sharing a budget of calls API calls. Without a connection, reads
// fail saying no shop is connected (the stand-in shop's attributes stay).
func (s *Service) ShopifyReads(calls int) (dialect.GraphQLClient, func(ctx context.Context, version string) run.LiveObjects) {
	budget := objects.NewCallBudget(calls)
	gql := runGraphQL{api: s.shop, budget: budget}
	objs := func(ctx context.Context, version string) run.LiveObjects {
		return objects.NewSession(ctx, objects.Config{Client: s.shop, APIVersion: version, Budget: budget,
			Shop: shopAttributes{api: s.shop, standIn: shopIn(s.cfg.Location)}})
	}
	return gql, objs
}

// OAuthConnection is a provider with its connected accounts, for the web UI.
type OAuthConnection struct {
	Provider   string
	Configured bool
	Accounts   []string
}

// OAuthConnections lists the OAuth providers and their accounts.
func (s *Service) OAuthConnections(ctx context.Context) ([]OAuthConnection, error) {
	ps, err := s.oauth.Providers(ctx)
	if err != nil {
		return nil, err
	}
	accts, err := s.oauth.Accounts(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]OAuthConnection, 0, len(ps))
	for _, p := range ps {
		c := OAuthConnection{Provider: p.Name, Configured: p.Configured}
		for _, a := range accts {
			if a.Provider == p.Name {
				c.Accounts = append(c.Accounts, a.Name)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// ConnectOAuth begins connecting an account of provider and returns the
// provider's authorize URL; publicURL is the service's base URL the
// provider sends the user back to.
func (s *Service) ConnectOAuth(ctx context.Context, provider, account, publicURL string) (string, error) {
	if s.cfg.Shopify.PublicURL != "" {
		publicURL = s.cfg.Shopify.PublicURL
	}
	u, err := s.oauth.Connect(ctx, provider, strings.TrimSpace(account), strings.TrimRight(publicURL, "/")+OAuthCallbackPath)
	if err != nil {
		return "", oauthError(err)
	}
	return u, nil
}

// DisconnectOAuth forgets an account, revoking its grant at the provider.
func (s *Service) DisconnectOAuth(ctx context.Context, provider, account string) error {
	revokeErr, err := s.oauth.Disconnect(ctx, provider, account)
	if err != nil {
		return oauthError(err)
	}
	if revokeErr != nil {
		s.log.Warn("oauth revocation failed; the account was forgotten anyway", "provider", provider, "account", account, "error", revokeErr)
	}
	return nil
}

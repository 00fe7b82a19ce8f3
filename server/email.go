package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sprocketrun/sprocket/action"
	actionemail "github.com/sprocketrun/sprocket/action/email"
	actionhttp "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/dialect"
	smtpingress "github.com/sprocketrun/sprocket/ingress/smtp"
	"github.com/sprocketrun/sprocket/store"
)

// Email templates (platform/email/templates.md) are kept as settings of
// this kind, keyed by name; the value is {"name", "body"}.
const settingEmailTemplate store.SettingKind = "email_template"

// sourceEmail is the source recorded on mechanic/emails/received events.
const sourceEmail = "email"

// maxEmailTemplateName bounds template names.
const maxEmailTemplateName = 100

// storeEmailTemplates serves email templates to the email action.
type storeEmailTemplates struct {
	st store.Settings
}

// EmailTemplate implements actionemail.Templates.
func (t storeEmailTemplates) EmailTemplate(ctx context.Context, name string) (string, bool, error) {
	x, err := t.st.GetSetting(ctx, settingEmailTemplate, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("get email template: %w", err)
	}
	var v struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(x.Value, &v); err != nil {
		return "", false, fmt.Errorf("email template %q: %w", name, err)
	}
	return v.Body, true, nil
}

// emailFiles lets email attachments use the http action's file
// generators, naming the attachments option in errors.
type emailFiles struct {
	g actionhttp.FileGenerator
}

// Generate implements actionemail.FileGenerator.
func (f emailFiles) Generate(ctx context.Context, name string, spec any) ([]byte, string, error) {
	out, err := f.g.Generate(ctx, name, spec)
	var ve *action.ValidationError
	if errors.As(err, &ve) {
		return nil, "", &action.ValidationError{Type: actionemail.Type, Field: "attachments." + strings.TrimPrefix(ve.Field, "files."), Msg: ve.Msg}
	}
	if err != nil {
		return nil, "", err
	}
	return out.Data, out.ContentType, nil
}

// newEmailAction builds the email action on the store's templates and the
// given file generators.
func newEmailAction(cfg actionemail.Config, st store.Settings, files actionhttp.FileGenerator) (*actionemail.Performer, error) {
	if cfg.Templates == nil {
		cfg.Templates = storeEmailTemplates{st: st}
	}
	if cfg.Files == nil && files != nil {
		cfg.Files = emailFiles{g: files}
	}
	p, err := actionemail.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("email action: %w", err)
	}
	return p, nil
}

// emailSink commits inbound email events through the group-commit batcher.
type emailSink struct {
	b     *store.EventBatcher
	wake  func()
	quota *storedQuota // nil without a quota
}

// Commit implements smtp.Sink.
func (s emailSink) Commit(ctx context.Context, topic string, data json.RawMessage, at time.Time) (string, error) {
	if err := s.quota.admitErr(ctx); err != nil {
		return "", err // the SMTP client is told to try again later
	}
	ev, err := s.b.Insert(ctx, store.NewEvent{ID: store.NewTimeID(at), Topic: topic, Data: data, Source: sourceEmail})
	if err != nil {
		return "", fmt.Errorf("record email event: %w", err)
	}
	s.wake()
	return ev.ID, nil
}

// Email templates through the API: GET /v1/email_templates answers
// {"email_templates": [{name, body, created_at, updated_at}]}; GET, PUT
// (body {"body": "<liquid>"}) and DELETE /v1/email_templates/{name}.

type emailTemplateJSON struct {
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func emailTemplateOut(x store.Setting) emailTemplateJSON {
	var v struct {
		Body string `json:"body"`
	}
	_ = json.Unmarshal(x.Value, &v)
	return emailTemplateJSON{Name: x.Key, Body: v.Body, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
}

func emailTemplateName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if strings.TrimSpace(name) == "" || len(name) > maxEmailTemplateName || !utf8.ValidString(name) || strings.ContainsAny(name, "/\x00\r\n") {
		return "", errorf(http.StatusBadRequest, "name", "template names are 1 to %d characters without slashes or line breaks, got %q", maxEmailTemplateName, name)
	}
	return name, nil
}

func (s *Service) listEmailTemplates(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	body, err := listPaged(s.cfg.MaxListBytes, "email_templates", p,
		func(p store.Page) ([]store.Setting, string, error) {
			return s.st.ListSettingsPage(r.Context(), settingEmailTemplate, p)
		}, settingCursor,
		func(x store.Setting) (any, error) { return emailTemplateOut(x), nil })
	if err != nil {
		return 0, nil, pageError("list email templates", err)
	}
	return http.StatusOK, body, nil
}

func (s *Service) getEmailTemplate(r *http.Request) (int, any, error) {
	name, err := emailTemplateName(r)
	if err != nil {
		return 0, nil, err
	}
	x, err := s.st.GetSetting(r.Context(), settingEmailTemplate, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errorf(http.StatusNotFound, "name", "email template %q not found", name)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("get email template: %w", err)
	}
	return http.StatusOK, emailTemplateOut(x), nil
}

// putEmailTemplate creates or replaces a template after checking that it
// parses as Liquid.
func (s *Service) putEmailTemplate(r *http.Request) (int, any, error) {
	name, err := emailTemplateName(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Body *string `json:"body"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Body == nil {
		return 0, nil, errorf(http.StatusBadRequest, "body", `send {"body": "<Liquid template>"}`)
	}
	if _, err := dialect.NewEngine(dialect.Options{}).Parse(*in.Body); err != nil {
		return 0, nil, errorf(http.StatusBadRequest, "body", "the template does not parse: %v", err)
	}
	raw, err := json.Marshal(map[string]string{"name": name, "body": *in.Body})
	if err != nil {
		return 0, nil, fmt.Errorf("encode email template: %w", err)
	}
	x, err := s.st.PutSetting(r.Context(), settingEmailTemplate, name, raw)
	if err != nil {
		return 0, nil, fmt.Errorf("put email template: %w", err)
	}
	return http.StatusOK, emailTemplateOut(x), nil
}

func (s *Service) deleteEmailTemplate(r *http.Request) (int, any, error) {
	name, err := emailTemplateName(r)
	if err != nil {
		return 0, nil, err
	}
	err = s.st.DeleteSetting(r.Context(), settingEmailTemplate, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errorf(http.StatusNotFound, "name", "email template %q not found", name)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("delete email template: %w", err)
	}
	return http.StatusNoContent, nil, nil
}

// openSMTP builds the inbound SMTP server and binds its address when
// Config.SMTPListen is set.
func (s *Service) openSMTP() error {
	if s.cfg.SMTPListen == "" {
		return nil
	}
	hostname := "localhost"
	if len(s.cfg.EmailDomains) > 0 {
		hostname = strings.TrimSpace(s.cfg.EmailDomains[0])
	}
	srv, err := smtpingress.New(smtpingress.Config{
		Domains:         s.cfg.EmailDomains,
		Sink:            emailSink{b: s.batcher, wake: s.wake, quota: s.quota},
		Hostname:        hostname,
		TLSConfig:       s.cfg.SMTPTLSConfig,
		MaxMessageBytes: s.cfg.SMTPMaxMessageBytes,
		Logger:          s.log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.SMTPListen)
	if err != nil {
		return fmt.Errorf("smtp listen: %w", err)
	}
	s.smtp, s.smtpLn = srv, ln
	return nil
}

// SMTPAddr returns the address the inbound SMTP server listens on, or nil
// when it is off.
func (s *Service) SMTPAddr() net.Addr {
	if s.smtpLn == nil {
		return nil
	}
	return s.smtpLn.Addr()
}

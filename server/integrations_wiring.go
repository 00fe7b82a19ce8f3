package server

import (
	"net/http"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/airtable"
	"github.com/sprocketrun/sprocket/action/flow"
	"github.com/sprocketrun/sprocket/action/google"
	"github.com/sprocketrun/sprocket/action/googledrive"
	"github.com/sprocketrun/sprocket/action/googlesheets"
	actionhttp "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/action/reporttoaster"
	"github.com/sprocketrun/sprocket/action/slack"
	"github.com/sprocketrun/sprocket/shopify"
)

// IntegrationEndpoints overrides the base URLs of the integration actions'
// APIs (tests point them at loopback stand-ins); empty fields keep the
// services' real URLs.
type IntegrationEndpoints struct {
	// SlackBaseURL is Slack's Web API (https://slack.com/api).
	SlackBaseURL string
	// AirtableBaseURL is Airtable's API (https://api.airtable.com).
	AirtableBaseURL string
	// GoogleDriveBaseURL is https://www.googleapis.com (Drive and uploads).
	GoogleDriveBaseURL string
	// GoogleSheetsBaseURL is https://sheets.googleapis.com.
	GoogleSheetsBaseURL string
	// GoogleDocsBaseURL is https://docs.googleapis.com.
	GoogleDocsBaseURL string
	// FlowHandles overrides the Flow trigger handles (see flow.DefaultHandles).
	FlowHandles map[string]string
	// HTTPTransport, when set, is the http action's transport (tests route
	// hosts that library tasks hard-code to loopback stand-ins).
	HTTPTransport http.RoundTripper
}

// integrationHTTP is the client of the integration actions: bounded per call.
func integrationHTTP() *http.Client { return &http.Client{Timeout: 60 * time.Second} }

// oauthTokens returns the OAuth manager, or nil (as an interface) when
// the pipeline has none, so that the actions report it clearly.
func (d PipelineDeps) oauthTokens() oauthTokenSource {
	if d.OAuth == nil {
		return nil
	}
	return d.OAuth
}

// oauthTokenSource is what the integration actions need of the manager.
type oauthTokenSource interface {
	actionhttp.OAuthTokens
}

func slackPerformer(o PipelineOptions, d PipelineDeps) action.Performer {
	return slack.New(slack.Config{Tokens: d.oauthTokens(), BaseURL: o.Integrations.SlackBaseURL, HTTP: integrationHTTP()})
}

func airtablePerformer(o PipelineOptions, d PipelineDeps) action.Performer {
	return airtable.New(airtable.Config{Tokens: d.oauthTokens(), BaseURL: o.Integrations.AirtableBaseURL, HTTP: integrationHTTP()})
}

func googlePerformer(o PipelineOptions, d PipelineDeps) action.Performer {
	e := o.Integrations
	return google.New(google.Config{Tokens: d.oauthTokens(), DriveBaseURL: e.GoogleDriveBaseURL, SheetsBaseURL: e.GoogleSheetsBaseURL, DocsBaseURL: e.GoogleDocsBaseURL, HTTP: integrationHTTP()})
}

func googleSheetsPerformer(o PipelineOptions, d PipelineDeps) action.Performer {
	e := o.Integrations
	return googlesheets.New(googlesheets.Config{Tokens: d.oauthTokens(), DriveBaseURL: e.GoogleDriveBaseURL, SheetsBaseURL: e.GoogleSheetsBaseURL, HTTP: integrationHTTP()})
}

func googleDrivePerformer(o PipelineOptions, d PipelineDeps, files googledrive.Files) action.Performer {
	return googledrive.New(googledrive.Config{Tokens: d.oauthTokens(), Files: files, DriveBaseURL: o.Integrations.GoogleDriveBaseURL, HTTP: integrationHTTP()})
}

func flowPerformer(o PipelineOptions, shop ShopifyAPI) action.Performer {
	return flow.New(flow.Config{Shop: shop, Handles: o.Integrations.FlowHandles, IsTransient: shopify.IsTransient})
}

func reportToasterPerformer(d PipelineDeps) action.Performer {
	var eps reporttoaster.Endpoints
	if d.apps != nil {
		eps = d.apps
	}
	return reporttoaster.New(reporttoaster.Config{Endpoints: eps, HTTP: integrationHTTP()})
}

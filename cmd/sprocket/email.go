package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"

	actionemail "github.com/sprocketrun/sprocket/action/email"
)

// inboundEmail is the configuration of the inbound SMTP server.
type inboundEmail struct {
	listen  string
	domains []string
	tls     *tls.Config
}

// emailConfig checks the email flags: the relay URL (from --smtp-url or
// SPROCKET_SMTP_URL) and sender for the email action, and the listen
// address, domains and certificate of the inbound SMTP server.
func emailConfig(smtpURL, from, listen, domains, certFile, keyFile string) (actionemail.Config, inboundEmail, error) {
	var out actionemail.Config
	var in inboundEmail
	if smtpURL == "" {
		smtpURL = os.Getenv("SPROCKET_SMTP_URL")
	}
	if smtpURL != "" {
		relay, err := actionemail.ParseURL(smtpURL)
		if err != nil {
			return out, in, fmt.Errorf("--smtp-url: %w", err)
		}
		if from == "" {
			return out, in, errors.New("--email-from (SPROCKET_EMAIL_FROM) is required with --smtp-url")
		}
		out.Relay = relay
	}
	out.From = from
	if _, err := actionemail.New(out); err != nil {
		return out, in, err
	}
	for _, d := range strings.Split(domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			in.domains = append(in.domains, d)
		}
	}
	in.listen = listen
	if listen != "" && len(in.domains) == 0 {
		return out, in, errors.New("--smtp-listen needs --email-domain (SPROCKET_EMAIL_DOMAIN): the domains to receive mail for")
	}
	if (certFile == "") != (keyFile == "") {
		return out, in, errors.New("--smtp-tls-cert and --smtp-tls-key go together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return out, in, fmt.Errorf("--smtp-tls-cert: %w", err)
		}
		in.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return out, in, nil
}

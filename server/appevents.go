package server

import "net/http"

// appEventRoutes adds the inbound app event endpoints.
func (s *Service) appEventRoutes(api map[string]apiHandler, mux *http.ServeMux) {}

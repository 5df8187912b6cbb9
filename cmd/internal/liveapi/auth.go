package liveapi

import (
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// RequireToken lets through only requests that carry token, as
// "Authorization: Bearer <token>" or, for a browser's EventSource and
// links, as the query parameter access_token (RFC 6750, 2.3). Others get
// 401 with a WWW-Authenticate challenge. An empty token lets everything
// through.
func RequireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.URL.Query().Get("access_token")
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, cred, _ := strings.Cut(h, " ")
			if strings.EqualFold(scheme, "Bearer") {
				got = strings.TrimSpace(cred)
			}
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="syncwatch"`)
			writeError(w, http.StatusUnauthorized, "a bearer token is required (Authorization: Bearer TOKEN, or ?access_token=TOKEN)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ReadToken reads a bearer token from a file: its first line, trimmed.
// An empty token is an error: it would let everybody in.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok, _, _ := strings.Cut(string(b), "\n")
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", fmt.Errorf("%s: the token file is empty", path)
	}
	return tok, nil
}

// ServerTLS is the TLS configuration of the API's own listener: the
// server's certificate and key and, with clientCA, mutual TLS (clients
// must present a certificate that CA signed).
func ServerTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the API's certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the API's client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("the API's client CA file holds no PEM certificate")
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

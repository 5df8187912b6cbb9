package liveapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/cmd/internal/liveapi"
	"github.com/syncwatch/syncwatch/schemas"
)

// TestRequireToken: with a token, a request passes only with it, as a
// bearer header or access_token; the answer to the others is 401 with a
// challenge and the error schema.
func TestRequireToken(t *testing.T) {
	h := liveapi.RequireToken("s3cret-token", liveapi.New(fixture(t), liveapi.Options{}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	try := func(path, auth string) (int, []byte, http.Header) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b, resp.Header
	}
	for _, c := range []struct {
		name, path, auth string
		want             int
	}{
		{"bearer", "/api/v1/incidents", "Bearer s3cret-token", http.StatusOK},
		{"bearer, scheme in any case", "/api/v1/incidents", "bearer s3cret-token", http.StatusOK},
		{"query", "/api/v1/incidents?access_token=s3cret-token", "", http.StatusOK},
		{"none", "/api/v1/incidents", "", http.StatusUnauthorized},
		{"wrong", "/api/v1/incidents", "Bearer s3cret-tokeN", http.StatusUnauthorized},
		{"a prefix", "/api/v1/incidents", "Bearer s3cret", http.StatusUnauthorized},
		{"basic", "/api/v1/incidents", "Basic czNjcmV0LXRva2Vu", http.StatusUnauthorized},
		{"wrong query", "/api/v1/incidents?access_token=x", "", http.StatusUnauthorized},
		{"a wrong header wins over a right query", "/api/v1/incidents?access_token=s3cret-token", "Bearer x", http.StatusUnauthorized},
		{"the stream too", "/api/v1/events", "", http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, b, hdr := try(c.path, c.auth)
			require.Equal(t, c.want, code, "%s", b)
			if code == http.StatusUnauthorized {
				require.Equal(t, `Bearer realm="syncwatch"`, hdr.Get("WWW-Authenticate"))
				require.NoError(t, schemas.Validate(schemas.SchemaAPIError, b))
				require.NotContains(t, string(b), "s3cret", "the answer does not leak the token")
			}
		})
	}
	require.NotPanics(t, func() { liveapi.RequireToken("", nil) }, "no token: no check")
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(f, []byte("  abc \nsecond line\n"), 0o600))
	tok, err := liveapi.ReadToken(f)
	require.NoError(t, err)
	require.Equal(t, "abc", tok)
	require.NoError(t, os.WriteFile(f, []byte("\n"), 0o600))
	_, err = liveapi.ReadToken(f)
	require.ErrorContains(t, err, "empty")
	_, err = liveapi.ReadToken(filepath.Join(dir, "missing"))
	require.Error(t, err)
}

// pki is a CA and what it signed, as PEM files.
type pki struct {
	dir          string
	caKey        *ecdsa.PrivateKey
	ca           *x509.Certificate
	caFile       string
	serial       int64
	certs, keys  map[string]string
	x509CertPool *x509.CertPool
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), serial: 1, certs: map[string]string{}, keys: map[string]string{}}
	var err error
	p.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.ca = &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, p.ca, p.ca, &p.caKey.PublicKey, p.caKey)
	require.NoError(t, err)
	p.ca, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	p.caFile = filepath.Join(p.dir, "ca.pem")
	require.NoError(t, os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	p.x509CertPool = x509.NewCertPool()
	p.x509CertPool.AddCert(p.ca)
	return p
}

// issue signs a certificate for a server (127.0.0.1) or a client.
func (p *pki) issue(t *testing.T, name string, server bool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.serial++
	c := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		c.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, c, p.ca, &key.PublicKey, p.caKey)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	p.certs[name] = filepath.Join(p.dir, name+".pem")
	p.keys[name] = filepath.Join(p.dir, name+"-key.pem")
	require.NoError(t, os.WriteFile(p.certs[name], pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(p.keys[name], pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
}

// TestServerMutualTLS: with a client CA, only clients holding a
// certificate it signed get an answer; without one, any client of the
// HTTPS server does.
func TestServerMutualTLS(t *testing.T) {
	good, rogue := newPKI(t, "syncwatch test CA"), newPKI(t, "another CA")
	good.issue(t, "server", true)
	good.issue(t, "support-dashboard", false)
	rogue.issue(t, "intruder", false)

	serve := func(clientCA string) *httptest.Server {
		cfg, err := liveapi.ServerTLS(good.certs["server"], good.keys["server"], clientCA)
		require.NoError(t, err)
		srv := httptest.NewUnstartedServer(liveapi.New(fixture(t), liveapi.Options{}))
		srv.TLS = cfg
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	get := func(srv *httptest.Server, p *pki, client string) (int, error) {
		tc := &tls.Config{RootCAs: good.x509CertPool}
		if client != "" {
			cert, err := tls.LoadX509KeyPair(p.certs[client], p.keys[client])
			require.NoError(t, err)
			tc.Certificates = []tls.Certificate{cert}
		}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
		resp, err := hc.Get(srv.URL + "/api/v1/incidents")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	mtls := serve(good.caFile)
	code, err := get(mtls, good, "support-dashboard")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	_, err = get(mtls, good, "")
	require.Error(t, err, "no client certificate")
	_, err = get(mtls, rogue, "intruder")
	require.Error(t, err, "a certificate another CA signed")

	plain := serve("")
	code, err = get(plain, good, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	_, err = liveapi.ServerTLS(good.certs["server"], good.keys["support-dashboard"], "")
	require.Error(t, err, "a key that is not the certificate's")
	_, err = liveapi.ServerTLS(good.certs["server"], good.keys["server"], good.keys["server"])
	require.ErrorContains(t, err, "no PEM certificate")
}

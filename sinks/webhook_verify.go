package sinks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request that carry its signature (see Webhook for
// the scheme). Subscribers check both with VerifyWebhook.
const (
	webhookTimestampHeader = "X-Syncwatch-Timestamp"
	webhookSignatureHeader = "X-Syncwatch-Signature"
	webhookSignaturePrefix = "sha256="
)

// webhookSignature is the webhookSignatureHeader value of body sent at ts.
func webhookSignature(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return webhookSignaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a webhook request as a subscriber receives it: the
// signature in header must be that of body and the timestamp under secret,
// and the timestamp must lie within tolerance of now (either way), so that
// a captured request cannot be replayed later. A zero tolerance means
// DefaultWebhookTolerance (5m). It does not block. It returns nil, or an
// error wrapping ErrWebhookSignature (missing, malformed or wrong
// signature; tampered body or timestamp) or ErrWebhookTimestamp (missing,
// malformed, or out of tolerance), or, for a negative tolerance, an error
// wrapping neither: the request is rejected either way. body must be the
// raw request body, not re-encoded JSON.
func VerifyWebhook(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	switch {
	case tolerance < 0:
		return fmt.Errorf("verifying webhook: tolerance %v must not be negative", tolerance)
	case tolerance == 0:
		tolerance = DefaultWebhookTolerance
	}
	ts := header.Get(webhookTimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrWebhookTimestamp, webhookTimestampHeader, ts)
	}
	sig, ok := strings.CutPrefix(header.Get(webhookSignatureHeader), webhookSignaturePrefix)
	if !ok {
		return fmt.Errorf("%w: %s missing or not sha256=<hex>", ErrWebhookSignature, webhookSignatureHeader)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", ErrWebhookSignature, webhookSignatureHeader)
	}
	want, _ := hex.DecodeString(webhookSignature(secret, ts, body)[len(webhookSignaturePrefix):])
	if !hmac.Equal(got, want) {
		return fmt.Errorf("%w: signature does not match", ErrWebhookSignature)
	}
	if skew := now.Sub(time.Unix(sec, 0)).Abs(); skew > tolerance {
		return fmt.Errorf("%w: signed %v away from now, tolerance %v", ErrWebhookTimestamp, skew, tolerance)
	}
	return nil
}

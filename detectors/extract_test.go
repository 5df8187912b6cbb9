package detectors

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// TestExtractNonASCII: the extractors sliced the message with indexes into
// its strings.ToLower, which is longer than the message when it holds "Ⱥ"
// or "İ": wrong text, or a panic that stopped the pipeline.
func TestExtractNonASCII(t *testing.T) {
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	// "Ⱥ" lower-cases to a longer rune, "İ" to a shorter one
	for _, pad := range []string{strings.Repeat("Ⱥ", 20) + " ", strings.Repeat("İ", 20) + " "} {
		sig, ok := cat.Match(schemas.ProducerExchange, 0, pad+"The remote server returned an error: (404) Not Found. https://mail.contoso.com/EWS/Exchange.asmx")
		require.True(t, ok)
		require.Equal(t, "exchange.ews.not_found", sig.Class)
		require.Equal(t, "https://mail.contoso.com/EWS/Exchange.asmx", sig.Details["url"])

		require.Equal(t, "Kerio Connect 9.0.3", serverProduct(pad+"Unsupported property. Server: Kerio Connect 9.0.3"))
		require.Equal(t, "Subject", fieldName(pad+"Mandatory field Subject is missing"))
		require.Equal(t, "Contoso/EMEA", organization(pad+`Organization "Contoso/EMEA" is marked for removal`))
	}
}

func TestExtractedDetailsRedacted(t *testing.T) {
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	sig, ok := cat.Match(schemas.ProducerExchange, 0, "Organization svc password=Hunter2pw is marked for removal")
	require.True(t, ok)
	require.Equal(t, "svc password=[REDACTED]", sig.Details["organization"])
}

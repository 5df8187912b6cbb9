package filesource

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"testing/iotest"
	"unicode/utf16"

	"github.com/stretchr/testify/require"
)

func encodeUTF16(s string, bigEndian bool) []byte {
	var b []byte
	if bigEndian {
		b = append(b, 0xfe, 0xff)
	} else {
		b = append(b, 0xff, 0xfe)
	}
	for _, c := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return b
}

func TestDecodeText(t *testing.T) {
	text := "2026-11-24 10:15:32,123 [12] ERROR X - [t-1/anna.müller@contoso.com/run:1] Fehler: Zugriff verweigert 😀\r\nsecond line ä\n"
	for _, be := range []bool{false, true} {
		enc := encodeUTF16(text, be)
		// read a byte at a time: units and surrogate pairs split across reads
		got, err := io.ReadAll(decodeText(bufio.NewReader(iotest.OneByteReader(bytes.NewReader(enc)))))
		require.NoError(t, err)
		require.Equal(t, text, string(got), "big endian %v", be)
	}
	// no byte order mark: the bytes as they are
	got, err := io.ReadAll(decodeText(bufio.NewReader(bytes.NewReader([]byte(text)))))
	require.NoError(t, err)
	require.Equal(t, text, string(got))
	// an unpaired surrogate, and an odd byte at the end
	bad := append(encodeUTF16("a", false), 0x00, 0xd8, 'b', 0, 'c')
	got, err = io.ReadAll(decodeText(bufio.NewReader(bytes.NewReader(bad))))
	require.NoError(t, err)
	require.Equal(t, "a\uFFFDb\uFFFD", string(got))
}

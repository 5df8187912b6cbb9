package schemas

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttrsSetGetSorted(t *testing.T) {
	var a Attrs
	for i := 19; i >= 0; i-- { // past the linear-search size, in reverse
		a.Set(fmt.Sprintf("k%02d", i), fmt.Sprint(i))
	}
	a.Set("k07", "seven")
	require.Len(t, a, 20)
	for i := 1; i < len(a); i++ {
		require.Less(t, a[i-1].Key, a[i].Key)
	}
	assert.Equal(t, "seven", a.Get("k07"))
	assert.Equal(t, "19", a.Get("k19"))
	_, ok := a.Lookup("k20")
	assert.False(t, ok)
	assert.Equal(t, "", Attrs(nil).Get("x"))
}

func TestAttrsJSONLikeMap(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{},
		{"thread": "12"},
		{"z": "1", "a": "<&>\u2028", "http.url": "https://x/?a=1&b=2", "": "empty key", "ü": "\xff"},
	} {
		want, err := json.Marshal(m)
		require.NoError(t, err)
		a := AttrsFrom(m)
		if m != nil && len(m) == 0 {
			a = Attrs{}
		}
		got, err := json.Marshal(a)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))

		var back Attrs
		var backMap map[string]string
		require.NoError(t, json.Unmarshal(got, &back))
		require.NoError(t, json.Unmarshal(want, &backMap))
		assert.Equal(t, AttrsFrom(backMap).Map(), back.Map())
	}
	// In a record, omitted when empty, an object when not.
	b, err := json.Marshal(LogRecord{})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "attributes")
	b, err = json.Marshal(LogRecord{Attributes: AttrsFrom(map[string]string{"k": "v"})})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"attributes":{"k":"v"}`)
}

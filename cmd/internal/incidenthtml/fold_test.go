package incidenthtml

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestFoldAndLayOut(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	first := map[string]time.Time{"inc-b": t0.Add(time.Minute), "inc-longer": t0.Add(3 * time.Minute)}
	ev := func(typ string, seq int, at time.Time, id, class string, msg string) schemas.IncidentEvent {
		return schemas.NewIncidentEvent("test", typ, seq, at, schemas.IncidentData{
			IncidentID: id, Kind: schemas.KindSyncError, Class: class, Tenant: "t1", Mailbox: "a@x",
			Title: "title " + id, FirstSeen: schemas.Time{Time: first[id]},
			LastSeen: schemas.Time{Time: at}, Occurrences: seq,
			Evidence: []schemas.Evidence{{Producer: "engine", Time: schemas.Time{Time: at}, Message: msg, Origin: "engine.log:1"}},
		})
	}
	events := []schemas.IncidentEvent{
		ev(schemas.TypeOpened, 1, t0.Add(2*time.Minute), "inc-b", "auth.expired", "m1"),
		ev(schemas.TypeOpened, 1, t0.Add(3*time.Minute), "inc-longer", "mailbox.gone", "m2"),
		ev(schemas.TypeUpdated, 2, t0.Add(4*time.Minute), "inc-b", "auth.expired", "m1"), // same evidence again
		ev(schemas.TypeResolved, 3, t0.Add(50*time.Minute), "inc-b", "auth.expired", "m3"),
	}
	incs := Fold(events)
	require.Len(t, incs, 2)
	require.Equal(t, "inc-b", incs[0].ID, "opened first")
	require.Equal(t, t0.Add(50*time.Minute), incs[0].Resolved)
	require.Equal(t, 3, incs[0].Occurrences)
	require.Len(t, incs[0].Evidence, 2, "evidence repeated by a later event counts once")
	require.True(t, incs[1].Resolved.IsZero())

	colors, legend := Palette(incs)
	require.Equal(t, []LegendItem{{"auth.expired", classPalette[0]}, {"mailbox.gone", classPalette[1]}}, legend)
	rows := Rows(incs, colors)
	require.Equal(t, "open", rows[1].Resolved)
	require.Equal(t, FmtTime(t0.Add(50*time.Minute)), rows[0].Resolved)

	tls := Timelines(incs, colors, t0, t0.Add(time.Hour))
	require.Len(t, tls, 1, "one mailbox")
	require.Len(t, tls[0].Bars, 2)
	open := tls[0].Bars[1]
	require.True(t, open.Open)
	require.InDelta(t, PlotLeft+PlotWidth, open.X+open.W, 1e-9, "an open episode runs to the end")
	require.Equal(t, tls[0].Bars[0].Y, open.Y-tlLane, "overlapping episodes take separate lanes")

	// Pages built on the parts are separate sets: defining a block in
	// one does not change another.
	a, err := Page("a", `{{define "extra"}}A{{end}}{{template "cards" .}}`)
	require.NoError(t, err)
	b, err := Page("b", `{{template "cards" .}}`)
	require.NoError(t, err)
	require.Nil(t, b.Lookup("extra"))
	var buf bytes.Buffer
	require.NoError(t, a.Execute(&buf, []Card{{Label: "<b>L</b>", Value: "1", Sub: "s"}}))
	require.Contains(t, buf.String(), `<div class="label">&lt;b&gt;L&lt;/b&gt;</div><div class="value">1</div>`)
	require.False(t, strings.Contains(partsText, "<script"), "the parts carry no script")
}

#!/usr/bin/env bash
# Regenerates the profiles that guide the compiler (PGO) for the two
# binaries: cmd/replay/default.pgo and cmd/ingest/default.pgo (go build
# picks a main package's default.pgo up by itself). They are CPU profiles
# of replay on the benchmark's corpus (integration/bench.sh: 745 mailboxes,
# 48 h, seed 1), whole and one producer's file at a time, merged: the
# parsers, the detection engine and the pipeline stages are the hot code of
# both binaries. Run it after changing hot code; then compare side by side
# (bash integration/bench.sh) before committing the new profiles.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -pgo=off -o "$work/replay" ./cmd/replay
"$work/replay" generate --out "$work/corpus" --mailboxes 745 --hours 48 --seed 1 >/dev/null
n=0
for input in "$work/corpus" "$work/corpus/exchange.log" "$work/corpus/engine.log" "$work/corpus/c4cc.jsonl" "$work/corpus"; do
	n=$((n + 1))
	"$work/replay" --quiet --out "$work/events.jsonl" --cpuprofile "$work/cpu$n.prof" "$input"
done
go tool pprof -proto "$work"/cpu*.prof >"$work/default.pgo" 2>/dev/null
cp "$work/default.pgo" cmd/replay/default.pgo
cp "$work/default.pgo" cmd/ingest/default.pgo
echo "wrote cmd/replay/default.pgo and cmd/ingest/default.pgo ($(wc -c <"$work/default.pgo") bytes, $n profiles merged)"

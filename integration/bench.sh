#!/usr/bin/env bash
# integration/bench.sh: syncwatch's whole-binary benchmark (issue 4).
#
# In one run, on the same generated files, it times
#   - replay (parse + detect + write events to a file) on each producer's
#     file and on the whole corpus directory, with GOMAXPROCS=1 and the
#     default, against lognormalizer (liblognorm, which only parses) with
#     the rulebases in integration/bench/*.rb;
#   - ingest consuming the same entries from a kfake broker (incidents
#     published, offsets committed, then exit: --stop-after) against kcat -C
#     simply reading the same topics from the same broker;
#   - replay on the same corpus as Filebeat's output.file archive (one JSON
#     envelope per line): the cost of unwrapping a shipper's envelope;
# and prints a table: tool, input, lines, seconds, lines/s, ratio, peak RSS.
# --against REV also builds replay and ingest at git revision REV and
# measures them next to this checkout's, input by input, in the same run
# (machines are noisy: compare side by side, never across runs); in the
# throughput run the two builds' runs alternate (--memory measures one
# build's runs, then the other's: peak RSS does not drift with the load).
# --memory instead measures replay's peak RSS as the input grows and as the
# number of distinct mailboxes grows; --only-mailboxes N[,N...] only the
# latter, for those numbers of mailboxes (the 1M row alone:
# --only-mailboxes 1000000).
#
# The throughput run ends with issue 17's targets in one table: detection
# latency (BenchmarkIngestLatency, no option set), ingest ÷ kcat, replay ÷
# lognormalizer per format (2 CPUs and GOMAXPROCS=1) with the parse path's
# allocations per line (BenchmarkEntryText), and replay's peak RSS on ~1M
# distinct mailboxes (--target-mailboxes N: another number; 0: skip it).
#
# Usage (from the repository root):
#   bash integration/bench.sh [--lines N] [--quick] [--repeat R] [--keep] [--against REV] [--target-mailboxes N]
#   bash integration/bench.sh --memory [--quick] [--max-mailboxes N] [--repeat R] [--against REV]
#   bash integration/bench.sh --only-mailboxes N[,N...] [--repeat R] [--against REV]
#
# Timings are wall clock, best of --repeat runs (noise on a shared machine
# only ever adds time); peak RSS is the largest of the runs. Not part of
# .ci/run's pass/fail: timings are noisy.
set -euo pipefail

LINES=2000000
QUICK=0
MEMORY=0
REPEAT=""
KEEP=0
MAX_MAILBOXES=""
ONLY_MAILBOXES=""
SEED=1
AGAINST=""
TARGET_MAILBOXES=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
	--lines) LINES="$2"; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--memory) MEMORY=1; shift ;;
	--repeat) REPEAT="$2"; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--max-mailboxes) MAX_MAILBOXES="$2"; shift 2 ;;
	--only-mailboxes) ONLY_MAILBOXES="$2"; MEMORY=1; shift 2 ;;
	--seed) SEED="$2"; shift 2 ;;
	--against) AGAINST="$2"; shift 2 ;;
	--target-mailboxes) TARGET_MAILBOXES="$2"; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench.sh: unknown argument $1 (--help)" >&2; exit 1 ;;
	esac
done
if [ "$QUICK" = 1 ]; then
	[ "$LINES" = 2000000 ] && LINES=60000
	REPEAT=${REPEAT:-1}
	MAX_MAILBOXES=${MAX_MAILBOXES:-10000}
	TARGET_MAILBOXES=${TARGET_MAILBOXES:-10000}
fi
TARGET_MAILBOXES=${TARGET_MAILBOXES:-1000000}
[[ "$TARGET_MAILBOXES" =~ ^[0-9]+$ ]] || { echo "bench.sh: --target-mailboxes $TARGET_MAILBOXES: want a number" >&2; exit 1; }
# Peak RSS needs no best-of: one run per size unless asked.
if [ "$MEMORY" = 1 ]; then REPEAT=${REPEAT:-1}; fi
REPEAT=${REPEAT:-3}
MAX_MAILBOXES=${MAX_MAILBOXES:-1000000}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RB="$ROOT/integration/bench"
cd "$ROOT"

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }

# ---- tools ----------------------------------------------------------------

APT_UPDATED=0
need() { # need COMMAND PACKAGE: install PACKAGE with apt-get if COMMAND is missing
	command -v "$1" >/dev/null 2>&1 && return 0
	command -v apt-get >/dev/null 2>&1 || die "$1 is missing and there is no apt-get: install $2"
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	log "installing $2 (for $1)"
	if [ "$APT_UPDATED" = 0 ]; then
		$sudo apt-get update -qq >&2
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >&2
	command -v "$1" >/dev/null 2>&1 || die "$1 still missing after installing $2"
}
command -v go >/dev/null 2>&1 || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || die "go is not installed"
[ -x /usr/bin/time ] || need /usr/bin/time time
if [ "$MEMORY" = 0 ]; then
	need lognormalizer liblognorm-utils
	need kcat kcat
fi

# ---- work dir, cleanup ----------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/syncwatch-bench.XXXXXX")
BROKER_PID=""
cleanup() {
	if [ -n "$BROKER_PID" ]; then
		kill "$BROKER_PID" 2>/dev/null || true
		wait "$BROKER_PID" 2>/dev/null || true
	fi
	if [ "$KEEP" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# A generated line is about 210 bytes; the throughput run also keeps a kcat
# copy of the corpus; the memory run keeps one corpus at a time.
need_mb() {
	local avail
	avail=$(df -Pm "$WORK" | awk 'NR==2 {print $4}')
	[ "$avail" -ge "$1" ] || die "$WORK has ${avail} MB free, this run needs about $1 MB (set TMPDIR)"
}

log "building replay, ingest and the bench helpers into $WORK/bin"
go build -o "$WORK/bin/" ./cmd/replay ./cmd/ingest ./integration/bench/broker ./integration/bench/kcatinput
REPLAY="$WORK/bin/replay"
INGEST="$WORK/bin/ingest"
# BASE: the name of --against's revision in the table ("replay@BASE").
BASE=""
if [ -n "$AGAINST" ]; then
	BASE=$(git -C "$ROOT" rev-parse --short "$AGAINST^{commit}" 2>/dev/null) || die "--against $AGAINST: not a git revision here"
	log "building replay and ingest at $AGAINST ($BASE) into $WORK/base/bin"
	mkdir -p "$WORK/base/src"
	git -C "$ROOT" archive "$BASE" | tar -x -C "$WORK/base/src"
	(cd "$WORK/base/src" && go build -o "$WORK/base/bin/" ./cmd/replay ./cmd/ingest) || die "building $AGAINST failed"
fi

# ---- measuring ------------------------------------------------------------

ROWS="$WORK/rows.tsv" # tool, input, lines, wall, cpu, rss KB, note
: >"$ROWS"
: >"$WORK/runs" # measure_once's runs, until emit_row

# measure TOOL INPUT LINES NOTE -- COMMAND...: runs COMMAND $REPEAT times
# under GNU time (stdout to /dev/null unless redirected inside COMMAND),
# keeps the best wall time and its CPU time, and the largest peak RSS.
# COMMAND's stderr of the last run is left in $WORK/last.err.
measure() {
	local i
	for i in $(seq "$REPEAT"); do
		measure_once "$@"
	done
	emit_row "$1" "$2"
}

# measure_once TOOL INPUT LINES NOTE -- COMMAND...: one timed run of
# COMMAND, kept in $WORK/runs until emit_row makes the row of its runs.
measure_once() {
	local tool=$1 input=$2 lines=$3 note=$4 t u s m
	shift 5
	/usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" "$@" >/dev/null 2>"$WORK/last.err" ||
		{ cat "$WORK/last.err" >&2; die "$tool on $input failed"; }
	read -r t u s m <"$WORK/time.out"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$input" "$lines" "$t" "$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')" "$m" "$note" >>"$WORK/runs"
}

# emit_row TOOL INPUT: the row of TOOL's runs on INPUT (best wall time and
# its CPU time, largest peak RSS), then forgets them.
emit_row() {
	local row
	row=$(awk -F'\t' -v t="$1" -v i="$2" '$1 == t && $2 == i {
		if (best == "" || $4 + 0 < best + 0) { best = $4; cpu = $5 }
		if ($6 + 0 > rss + 0) rss = $6; lines = $3; note = $7 }
		END { if (best != "") printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t, i, lines, best, cpu, rss, note }' "$WORK/runs")
	[ -n "$row" ] || die "no runs of $1 on $2"
	awk -F'\t' -v t="$1" -v i="$2" '!($1 == t && $2 == i)' "$WORK/runs" >"$WORK/runs.tmp"
	mv "$WORK/runs.tmp" "$WORK/runs"
	printf '%s\n' "$row" >>"$ROWS"
	awk -F'\t' '{printf "   %-26s %-24s %9s lines  %7ss wall  %7ss cpu  %7.1f MB\n", $1, $2, $3, $4, $5, $6 / 1024}' <<<"$row" >&2
}

# wall TOOL INPUT [COLUMN]: the best wall time (or COLUMN: 5 is CPU time)
# recorded for TOOL on INPUT; for the corpus, the smaller of the mixed and
# the one-file-at-a-time figures.
wall() {
	awk -F'\t' -v t="$1" -v i="$2" -v c="${3:-4}" '$1 == t && ($2 == i || (i ~ /^corpus/ && $2 ~ /^corpus/)) {
		if (b == "" || $c + 0 < b + 0) b = $c } END {print b}' "$ROWS"
}

lines_of() { cat "$@" | wc -l | tr -d ' '; }

# generate DIR MAILBOXES HOURS: a corpus of the three producers' files in
# DIR (truth and manifest moved beside it, so DIR holds only logs).
generate() {
	"$REPLAY" generate --out "$1" --mailboxes "$2" --hours "$3" --seed "$SEED" >&2
	mkdir -p "$1.meta"
	mv "$1/incidents.truth.jsonl" "$1/manifest.json" "$1.meta/"
}

# sized_corpus DIR LINES MAILBOXES: generates at least LINES lines for
# MAILBOXES mailboxes, sizing the hours from a first estimate (about 57
# lines per mailbox-hour) and growing them if the corpus came out short.
sized_corpus() {
	local dir=$1 want=$2 mb=$3 hours got
	hours=$(awk -v n="$want" -v m="$mb" 'BEGIN {printf "%.3f", n / (m * 56) + 0.01}')
	while :; do
		rm -rf "$dir" "$dir.meta"
		generate "$dir" "$mb" "$hours"
		got=$(lines_of "$dir"/*)
		[ "$got" -ge "$want" ] && break
		hours=$(awk -v h="$hours" -v n="$want" -v g="$got" 'BEGIN {printf "%.3f", h * n / g * 1.02}')
		log "corpus had $got lines, want $want: regenerating with --hours $hours"
	done
	echo "$hours"
}

machine() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
	echo "machine: $(uname -srm), $(nproc) CPUs ($cpu), $(awk '/^MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM, load average at start: $LOAD0"
	echo "versions: $(go version | cut -d' ' -f3-), syncwatch $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
	if [ "$MEMORY" = 0 ]; then
		echo "          lognormalizer $(lognormalizer -V 2>&1 | awk '/version/ {print $NF; exit}') (liblognorm-utils $(dpkg-query -W -f '${Version}' liblognorm-utils 2>/dev/null || echo '?')), kcat $(dpkg-query -W -f '${Version}' kcat 2>/dev/null || kcat -V 2>&1 | head -1)"
	fi
}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- memory mode ----------------------------------------------------------

if [ "$MEMORY" = 1 ]; then
	if [ "$QUICK" = 1 ]; then
		SIZES="50000 150000 500000"
		MBS="1000 $MAX_MAILBOXES"
	else
		SIZES="1000000 3000000 10000000"
		MBS="10000 100000 $MAX_MAILBOXES"
	fi
	if [ -n "$ONLY_MAILBOXES" ]; then
		SIZES=""
		MBS=${ONLY_MAILBOXES//,/ }
		for mb in $MBS; do
			[[ "$mb" =~ ^[1-9][0-9]*$ ]] || die "--only-mailboxes $ONLY_MAILBOXES: want numbers of mailboxes, comma-separated"
		done
	fi
	need_mb 3500
	DIFFER=()
	# memory_against INPUT LINES DIR: with --against, the same replay by
	# that revision's binary, and whether it wrote the same events.
	memory_against() {
		[ -n "$BASE" ] || return 0
		measure "replay@$BASE" "$1" "$2" "" -- \
			"$WORK/base/bin/replay" --quiet --out "$WORK/events.base.jsonl" "$3"
		cmp -s "$WORK/events.jsonl" "$WORK/events.base.jsonl" || DIFFER+=("$1")
	}
	[ -z "$SIZES" ] || log "memory: replay's peak RSS as the input grows (700 mailboxes, more hours)"
	for n in $SIZES; do
		d="$WORK/mem-$n"
		h=$(sized_corpus "$d" "$n" 700)
		got=$(lines_of "$d"/*)
		measure "replay" "700 mailboxes, ${h}h" "$got" "lines" -- \
			"$REPLAY" --quiet --out "$WORK/events.jsonl" "$d"
		memory_against "700 mailboxes, ${h}h" "$got" "$d"
		rm -rf "$d" "$d.meta"
	done
	log "memory: replay's peak RSS as distinct mailboxes grow (0.2 h each)"
	for mb in $MBS; do
		d="$WORK/mb-$mb"
		generate "$d" "$mb" 0.2
		got=$(lines_of "$d"/*)
		distinct=$(awk '/event=run_started/ {t = ""; m = ""
			for (i = 1; i <= NF; i++) { if ($i ~ /^tenant=/) t = $i; else if ($i ~ /^mailbox=/) m = $i }
			seen[t "/" m] = 1 } END {print length(seen)}' "$d/engine.log")
		measure "replay" "$distinct mailboxes, 0.2h" "$got" "mailboxes" -- \
			"$REPLAY" --quiet --out "$WORK/events.jsonl" "$d"
		memory_against "$distinct mailboxes, 0.2h" "$got" "$d"
		rm -rf "$d" "$d.meta"
	done
	echo
	machine
	echo
	echo "replay --out FILE, default GOMAXPROCS; distinct mailboxes counted from the run_started lines"
	echo
	echo "| tool | input | lines | seconds | CPU s | lines/s | peak RSS MB |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	awk -F'\t' '{printf "| %s | %s | %d | %.2f | %.2f | %.0f | %.0f |\n", $1, $2, $3, $4, $5, $3 / $4, $6 / 1024}' "$ROWS"
	if [ -n "$BASE" ]; then
		echo
		if [ ${#DIFFER[@]} = 0 ]; then
			echo "replay@$BASE wrote the same events as this checkout on every input"
		else
			echo "WARNING: replay@$BASE wrote other events than this checkout on: ${DIFFER[*]}"
		fi
	fi
	exit 0
fi

# ---- throughput mode ------------------------------------------------------

need_mb $((LINES * 600 / 1000000 + 200))
C="$WORK/corpus"
log "generating a corpus of at least $LINES lines (48 h of logs)"
MAILBOXES=$(awk -v n="$LINES" 'BEGIN {m = int(n / (48 * 56)) + 1; if (m < 20) m = 20; print m}')
while :; do
	rm -rf "$C" "$C.meta"
	generate "$C" "$MAILBOXES" 48
	TOTAL=$(lines_of "$C"/*)
	[ "$TOTAL" -ge "$LINES" ] && break
	MAILBOXES=$(awk -v m="$MAILBOXES" -v n="$LINES" -v g="$TOTAL" 'BEGIN {print int(m * n / g * 1.02) + 1}')
	log "corpus had $TOTAL lines, want $LINES: regenerating with --mailboxes $MAILBOXES"
done
FILES="exchange.log engine.log c4cc.jsonl"
declare -A NL RBF
RBF[exchange.log]=exchange.rb
RBF[engine.log]=engine.rb
RBF[c4cc.jsonl]=c4cc.rb
CFILES=()
for f in $FILES; do
	NL[$f]=$(lines_of "$C/$f")
	CFILES+=("$C/$f")
done
log "corpus: $MAILBOXES mailboxes x 48 h, $TOTAL lines (exchange ${NL[exchange.log]}, engine ${NL[engine.log]}, c4cc ${NL[c4cc.jsonl]})"

# One rulebase for the mixed input: the three, under one version line.
{
	echo "version=2"
	for f in exchange.rb engine.rb c4cc.rb; do grep -v '^version=2$' "$RB/$f"; echo "prefix="; done
} >"$WORK/all.rb"

log "lognormalizer: checking that the rulebases parse every line"
UNPARSED=0
declare -A UNP
for f in $FILES all; do
	if [ "$f" = all ]; then
		cat "${CFILES[@]}" | lognormalizer -r "$WORK/all.rb" -H -U >/dev/null 2>"$WORK/ln.err"
		rb="$WORK/all.rb"
	else
		lognormalizer -r "$RB/${RBF[$f]}" -H -U <"$C/$f" >/dev/null 2>"$WORK/ln.err"
		rb="$RB/${RBF[$f]}"
	fi
	sum=$(grep 'records processed' "$WORK/ln.err" || true)
	[ -n "$sum" ] || { cat "$WORK/ln.err" >&2; die "lognormalizer printed no summary for $f"; }
	u=$(echo "$sum" | awk '{for (i = 1; i < NF; i++) if ($(i + 1) ~ /^unparsed/) print $i}')
	UNP[$f]=$u
	log "  $f: $sum"
	if [ "$u" != 0 ]; then
		UNPARSED=$((UNPARSED + u))
		log "  first unparsed lines of $f:"
		if [ "$f" = all ]; then cat "${CFILES[@]}"; else cat "$C/$f"; fi |
			lognormalizer -r "$rb" -P -e raw 2>/dev/null | head -3 | cut -c1-200 >&2
	fi
done

log "lognormalizer (single-threaded; json encoder to /dev/null)"
for f in $FILES; do
	measure "lognormalizer" "$f" "${NL[$f]}" "unparsed ${UNP[$f]}" -- \
		bash -c 'exec lognormalizer -r "$1" <"$2"' _ "$RB/${RBF[$f]}" "$C/$f"
done
measure "lognormalizer" "corpus (3 files)" "$TOTAL" "unparsed ${UNP[all]}" -- \
	bash -c 'cat "${@:2}" | exec lognormalizer -r "$1"' _ "$WORK/all.rb" "${CFILES[@]}"
# The three files one by one, each with its own rulebase, is faster than
# the mixed input with the combined rulebase (where a line may be tried
# against the other formats' rules first): the sum is the stricter
# baseline for the total.
awk -F'\t' -v n="$TOTAL" '$1 == "lognormalizer" && $2 !~ /^corpus/ {w += $4; c += $5; if ($6 > r) r = $6}
	END {printf "lognormalizer\tcorpus, one file at a time (sum)\t%d\t%.2f\t%.2f\t%d\t\n", n, w, c, r}' "$ROWS" >>"$ROWS"

log "replay (parse + detect + write events to a file)"
declare -A EVENTS
DIFFER=()
for g in 1 "$(nproc) (default)"; do
	env=(env)
	if [ "$g" = 1 ]; then env=(env GOMAXPROCS=1); fi
	for f in $FILES corpus; do
		in="$C/$f"
		n=${NL[$f]:-$TOTAL}
		label=$f
		if [ "$f" = corpus ]; then in="$C"; label="corpus (3 files)"; fi
		# with --against, the two builds' runs alternate (see ingest)
		for _ in $(seq "$REPEAT"); do
			measure_once "replay GOMAXPROCS=$g" "$label" "$n" "" -- \
				"${env[@]}" "$REPLAY" --quiet --out "$WORK/events.jsonl" "$in"
			if [ -n "$BASE" ]; then
				measure_once "replay@$BASE GOMAXPROCS=$g" "$label" "$n" "" -- \
					"${env[@]}" "$WORK/base/bin/replay" --quiet --out "$WORK/events.base.jsonl" "$in"
			fi
		done
		emit_row "replay GOMAXPROCS=$g" "$label"
		EVENTS[$f]=$(wc -l <"$WORK/events.jsonl" | tr -d ' ')
		if [ -n "$BASE" ]; then
			emit_row "replay@$BASE GOMAXPROCS=$g" "$label"
			cmp -s "$WORK/events.jsonl" "$WORK/events.base.jsonl" || DIFFER+=("$label")
		fi
	done
done

log "replay on the corpus as a Filebeat archive (one JSON envelope per line)"
FB="$WORK/filebeat"
"$REPLAY" generate --out "$FB" --mailboxes "$MAILBOXES" --hours 48 --seed "$SEED" --shipper filebeat --multiline >&2
rm -f "$FB/incidents.truth.jsonl" "$FB/manifest.json"
FBN=$(lines_of "$FB"/*)
measure "replay GOMAXPROCS=$(nproc) (default)" "Filebeat archive" "$FBN" "envelopes" -- \
	"$REPLAY" --quiet --out "$WORK/events.fb.jsonl" "$FB"
FB_EVENTS=$(wc -l <"$WORK/events.fb.jsonl" | tr -d ' ')
rm -rf "$FB"

log "Kafka: starting a kfake broker and producing the corpus with kcat (keyed tenant/mailbox)"
"$WORK/bin/broker" >"$WORK/broker.out" 2>&1 &
BROKER_PID=$!
for _ in $(seq 100); do
	grep -q '^broker ' "$WORK/broker.out" && break
	sleep 0.1
done
BROKER=$(awk '/^broker / {print $2}' "$WORK/broker.out")
[ -n "$BROKER" ] || { cat "$WORK/broker.out" >&2; die "the broker did not start"; }
declare -A TOPIC
TOPIC[exchange.log]=sync.exchange-connector
TOPIC[engine.log]=sync.engine
TOPIC[c4cc.jsonl]=sync.c4cc-connector
MSGS=0
mkdir -p "$WORK/kcat"
for f in $FILES; do
	"$WORK/bin/kcatinput" "$C/$f" >"$WORK/kcat/$f.kcat" 2>"$WORK/kcatinput.err" ||
		{ cat "$WORK/kcatinput.err" >&2; die "kcatinput $f failed"; }
	kcat -P -b "$BROKER" -t "${TOPIC[$f]}" -K $'\x1f' -D $'\x1e' -l "$WORK/kcat/$f.kcat"
	n=$(kcat -C -b "$BROKER" -t "${TOPIC[$f]}" -o beginning -e -q -f 'x\n' | wc -l | tr -d ' ')
	want=$(awk '{print $(NF - 1)}' "$WORK/kcatinput.err")
	[ "$n" = "$want" ] || die "${TOPIC[$f]} holds $n messages, $f has $want entries"
	NL["${TOPIC[$f]}"]=$n
	MSGS=$((MSGS + n))
done
rm -rf "$WORK/kcat"
log "  $MSGS messages in 3 topics x 3 partitions (one per entry; $((TOTAL - MSGS)) stack-trace lines ride in their entries)"

log "kcat -C reading the topics to /dev/null"
for f in $FILES; do
	measure "kcat -C" "${TOPIC[$f]}" "${NL[${TOPIC[$f]}]}" "messages" -- \
		kcat -C -b "$BROKER" -t "${TOPIC[$f]}" -o beginning -e -q
done
measure "kcat -C (3 in parallel)" "3 topics" "$MSGS" "messages" -- \
	bash -c 'for t in "$@"; do kcat -C -b "'"$BROKER"'" -t "$t" -o beginning -e -q & done; wait' _ \
	"${TOPIC[exchange.log]}" "${TOPIC[engine.log]}" "${TOPIC[c4cc.jsonl]}"
# librdkafka waits up to fetch.wait.max.ms (500) for more data before it
# sees the end of a partition: a fixed cost a tuned reader does not pay.
measure "kcat -C (3 in parallel, fetch.wait.max.ms=10)" "3 topics" "$MSGS" "messages" -- \
	bash -c 'for t in "$@"; do kcat -C -b "'"$BROKER"'" -t "$t" -o beginning -e -q -X fetch.wait.max.ms=10 & done; wait' _ \
	"${TOPIC[exchange.log]}" "${TOPIC[engine.log]}" "${TOPIC[c4cc.jsonl]}"

log "ingest consuming the topics: incidents published, offsets committed, exit (--stop-after $MSGS)"
# Each run joins a fresh consumer group (bench-1, bench-2, ...: the
# counter lives in a file, measure's command runs in a child), so each
# reads everything from the beginning, and publishes to an incidents
# topic of its own (bench-N.incidents): ingest reads its incidents topic
# back before it consumes (--resume-incidents), and with one topic for
# all, each run read the events of every run before it, so that a later
# run (the --against build's) did more work than an earlier one. Each
# run notes the group that commits the raw topics (with --repartition,
# the first hop's "<group>.repartition") in groupseq.raw, and its
# incidents topic in groupseq.incidents.TAG.
ingest_once() { # ingest_once TOOL TAG BINARY [FLAGS]
	measure_once "$1" "3 topics" "$MSGS" "messages" -- \
		bash -c 'n=0; [ -f "$1" ] && n=$(cat "$1"); n=$((n + 1)); echo $n >"$1"
			g="bench-$n"; case "$6" in *repartition\ always*) echo "$g.repartition" ;; *) echo "$g" ;; esac >>"$1.raw"
			echo "$g.incidents" >>"$1.incidents.$2"
			exec "$3" --brokers "$4" --group "$g" --incidents-topic "$g.incidents" --metrics-addr off --log-level warn --stop-after "$5" $6' _ \
		"$WORK/groupseq" "$2" "$3" "$BROKER" "$MSGS" "${4:-}"
}
# incidents TAG: the events published by the runs of TAG, over their
# incidents topics.
incidents() {
	local n=0 t
	[ -f "$WORK/groupseq.incidents.$1" ] || { echo 0; return; }
	while read -r t; do
		n=$((n + $(kcat -C -b "$BROKER" -t "$t" -o beginning -e -q -f 'x\n' | wc -l)))
	done <"$WORK/groupseq.incidents.$1"
	echo "$n"
}
# With --against, this build's runs and the other's alternate, so that
# a change in the host's load over the minute they take weighs on both.
for _ in $(seq "$REPEAT"); do
	ingest_once ingest main "$INGEST"
	if [ -n "$BASE" ]; then
		ingest_once "ingest@$BASE" base "$WORK/base/bin/ingest"
	fi
done
emit_row ingest "3 topics"
INGEST_EVENTS=$(incidents main)
WANT_EVENTS=$((EVENTS[corpus] * REPEAT))
# The repartition hop's cost: the same topics through the repartition
# topic (the producers key by mailbox here; the hop is what --repartition
# auto adds for unkeyed ones).
for _ in $(seq "$REPEAT"); do
	ingest_once "ingest --repartition always" repart "$INGEST" "--repartition always"
done
emit_row "ingest --repartition always" "3 topics"
REPART_EVENTS=$(incidents repart)
if [ -n "$BASE" ]; then
	emit_row "ingest@$BASE" "3 topics"
fi
LEFT=0
for g in $(cat "$WORK/groupseq.raw"); do
	# Reading with the ingest's group from its committed offsets must find
	# nothing left: every message was committed.
	# (auto.offset.reset=earliest: a partition without a commit is read
	# from its start, not skipped.)
	l=$(timeout 60 kcat -b "$BROKER" -G "$g" -X auto.offset.reset=earliest -e -q -f 'x\n' \
		"${TOPIC[exchange.log]}" "${TOPIC[engine.log]}" "${TOPIC[c4cc.jsonl]}" 2>/dev/null | wc -l | tr -d ' ')
	LEFT=$((LEFT + l))
	[ "$l" = 0 ] || log "  group $g left $l messages uncommitted"
done
BROKER_RSS=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$BROKER_PID/status" 2>/dev/null || echo '?')
log "  ingest published $INGEST_EVENTS events in $REPEAT runs (replay on the same entries: ${EVENTS[corpus]} per run); uncommitted messages after the runs: $LEFT"

# ---- issue 17's other figures ----------------------------------------------

log "latency: BenchmarkIngestLatency, no option set (and with the repartition hop), 150 errors each"
LAT=$(cd "$ROOT" && go test -run '^$' -bench 'BenchmarkIngestLatency/default' -benchtime 150x ./integration/ 2>&1) ||
	{ echo "$LAT" >&2; die "BenchmarkIngestLatency failed"; }
lat_of() { # lat_of SUB METRIC: a metric of sub-benchmark SUB
	echo "$LAT" | awk -v s="BenchmarkIngestLatency/$1-" -v m="$2" 'index($1, s) == 1 {for (i = 2; i < NF; i++) if ($(i + 1) == m) print $i}'
}
log "allocations per entry on the parse path: BenchmarkEntryText (the entries as replay gives them)"
ALLOCS=$(cd "$ROOT" && go test -run '^$' -bench 'BenchmarkEntryText$' -benchmem ./pipeline/parse/ 2>&1 |
	awk '/^BenchmarkEntryText/ {for (i = 2; i < NF; i++) if ($(i + 1) == "allocs/op") print $i}')
MB_RSS="" MB_N=""
if [ "$TARGET_MAILBOXES" != 0 ]; then
	log "memory: replay on $TARGET_MAILBOXES mailboxes (0.2 h)"
	need_mb $((TARGET_MAILBOXES * 3 / 1000 + 200))
	d="$WORK/target-mb"
	generate "$d" "$TARGET_MAILBOXES" 0.2
	MB_N=$(awk '/event=run_started/ {t = ""; m = ""
		for (i = 1; i <= NF; i++) { if ($i ~ /^tenant=/) t = $i; else if ($i ~ /^mailbox=/) m = $i }
		seen[t "/" m] = 1 } END {print length(seen)}' "$d/engine.log")
	MB_RSS=$(/usr/bin/time -f '%M' "$REPLAY" --quiet --out /dev/null "$d" 2>&1 >/dev/null | tail -1)
	rm -rf "$d" "$d.meta"
fi

# ---- table ----------------------------------------------------------------

echo
machine
echo "corpus: replay generate --mailboxes $MAILBOXES --hours 48 --seed $SEED: $TOTAL lines, $MSGS entries; best of $REPEAT runs"
echo "lognormalizer unparsed lines: exchange ${UNP[exchange.log]}, engine ${UNP[engine.log]}, c4cc ${UNP[c4cc.jsonl]}, corpus ${UNP[all]}"
echo "events written by replay: ${EVENTS[corpus]} (corpus), ${FB_EVENTS} (Filebeat archive); by ingest: $INGEST_EVENTS in $REPEAT runs, with --repartition always $REPART_EVENTS; messages left uncommitted after ingest: $LEFT; broker peak RSS: ${BROKER_RSS} MB"
echo
echo "ratio: replay ÷ lognormalizer lines/s on the same input (wall; in parentheses CPU time), for the corpus against"
echo "the faster lognormalizer figure; ingest ÷ kcat -C (3 in parallel) messages/s (in parentheses: ÷ the tuned kcat)."
echo "For kcat and ingest, lines are messages (one per entry)."
echo
echo "| tool | input | lines | seconds | CPU s | lines/s | ratio | peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
while IFS=$'\t' read -r tool input lines w cpu rss note; do
	ratio="-"
	case "$tool" in
	replay*)
		if [ "$input" = "Filebeat archive" ]; then # against the raw files
			raw=$(wall "$tool" "corpus (3 files)")
			ratio=$(awk -v n="$lines" -v w="$w" -v t="$TOTAL" -v r="$raw" 'BEGIN {printf "%.2f of raw lines/s", (n / w) / (t / r)}')
			printf '| %s | %s | %d | %.2f | %.2f | %.0f | %s | %.0f |\n' "$tool" "$input" "$lines" "$w" "$cpu" \
				"$(awk -v n="$lines" -v w="$w" 'BEGIN {print n / w}')" "$ratio" "$(awk -v m="$rss" 'BEGIN {print m / 1024}')"
			continue
		fi
		base=$(wall lognormalizer "$input")
		bcpu=$(wall lognormalizer "$input" 5)
		ratio=$(awk -v b="$base" -v w="$w" -v bc="$bcpu" -v c="$cpu" 'BEGIN {printf "%.2f (CPU %.2f)", b / w, bc / c}')
		;;
	ingest*)
		base=$(wall "kcat -C (3 in parallel)" "3 topics")
		tuned=$(wall "kcat -C (3 in parallel, fetch.wait.max.ms=10)" "3 topics")
		ratio=$(awk -v b="$base" -v t="$tuned" -v w="$w" 'BEGIN {printf "%.2f (%.2f tuned)", b / w, t / w}')
		;;
	esac
	printf '| %s | %s | %d | %.2f | %.2f | %.0f | %s | %.0f |\n' "$tool" "$input" "$lines" "$w" "$cpu" \
		"$(awk -v n="$lines" -v w="$w" 'BEGIN {print n / w}')" "$ratio" "$(awk -v m="$rss" 'BEGIN {print m / 1024}')"
done <"$ROWS"
echo
if [ -n "$BASE" ]; then
	echo
	echo "this checkout ÷ $AGAINST ($BASE), input by input: wall-time speedup (above 1: faster now), in parentheses CPU time"
	echo
	echo "| tool | input | speedup (CPU) |"
	echo "|---|---|---:|"
	while IFS=$'\t' read -r tool input _ w cpu _ _; do
		case "$tool" in
		*"@$BASE"*) continue ;;
		replay*) bt=${tool/replay /replay@$BASE } ;;
		ingest) bt="ingest@$BASE" ;;
		*) continue ;;
		esac
		bw=$(awk -F'\t' -v t="$bt" -v i="$input" '$1 == t && $2 == i {print $4}' "$ROWS")
		bc=$(awk -F'\t' -v t="$bt" -v i="$input" '$1 == t && $2 == i {print $5}' "$ROWS")
		[ -n "$bw" ] || continue
		printf '| %s | %s | %s |\n' "$tool" "$input" "$(awk -v b="$bw" -v w="$w" -v bc="$bc" -v c="$cpu" 'BEGIN {printf "%.2f (%.2f)", b / w, bc / c}')"
	done <"$ROWS"
	[ ${#DIFFER[@]} = 0 ] || echo "WARNING: replay@$BASE wrote other events than this checkout on: ${DIFFER[*]}"
fi
echo
echo "issue 17's targets (this run):"
echo
echo "| target | figure | goal | met |"
echo "|---|---|---|---|"
verdict() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN {if (v == "") print "-"; else if ((op == "<" && v + 0 < g + 0) || (op == ">=" && v + 0 >= g + 0)) print "yes"; else print "**no**"}'; }
p99=$(lat_of default p99-ms)
p99r=$(lat_of default,repartition=always p99-ms)
printf '| 1. definitive error, produce to incidents topic, 10k msg/s, no option set | p99 %s ms (p50 %s); with the repartition hop p99 %s ms (p50 %s) | p99 < 100 ms | %s, %s |\n' \
	"$p99" "$(lat_of default p50-ms)" "$p99r" "$(lat_of default,repartition=always p50-ms)" "$(verdict "$p99" 100 "<")" "$(verdict "$p99r" 100 "<")"
kc=$(wall "kcat -C (3 in parallel)" "3 topics")
ri=$(awk -v k="$kc" -v w="$(wall ingest "3 topics")" 'BEGIN {printf "%.2f", k / w}')
rr=$(awk -v k="$kc" -v w="$(wall "ingest --repartition always" "3 topics")" 'BEGIN {printf "%.2f", k / w}')
printf '| 2. ingest ÷ kcat -C (3 topics in parallel), with commits | %s; with the repartition hop %s | >= 0.7 | %s, %s |\n' "$ri" "$rr" "$(verdict "$ri" 0.7 ">=")" "$(verdict "$rr" 0.7 ">=")"
for g in "$(nproc) (default)" 1; do
	goal=4; [ "$g" = 1 ] && goal=2.5
	figs="" worst=""
	for f in $FILES; do
		r=$(awk -v b="$(wall lognormalizer "$f")" -v w="$(wall "replay GOMAXPROCS=$g" "$f")" 'BEGIN {printf "%.2f", b / w}')
		figs="$figs${figs:+, }$f $r"
		worst=$(awk -v a="$worst" -v b="$r" 'BEGIN {print (a == "" || b + 0 < a + 0) ? b : a}')
	done
	printf '| 3. replay ÷ lognormalizer per format, GOMAXPROCS=%s | %s | >= %s each | %s |\n' "$g" "$figs" "$goal" "$(verdict "$worst" "$goal" ">=")"
done
printf '| 3. allocations per entry on the parse path (BenchmarkEntryText) | %s | 0 | %s |\n' "${ALLOCS:-?}" "$(verdict "${ALLOCS:-}" 1 "<")"
if [ -n "$MB_RSS" ]; then
	mbr=$(awk -v k="$MB_RSS" 'BEGIN {printf "%.0f", k / 1024}')
	printf '| 4. replay peak RSS, %s distinct mailboxes | %s MB | < 512 MB (for 1M) | %s |\n' "$MB_N" "$mbr" "$(verdict "$mbr" 512 "<")"
fi
if [ -n "$BASE" ]; then
	printf '| 5. events byte-identical to %s | %s | identical | %s |\n' "$AGAINST" \
		"$([ ${#DIFFER[@]} = 0 ] && echo "every input" || echo "differ on: ${DIFFER[*]}")" "$([ ${#DIFFER[@]} = 0 ] && echo yes || echo '**no**')"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$UNPARSED" = 0 ] || echo "WARNING: lognormalizer left $UNPARSED lines unparsed: its figures are not comparable"
[ "$LEFT" = 0 ] || echo "WARNING: $LEFT messages were not committed by ingest"
[ "$FB_EVENTS" = "${EVENTS[corpus]}" ] || echo "WARNING: replay wrote $FB_EVENTS events on the Filebeat archive, ${EVENTS[corpus]} on the raw files"
[ "$INGEST_EVENTS" = "$WANT_EVENTS" ] || echo "WARNING: ingest published $INGEST_EVENTS events in $REPEAT runs, replay wrote ${EVENTS[corpus]} per run"
[ "$REPART_EVENTS" = "$WANT_EVENTS" ] || echo "WARNING: ingest --repartition always published $REPART_EVENTS events in $REPEAT runs, replay wrote ${EVENTS[corpus]} per run"

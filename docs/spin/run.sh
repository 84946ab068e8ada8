#!/usr/bin/env bash
# SPIN against Vexlab on the same protocol (docs/checking.md, "Compared with SPIN").
#
#   docs/spin/run.sh [bench|race] [--no-dummy] [--keep DIR]
#
# Generates and compiles SPIN's verifier for docs/spin/kvm-pf-int.pml twice (exhaustive, and with
# -DHC4 hash compaction), runs both, runs `vexlab check` on the matching Vexlab model, and prints
# one table. bench: Vexlab's built-in `bench` model; race: docs/spin/race.yaml. --no-dummy is
# guest.apf.dummy_entries=false (both tools must then report the deadlock). Installs nothing.
# Vexlab is $VEXLAB if set, else `vexlab` on PATH, else `dotnet run --project src/Vexlab.Cli`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

config=bench
nodummy=0
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    bench|race) config=$1 ;;
    --no-dummy) nodummy=1 ;;
    --keep) keep=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (expected bench, race, --no-dummy, --keep DIR)" >&2; exit 2 ;;
  esac
  shift
done

missing=()
command -v spin >/dev/null 2>&1 || missing+=(spin)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: ${missing[*]} not found; install with: sudo apt-get install ${missing[*]}" >&2
  exit 2
fi

if [ -n "${VEXLAB:-}" ]; then
  read -r -a vexlab <<<"$VEXLAB"
elif command -v vexlab >/dev/null 2>&1; then
  vexlab=(vexlab)
else
  vexlab=(dotnet run --project "$root/src/Vexlab.Cli" -c Release --)
fi

defines=()
args=()
case "$config" in
  # -w: a hash table of 2^w slots, at least as many as the states (SPIN's own advice).
  bench) width=23; args=(--builtin bench) ;;
  race) width=18; defines+=(-DRACE); args=("$here/race.yaml") ;;
esac
if [ "$nodummy" -eq 1 ]; then
  defines+=(-DNO_DUMMY)
  args+=(--set guest.apf.dummy_entries=false)
fi

work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
cp "$here/kvm-pf-int.pml" "$work/"
cd "$work"
spin "${defines[@]}" -a kvm-pf-int.pml >/dev/null

# Both verifiers: safety only (-DSAFETY, as `vexlab check --property no-deadlock` plus the model's
# assertions), no partial-order reduction (-DNOREDUCE: Vexlab has none), -O2 as SPIN's manual uses.
gcc -O2 -w -DSAFETY -DNOREDUCE -o pan-exhaustive pan.c
gcc -O2 -w -DSAFETY -DNOREDUCE -DHC4 -o pan-hc4 pan.c

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
printf 'model %s%s; %s cores, load average %s\n' "$config" "$( [ "$nodummy" -eq 1 ] && echo ' (guest.apf.dummy_entries=false)')" "$(nproc)" "$load"

# Processor seconds (user + system) of a command, into the file $1; the command's output is discarded.
TIMEFORMAT='%U %S'
cpu_of() {
  local file=$1
  shift
  { time "$@" >/dev/null 2>&1; } 2>"$file" || true
}

# One SPIN run: "states transitions seconds memory-MB errors cpu-seconds".
spin_run() {
  cpu_of "$1.cpu" sh -c "./$1 -m100000 -w$width >$1.out 2>&1"
  local cpu
  cpu=$(awk '{ print $1 + $2 }' "$1.cpu")
  awk -v cpu="$cpu" '
    /states, stored/ { states = $1 }
    /transitions \(= stored\+matched\)/ { transitions = $1 }
    /pan: elapsed time/ { seconds = $4 }
    /total actual memory usage/ { memory = $1 }
    /errors: / { for (i = 1; i <= NF; i++) if ($i == "errors:") errors = $(i + 1) }
    END { printf "%s %s %s %s %s %s\n", states, transitions, seconds, memory, errors, cpu }' "$1.out"
}

row() {
  # tool states transitions seconds bytes/state verdict cpu-seconds
  awk -v tool="$1" -v s="$2" -v t="$3" -v sec="$4" -v b="$5" -v verdict="$6" -v cpu="$7" 'BEGIN {
    rate = sec > 0 ? s / sec : 0
    cpurate = cpu > 0 ? s / cpu : 0
    printf "| %-15s | %11d | %11d | %7.2f | %10d | %7.2f | %15d | %11.1f | %-9s |\n", tool, s, t, sec, rate, cpu, cpurate, b, verdict }'
}

read -r s1 t1 sec1 mb1 e1 c1 < <(spin_run pan-exhaustive)
read -r s2 t2 sec2 mb2 e2 c2 < <(spin_run pan-hc4)
# One worker, as pan runs on one core.
cpu_of vexlab.cpu "${vexlab[@]}" check "${args[@]}" --protocol kvm-pf-int --property no-deadlock --workers 1 --json vexlab.json
c3=$(awk '{ print $1 + $2 }' vexlab.cpu)
read -r s3 t3 sec3 b3 rss3 v3 < <(python3 - vexlab.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["timing"]
print(d["states"], d["transitions"], t["elapsed_s"], d["bytes_per_state"], t.get("peak_rss_bytes", 0), d["verdict"])
EOF
)

verdict() { [ "$1" = 0 ] && echo pass || echo violation; }
echo
echo "| tool            |      states | transitions |  time s |   states/s |   cpu s | states/cpu-sec. | bytes/state | verdict   |"
echo "|-----------------|------------:|------------:|--------:|-----------:|--------:|----------------:|------------:|-----------|"
row "SPIN exhaustive" "$s1" "$t1" "$sec1" "$(awk -v m="$mb1" -v s="$s1" 'BEGIN { print m * 1048576 / s }')" "$(verdict "$e1")" "$c1"
row "SPIN -DHC4" "$s2" "$t2" "$sec2" "$(awk -v m="$mb2" -v s="$s2" 'BEGIN { print m * 1048576 / s }')" "$(verdict "$e2")" "$c2"
row "Vexlab" "$s3" "$t3" "$sec3" "$b3" "$v3" "$c3"
echo
awk -v r="$rss3" -v s="$s3" 'BEGIN { printf "Vexlab peak RSS %.0f MiB (%.1f bytes/state with the frontier and the runtime)\n", r / 1048576, r / s }'
echo "SPIN bytes/state: pan's \"total actual memory usage\" (states, hash table of 2^$width slots, DFS stack) over the states stored"
echo "cpu s: user + system time of the process (for Vexlab the runtime's start and JIT included)"

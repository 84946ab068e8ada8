#!/usr/bin/env bash
# The README's test command: installs the Debian tools the tests open real outputs with
# (trace-cmd for trace.dat, chromium for the HTML report, spin and gcc for the Promela model of
# docs/spin) when they are missing, then runs every test project. Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v trace-cmd >/dev/null 2>&1 || need+=(trace-cmd)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v spin >/dev/null 2>&1 || need+=(spin)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test.sh: installing ${need[*]}" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
exec dotnet test -c Release "$@"

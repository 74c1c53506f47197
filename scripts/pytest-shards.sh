#!/usr/bin/env bash
# Run the test suite as two shards at once, one per CPU of the CI machine.
#
#   scripts/pytest-shards.sh PYTEST [ARG...]
#
# Shard 1 holds the folders whose tests build a simulated practice and its warehouse once per
# session (pipelines, models); shard 2 everything else, the dashboards (which build their own
# practice) included (a new folder lands there by itself). On 2026-12-03 shard 1 with the
# dashboards took 982 s and shard 2 506 s. Each shard runs under scripts/with-postgres.sh, so each has
# its own throwaway PostgreSQL cluster, and each has its own Prefect home: the shards share no
# database. Their output is streamed with a [1]/[2] prefix. The exit status is non-zero when
# either shard fails. SHARDS=1 runs the whole suite in one process instead.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $# -eq 0 ]]; then
    echo "usage: $0 PYTEST [ARG...]" >&2
    exit 2
fi

readonly FIRST=(tests/pipelines tests/models)

if [[ "${SHARDS:-2}" == "1" ]]; then
    exec scripts/with-postgres.sh "$@"
fi

# Installs PostgreSQL first when it is missing, so the shards never run apt-get at once.
scripts/with-postgres.sh true || exit 1

first=()
ignore=()
for folder in "${FIRST[@]}"; do
    if [[ -d "$folder" ]]; then
        first+=("$folder")
        ignore+=("--ignore=$folder")
    fi
done

run_shard() {
    local name="$1"
    shift
    local home="$PWD/.prefect/shard-$name"
    mkdir -p "$home" # Prefect creates only the last folder of its home
    PREFECT_HOME="$home" scripts/with-postgres.sh "$@" 2>&1 |
        sed -u "s/^/[$name] /"
}

run_shard 1 "$@" "${first[@]}" &
one=$!
run_shard 2 "$@" tests "${ignore[@]}" &
two=$!

status=0
wait "$one" || { echo "shard 1 failed" >&2; status=1; }
wait "$two" || { echo "shard 2 failed" >&2; status=1; }
exit "$status"

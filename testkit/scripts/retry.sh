# Sourced by the ensure-*.sh scripts. `retry WHAT CMD...` runs CMD up to four times, waiting
# 5, 15 and 30 s between tries, because a package registry can fail a download now and then
# and one such failure should not fail a whole test run. Each failed try's output stays on
# standard error; the last failure says how many tries were made.
retry() {
  local what="$1"; shift
  local waits=(5 15 30) try=1
  until "$@"; do
    if [ "$try" -gt "${#waits[@]}" ]; then
      echo "$what failed $try times; giving up (is the package registry reachable?)" >&2
      return 1
    fi
    echo "$what failed (try $try); trying again in ${waits[$((try - 1))]} s" >&2
    sleep "${waits[$((try - 1))]}"
    try=$((try + 1))
  done
}

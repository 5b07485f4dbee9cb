#!/usr/bin/env bash
# count-sandboxes.sh <seconds> <log>: every second, the sandbox-agent server processes alive on this
# machine and their resident memory summed (MiB), appended to <log>; the peaks as the last line.
set -u
end=$(( $(date +%s) + $1 ))
peak_n=0
peak_mb=0
while [ "$(date +%s)" -lt "$end" ]; do
  n=0
  kb=0
  for p in $(pgrep -f 'sandbox-agent.*server'); do
    r=$(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null)
    if [ -n "$r" ]; then n=$((n + 1)); kb=$((kb + r)); fi
  done
  mb=$((kb / 1024))
  [ "$n" -gt "$peak_n" ] && peak_n=$n
  [ "$mb" -gt "$peak_mb" ] && peak_mb=$mb
  echo "$(date +%T) sandboxes=$n rss_mib=$mb" >> "$2"
  sleep 1
done
echo "peak sandboxes=$peak_n rss_mib=$peak_mb" >> "$2"

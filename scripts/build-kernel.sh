#!/usr/bin/env bash
# Build (or reuse) the Rust-enabled 6.12 test kernel.
#   scripts/build-kernel.sh            build if the cache key changed
#   scripts/build-kernel.sh --print    print the build directory (KDIR) only
# The tree lives in $ESCGUARD_CACHE (default ~/.cache/escguard), keyed by the
# kernel package version, our config fragment and the toolchain versions.
set -euo pipefail
. "$(dirname "$0")/env.sh"

if [ "${1:-}" = "--print" ]; then kernel_build_dir; exit 0; fi

SRC="$(kernel_src_dir)"
OUT="$(kernel_build_dir)"
mkdir -p "$ESCGUARD_CACHE"

# One kernel build at a time on this machine: 2 cores, and a second build
# into the same tree would corrupt it.
exec 9>"$ESCGUARD_CACHE/.build.lock"
if ! flock -n 9; then
  log "another kernel build holds $ESCGUARD_CACHE/.build.lock; waiting"
  flock 9
fi

if [ -f "$OUT/.escguard-built" ]; then
  log "kernel cached: $OUT"
  exit 0
fi

if [ ! -f "$SRC/.escguard-extracted" ]; then
  log "unpacking linux-source $(kernel_version) into $SRC"
  rm -rf "$SRC" "$SRC.tmp"; mkdir -p "$SRC.tmp"
  tar -xf /usr/src/linux-source-6.12.tar.xz -C "$SRC.tmp" --strip-components=1
  mv "$SRC.tmp" "$SRC"; touch "$SRC/.escguard-extracted"
fi

log "checking the Rust toolchain (make rustavailable)"
make -s -C "$SRC" "${KMAKEFLAGS[@]}" rustavailable

rm -rf "$OUT"; mkdir -p "$OUT"
mapfile -t FRAGS < <(kernel_fragments)
log "configuring: x86_64_defconfig + ${FRAGS[*]#$ESCGUARD_ROOT/}"
make -s -C "$SRC" O="$OUT" "${KMAKEFLAGS[@]}" x86_64_defconfig
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "${FRAGS[@]}" >/dev/null
make -s -C "$SRC" O="$OUT" "${KMAKEFLAGS[@]}" olddefconfig

# Every option the fragment asks for must have survived olddefconfig; a silent
# drop (unmet dependency) would otherwise surface as a confusing test failure.
bad=0
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*) want="$line" ;;
    "# CONFIG_"*" is not set") want="$line" ;;
    *) continue ;;
  esac
  opt="${want#\# }"; opt="${opt%%[= ]*}"
  have="$(grep -E "^(# )?$opt[= ]" "$OUT/.config" || echo "# $opt is not set")"
  if [ "$have" != "$want" ]; then
    printf 'config: wanted "%s", got "%s"\n' "$want" "$have" >&2; bad=1
  fi
done < <(cat "${FRAGS[@]}" | awk '/^(# )?CONFIG_/ {o=$0; sub(/^# /,"",o); sub(/[= ].*/,"",o); last[o]=$0; if (!(o in seen)) {seen[o]=1; order[++n]=o}} END {for (i=1;i<=n;i++) print last[order[i]]}')
[ "$bad" -eq 0 ] || die "kernel config fragment not satisfied (see above)"

jobs="$(nproc)"
log "building kernel in $OUT with -j$jobs (cold: several minutes; log: $OUT/build.log)"
start=$(date +%s)
( make -C "$SRC" O="$OUT" "${KMAKEFLAGS[@]}" -j"$jobs" bzImage modules >"$OUT/build.log" 2>&1 ) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 30
  kill -0 "$pid" 2>/dev/null || break
  n=$(grep -c '^  [A-Z]' "$OUT/build.log" || true)
  printf '    [kernel] %4ds, %5d steps, last: %s\n' "$(( $(date +%s) - start ))" "$n" \
    "$(grep '^  [A-Z]' "$OUT/build.log" | tail -1 | cut -c1-70)" >&2
done
if ! wait "$pid"; then
  tail -40 "$OUT/build.log" >&2
  die "kernel build failed (full log: $OUT/build.log)"
fi
touch "$OUT/.escguard-built"
log "kernel built in $(( $(date +%s) - start ))s: $OUT/arch/x86/boot/bzImage"

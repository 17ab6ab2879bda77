# Classify the KCSAN reports of a guest log: prints "LINE<TAB>escguard|core<TAB>header"
# per report ("BUG: KCSAN: data-race in f / g", then one stack per access,
# then "Reported by Kernel Concurrency Sanitizer on:").
#
# A report is escguard's when a frame of a racing access's own context is
# escguard's (a module frame ends in "[escguard]"; helpers.c's functions and
# the Rust symbols contain "escguard"). An interrupt or exception entry frame
# (asm_sysvec_*, asm_exc_*, asm_common_interrupt, ...) ends that context: the
# frames below it are whatever the CPU happened to be running when the
# interrupt came, not code that took part in the race. A core-kernel race in
# a timer softirq that interrupted insmod is the core's, not escguard's.
# Only stack frame lines are looked at: "Comm: escguardctl" names the
# process, not the code.
function flush() {
  if (hdr != "") print hdr_nr "\t" (esc ? "escguard" : "core") "\t" hdr
  hdr = ""; esc = 0; live = 1
}
{ line = $0; sub(/^\[ *[0-9.]+\] /, "", line) }
line ~ /BUG: KCSAN:/ { flush(); hdr = line; hdr_nr = NR; next }
hdr == "" { next }
line ~ /Reported by Kernel Concurrency Sanitizer/ { flush(); next }
line ~ /^ *(\? )?[A-Za-z0-9_.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?$/ {
  if (line ~ /^ *(\? )?asm_/) { live = 0; next }
  if (live && line ~ /escguard/) esc = 1
  next
}
# A frame without a symbol (an ftrace trampoline's address) is still a
# frame of the same stack: it neither ends an interrupted context nor
# names escguard.
line ~ /^ *(\? )?0x[0-9a-f]+$/ { next }
# Any other line ("read to 0x... by task 1 on cpu 0:", a blank line) starts
# the next access's stack.
{ live = 1 }
END { flush() }

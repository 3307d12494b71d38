#!/bin/sh
# Stryker's test command for a sampled run (mutation/sample.ts): a mutant whose id is not in the sample
# file passes at once and is left out of the score; a sampled mutant, and Stryker's first run with no
# mutant active, run the gate profile. Without a readable sample file nothing runs: a run that judged
# nothing must not look like one that passed.
if [ ! -r "$CHATSIM_MUTATION_SAMPLE" ]; then
  echo "CHATSIM_MUTATION_SAMPLE must name a readable file of mutant ids (/dev/null for a census)" >&2
  exit 2
fi
if [ -n "$__STRYKER_ACTIVE_MUTANT__" ] && ! grep -qx "$__STRYKER_ACTIVE_MUTANT__" "$CHATSIM_MUTATION_SAMPLE"; then
  exit 0
fi
exec node scenarios/.mutation-profile.mjs

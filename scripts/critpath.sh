#!/usr/bin/env bash
# Prints nextpnr's critical path compactly: cumulative ns and cell, one line per hop.
awk '/Critical path report for clock/{f=1} /Critical path report for cross-domain/{f=0} f' "${1:-build/alchitry-cu/nextpnr.log}" \
  | grep -E "Source" | sed 's/Info: *//' | awk '{print $2, $4}' | sed 's/_SB_LUT4_O.*\|_SB_CARRY.*\|\$CARRY.*//' | uniq

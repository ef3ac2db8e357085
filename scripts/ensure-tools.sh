#!/usr/bin/env bash
# Installs the system tools BloomTime needs, once: Verilator (co-simulation),
# yosys, nextpnr-ice40 and icestorm (the FPGA build), nfdump (nfcapd, the
# IPFIX collector of host/tests/ipfix_collector.rs) and python3 (its
# independent decoder, scripts/ipfix-check.py). Idempotent: it checks each
# command first and says what it installs and why.
set -euo pipefail

need=()
command -v verilator >/dev/null 2>&1 || need+=(verilator)
command -v yosys >/dev/null 2>&1 || need+=(yosys)
command -v nextpnr-ice40 >/dev/null 2>&1 || need+=(nextpnr-ice40)
command -v icepack >/dev/null 2>&1 || need+=(fpga-icestorm)
command -v c++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v nfcapd >/dev/null 2>&1 || need+=(nfdump)
command -v python3 >/dev/null 2>&1 || need+=(python3)

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi

echo "ensure-tools: installing ${need[*]} with apt (Verilator for co-simulation, yosys/nextpnr/icestorm for the bitstream, nfdump and python3 for the IPFIX collector test)" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "ensure-tools: need root to install ${need[*]}; run: apt-get install -y ${need[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}" >/dev/null
echo "ensure-tools: installed ${need[*]}" >&2

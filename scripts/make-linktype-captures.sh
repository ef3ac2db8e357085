#!/usr/bin/env bash
# Makes the link-type test captures of traces/data/linktypes/ with tcpdump
# (issue 14): the same traffic captured at once as Ethernet (on lo), Linux
# cooked v1 and v2 (on "any"), and raw IP (on a tun device) with Linux
# cooked v2 beside it. Needs root (live capture, a tun device) and tcpdump
# (installed if missing). Usage: scripts/make-linktype-captures.sh [DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../traces/data/linktypes}
mkdir -p "$out"
if [ "$(id -u)" -ne 0 ]; then
    echo "make-linktype-captures: needs root (live capture, a tun device)" >&2
    exit 1
fi
if ! command -v tcpdump >/dev/null 2>&1; then
    echo "make-linktype-captures: installing tcpdump with apt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpdump >/dev/null
fi

tun=bt14tun
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    ip link del "$tun" 2>/dev/null || true
}
trap cleanup EXIT

# tcpdump -Z root: keep the files root's (tcpdump otherwise drops to its own user).
cap() {
    local file=$1
    shift
    tcpdump -Z root -n --time-stamp-precision=nano -s 262144 -w "$out/$file" "$@" 2>"$out/.$file.log" &
    pids+=($!)
}

ip tuntap add dev "$tun" mode tun
ip addr add 10.14.0.1 peer 10.14.0.2 dev "$tun"
ip link set "$tun" up

cap lo-ethernet.pcap -i lo
cap lo-sll.pcap -i any -y LINUX_SLL 'host 127.0.0.1 or host ::1'
cap lo-sll2.pcap -i any -y LINUX_SLL2 'host 127.0.0.1 or host ::1'
cap tun-raw.pcap -i "$tun"
cap tun-sll2.pcap -i any -y LINUX_SLL2 "ifindex $(cat /sys/class/net/$tun/ifindex)"
sleep 1

python3 "$here/linktype-traffic.py" lo
python3 "$here/linktype-traffic.py" tun "$tun"
sleep 0.5
cleanup
pids=()
trap - EXIT
for f in "$out"/.*.log; do
    grep -h "captured\|link-type" "$f" | sed "s|^|$(basename "$f" .log | sed 's/^\.//'): |" >&2
    rm -f "$f"
done

#!/usr/bin/env bash
# Builds the FROM-scratch image with podman and runs it exactly as the tutorial runs the
# official image (--net=host, config mounted at /etc/prometheus/prometheus.yml), then checks
# readiness, the targets API, a query, the user (nobody) and the data directory (/prometheus).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

command -v podman >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq podman runc >/dev/null; }
pod() { podman --runtime runc --cgroup-manager=cgroupfs "$@"; }

echo "docker/test.sh: building the static release binary"
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --bin pyrometer --target x86_64-unknown-linux-gnu
bin=target/x86_64-unknown-linux-gnu/release/pyrometer
file "$bin" 2>/dev/null | grep -q 'static' || ldd "$bin" 2>&1 | grep -Eq 'statically|not a dynamic' || { echo "binary is not static"; exit 1; }

work=$(mktemp -d)
name=pyrometer-test-$$
exporter_pid=""
cleanup() {
  pod rm -f "$name" >/dev/null 2>&1 || true
  [ -n "$exporter_pid" ] && kill "$exporter_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ctx=$work/ctx
mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/config" "$ctx/data"
cp "$bin" "$ctx/rootfs/bin/pyrometer"
cp prometheus.yml "$ctx/config/prometheus.yml"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$ctx/rootfs/etc/group"
touch "$ctx/data/.keep"
cp docker/Dockerfile.scratch "$ctx/Dockerfile"
pod build -q -t pyrometer-test -f "$ctx/Dockerfile" "$ctx"

# The tutorial's config, pointed at an exporter on a free loopback port.
app_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
- job_name: app
  static_configs:
    - targets: ['localhost:$app_port']
YML
chmod 644 "$work/prometheus.yml"
python3 -c "
import time
from prometheus_client import start_http_server, Counter
Counter('docker_test_requests', 'Requests.').inc(7)
start_http_server($app_port, addr='127.0.0.1')
time.sleep(120)" &
exporter_pid=$!

# Port 9090 is the image's default and the tutorial's command line is used as is; only if
# something else already holds 9090 here are the image's arguments repeated with another port.
port=9090
args=()
if (exec 3<>/dev/tcp/127.0.0.1/9090) 2>/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "docker/test.sh: port 9090 is busy here; using $port"
  args=(--config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus "--web.listen-address=127.0.0.1:$port")
fi
pod run -d --net=host --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
  -v "$work/prometheus.yml:/etc/prometheus/prometheus.yml" --name "$name" pyrometer-test "${args[@]}" >/dev/null

fail() { echo "docker/test.sh: FAILED: $*"; pod logs "$name" 2>&1 | tail -20; exit 1; }
get() { python3 -c "import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())" "$1"; }
ok=""
for _ in $(seq 1 100); do
  if get http://127.0.0.1:$port/-/ready >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.2
done
[ -n "$ok" ] || fail "not ready"

up=""
for _ in $(seq 1 50); do
  if get "http://127.0.0.1:$port/api/v1/query?query=docker_test_requests_total" | grep -q '"7"'; then up=1; break; fi
  sleep 0.3
done
[ -n "$up" ] || fail "exporter metric not queryable"
get http://127.0.0.1:$port/api/v1/targets | grep -q '"scrapePool":"app"' || fail "targets API lacks job app"
get http://127.0.0.1:$port/api/v1/targets | grep -q '"health":"up"' || fail "target not up"

user=$(pod top "$name" user | tail -n 1 | awk '{print $1}')
[ "$user" = "nobody" ] || fail "process runs as '$user', not nobody"
pod cp "$name:/prometheus/lock" "$work/lock" || fail "no lock file in /prometheus"
[ -s "$work/lock" ] || fail "lock file in /prometheus is empty"

echo "docker/test.sh: 1 passed, 0 failed"

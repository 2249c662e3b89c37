#!/usr/bin/env bash
# Installs the external validators the test suite runs for real:
#   promtool (prometheus), amtool (prometheus-alertmanager), redis-server.
# hadolint and the Kubernetes schemas come from PyPI with the test extra.
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-tools: promtool, amtool and redis-server are present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "install-tools: need root or sudo to apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "install-tools: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The packages' own services are not wanted: tests start what they need on 127.0.0.1.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for tool in promtool amtool redis-server; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-tools: $tool still missing" >&2; exit 1; }
done

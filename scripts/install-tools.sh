#!/usr/bin/env bash
# Installs what the tests run for real, from Debian packages:
#   promtool (prometheus), amtool (prometheus-alertmanager), redis-server,
#   shellcheck (the runbook's commands);
#   for the live testbed: dockerd and docker CLI 20.10 (docker.io), docker-registry,
#   mmdebstrap (the stand-in images' root filesystem).
# With arguments, installs those Debian packages instead (the Makefile asks for
# python3-venv when `python3 -m venv` is missing).
# hadolint and the Kubernetes schemas come from PyPI with the test extra.
set -euo pipefail

missing=()
if [ $# -gt 0 ]; then
  missing=("$@")
else
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-tools: promtool, amtool, redis-server, shellcheck, dockerd, docker-registry and mmdebstrap are present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif sudo -n true >/dev/null 2>&1; then
  sudo="sudo -n"
else
  # Without root the suite still runs: tests that need a missing tool are skipped
  # with the reason (and fail under CI=true, where every tool must be present).
  echo "install-tools: cannot apt-get install ${missing[*]} without root or sudo; tests needing them will skip" >&2
  [ -n "${CI:-}" ] && exit 1
  exit 0
fi

echo "install-tools: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ $# -eq 0 ]; then
  for tool in promtool amtool redis-server shellcheck dockerd docker-registry mmdebstrap; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install-tools: $tool still missing" >&2; exit 1; }
  done
fi

#!/bin/sh
# Same behaviour as the node image's entrypoint: a first argument that is an option, or
# not a command, is run by node.
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"

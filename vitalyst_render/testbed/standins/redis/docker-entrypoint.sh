#!/bin/sh
# Same behaviour as the official redis image's entrypoint, with setpriv (util-linux) in
# place of gosu.
set -e

# first argument is an option (-f, --some-option) or a config file (something.conf)
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# started as root: hand /data to redis and drop to it
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# the official image tightens a default umask
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"

#!/bin/bash -eu
# Entrypoint of the neo4j stand-in. Mimics what the rendered artefacts rely on in the real
# image's /startup/docker-entrypoint.sh (5.26): NEO4J_*_FILE secrets, the writability
# checks of /data and /logs, neo4j.conf rewritten from the environment at every start, and
# the NEO4J_AUTH rules. Unlike the real one it never prints the password, even when the
# value is malformed.

cmd="${1:-}"
NEO4J_HOME="${NEO4J_HOME:-/var/lib/neo4j}"
conf="${NEO4J_HOME}/conf/neo4j.conf"

fail() {
    echo >&2 "neo4j stand-in: ERROR: $*"
    exit 1
}

# Started as root: hand $NEO4J_HOME to neo4j and run as neo4j (real image: su-exec).
if [ "$(id -u)" = "0" ]; then
    chown -R neo4j:neo4j "${NEO4J_HOME}" || fail "cannot chown ${NEO4J_HOME} to neo4j"
    exec setpriv --reuid=neo4j --regid=neo4j --init-groups "$0" "$@"
fi

# ==== secrets: NEO4J_X_FILE sets NEO4J_X from the file's content ====
for variable_name in $(compgen -e); do
    if [[ "${variable_name}" == NEO4J_*_FILE ]]; then
        secret_file_path="${!variable_name}"
        if [ ! -f "${secret_file_path}" ] || [ ! -r "${secret_file_path}" ]; then
            fail "The secret file '${secret_file_path}' (${variable_name}) does not exist or is not readable. Make sure you have correctly configured docker secrets."
        fi
        export "${variable_name%_FILE}"="$(<"${secret_file_path}")"
    fi
done

# ==== mounted folders ====
for folder in /data /logs; do
    if [ -d "${folder}" ] && [ ! -w "${folder}" ]; then
        fail "Folder ${folder} is not writable by user $(id -u):$(id -g). Mount it writable for that user."
    fi
done
if [ -d /logs ]; then
    : "${NEO4J_server_directories_logs:=/logs}"
    export NEO4J_server_directories_logs
fi

# ==== neo4j.conf ====
conf_fail() {
    fail "cannot write ${conf}: the neo4j entrypoint rewrites it from the NEO4J_* environment at every start, so the container's root filesystem must be writable (read_only: false)."
}

add_docker_default_to_conf() {  # never overrides a value already in the file
    if [ ! -e "${conf}" ] || ! grep -q "^${1}=" "${conf}"; then
        printf '%s=%s\n' "$1" "$2" >> "${conf}" || conf_fail
    fi
}

add_env_setting_to_conf() {  # overrides a value already in the file
    if [ -e "${conf}" ] && grep -q -F "${1}=" "${conf}"; then
        sed --in-place "/^${1}=.*/d" "${conf}" || conf_fail
    fi
    printf '%s=%s\n' "$1" "$2" >> "${conf}" || conf_fail
}

add_docker_default_to_conf "server.memory.pagecache.size" "512M"
add_docker_default_to_conf "server.default_listen_address" "0.0.0.0"

not_configs=" NEO4J_ACCEPT_LICENSE_AGREEMENT NEO4J_AUTH NEO4J_AUTH_PATH NEO4J_DEBUG NEO4J_EDITION NEO4J_HOME NEO4J_PLUGINS NEO4J_SHA256 NEO4J_TARBALL NEO4J_DEPRECATION_WARNING "
for i in $(compgen -e | grep '^NEO4J_' | sort -r); do
    if [[ "${not_configs}" == *" ${i} "* ]] || [[ "${i}" == *_FILE ]]; then
        continue
    fi
    # strip NEO4J_, '_' -> '.', then '..' (from '__') -> '_'
    setting="$(echo "${i}" | sed 's|^NEO4J_||' | sed 's|_|.|g' | sed 's|\.\.|_|g')"
    value="${!i}"
    if [ -n "${value}" ]; then
        if [[ "${setting}" =~ ^[0-9] ]]; then
            echo >&2 "WARNING: ${setting} not written to conf file. Settings that start with a number are not permitted."
        else
            add_env_setting_to_conf "${setting}" "${value}"
        fi
    fi
done

# ==== initial password ====
if [ "${cmd}" = "neo4j" ]; then
    auth="${NEO4J_AUTH:-}"
    if [ "${auth}" = "none" ]; then
        add_env_setting_to_conf "dbms.security.auth_enabled" "false"
    elif [[ "${auth}" =~ ^([^/]+)/([^/]+)/?([tT][rR][uU][eE])?$ ]]; then
        admin_user="${BASH_REMATCH[1]}"
        password="${BASH_REMATCH[2]}"
        [ "${admin_user}" = "neo4j" ] || fail "Invalid admin username in NEO4J_AUTH, it must be neo4j."
        [ "${password}" != "neo4j" ] || fail "Invalid value for password. It cannot be 'neo4j', which is the default."
        min_length="$(grep '^dbms.security.auth_minimum_password_length=' "${conf}" | tail -n 1 | cut -d= -f2)"
        if [ "${#password}" -lt "${min_length:-8}" ]; then
            fail "Invalid value for password. The minimum password length is ${min_length:-8} characters."
        fi
        # like neo4j-admin dbms set-initial-password: only a new database takes it
        if [ ! -e /data/dbms/auth.ini ]; then
            mkdir -p /data/dbms
            salt="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
            digest="$(printf '%s%s' "${salt}" "${password}" | sha256sum | cut -d' ' -f1)"
            (umask 077 && printf 'neo4j:SHA-256,%s,%s:\n' "${digest}" "${salt}" > /data/dbms/auth.ini)
        fi
        unset password digest
    elif [ -n "${auth}" ]; then
        fail "Invalid value for NEO4J_AUTH (from ${NEO4J_AUTH_FILE:-the environment}): expected neo4j/<password> or none; the value is not shown."
    fi
    unset auth NEO4J_AUTH
    exec /usr/bin/python3 /startup/neo4j-standin.py
fi

exec "$@"

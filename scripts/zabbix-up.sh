#!/usr/bin/env bash
# Bring up a real Zabbix 6.0 stack and a small Redis/Memcached/Twemproxy fleet on loopback.
#
# Idempotent: a second run reuses what is running and changes nothing (about a second).
# Everything lives under fixed system paths (state in /var/lib/peakwatch-stack, PID files in
# /run/peakwatch-stack), never in the checkout, so any clone on this machine shares one stack.
#
#   Zabbix API       http://127.0.0.1:8090/api_jsonrpc.php   (nginx + php-fpm 8.2)
#   Zabbix server    127.0.0.1:10051 (trapper)               PostgreSQL 127.0.0.1:5432, database zabbix
#   Zabbix agent 2   127.0.0.1:10050
#   Redis            127.0.0.1:6391 (master), 127.0.0.1:6392 (replica)
#   Memcached        127.0.0.1:11212
#   Twemproxy        127.0.0.1:22121 (redis pool), 127.0.0.1:22124 (memcached pool), stats 22222
#   API token        /var/lib/peakwatch-stack/api-token
#
# Needs root, Debian 12 packages reachable (apt) on the first run, and PostgreSQL with trust auth
# on 127.0.0.1:5432. Exit 0 on success; non-zero with a message saying what failed otherwise.
set -Eeuo pipefail

STATE=/var/lib/peakwatch-stack
RUN=/run/peakwatch-stack
PG_HOST=${PEAKWATCH_STACK_PG_HOST:-127.0.0.1}
PG_PORT=${PEAKWATCH_STACK_PG_PORT:-5432}
PG_ADMIN=${PEAKWATCH_STACK_PG_ADMIN:-postgres}
ZBX_DB=zabbix
ZBX_DB_PASSWORD=zabbix
API_PORT=8090
API_URL="http://127.0.0.1:${API_PORT}/api_jsonrpc.php"
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%d' $((d / 1000)) $((d % 1000 / 100)); }
T0=$(now_ms)
STEP_T=$T0
log() { printf '[zabbix-up %6ss] %s\n' "$(secs_since "$T0")" "$*"; }
die() { printf '[zabbix-up] FAILED: %s\n' "$*" >&2; exit 1; }
trap 'die "command failed at line $LINENO: $BASH_COMMAND (see messages above)"' ERR
step_done() {
    log "$1 done in $(secs_since "$STEP_T")s"
    STEP_T=$(now_ms)
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {  # port seconds what
    local i
    for ((i = 0; i < $2 * 10; i++)); do port_open "$1" && return 0; sleep 0.1; done
    die "$3 did not start listening on 127.0.0.1:$1 within $2 s; see its log ($4)"
}
pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and starts services)"
mkdir -p "$STATE" "$RUN" /var/log/peakwatch-stack
exec 9>"$STATE/up.lock"
flock -w 900 9 || die "another zabbix-up.sh has held $STATE/up.lock for 15 minutes"

# ---------------------------------------------------------------- packages
PKGS_FIRST=(php8.2-fpm)
PKGS=(zabbix-server-pgsql zabbix-frontend-php zabbix-agent2 php8.2-pgsql nginx memcached nutcracker
      redis-server postgresql-client-15 python3 curl)
missing=()
for p in "${PKGS_FIRST[@]}" "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    # No systemd here: keep package scripts from starting services; we start each one by hand.
    made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt_log="$STATE/apt.log"
    apt_get() {
        apt-get install -y -q --no-install-recommends "$@" >>"$apt_log" 2>&1 && return 0
        apt-get update -q >>"$apt_log" 2>&1 || true
        apt-get install -y -q --no-install-recommends "$@" >>"$apt_log" 2>&1
    }
    # php8.2-fpm first, alone: otherwise the frontend's PHP dependency pulls in Apache.
    apt_get "${PKGS_FIRST[@]}" || die "apt-get install ${PKGS_FIRST[*]} failed; see $apt_log"
    apt_get "${PKGS[@]}" || die "apt-get install ${PKGS[*]} failed; see $apt_log"
    ((made_policy)) && rm -f /usr/sbin/policy-rc.d
    step_done "package install"
else
    step_done "packages already installed;"
fi

# ---------------------------------------------------------------- database
psql_admin() { psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_ADMIN" -v ON_ERROR_STOP=1 "$@"; }
psql_admin -d postgres -tAc 'select 1' >/dev/null 2>&1 ||
    die "PostgreSQL does not answer at $PG_HOST:$PG_PORT as $PG_ADMIN (trust auth expected)"
if [[ $(psql_admin -d postgres -tAc "select 1 from pg_roles where rolname='zabbix'") != 1 ]]; then
    psql_admin -d postgres -c "create role zabbix login password '$ZBX_DB_PASSWORD'"
fi
if [[ $(psql_admin -d postgres -tAc "select 1 from pg_database where datname='$ZBX_DB'") != 1 ]]; then
    psql_admin -d postgres -c "create database $ZBX_DB owner zabbix encoding 'UTF8' template template0"
fi
if [[ $(psql_admin -d "$ZBX_DB" -tAc "select count(*) from pg_tables where tablename='dbversion'") != 1 ]]; then
    log "importing the Zabbix schema (about 25 s)"
    # One transaction: an interrupted import leaves nothing behind and the next run starts over.
    zcat /usr/share/zabbix-server-pgsql/{schema,images,data}.sql.gz |
        psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U zabbix -d "$ZBX_DB" -1 -v ON_ERROR_STOP=1 >"$STATE/schema.log" 2>&1 ||
        die "schema import into database $ZBX_DB failed; see $STATE/schema.log"
    step_done "schema import"
else
    step_done "database ready;"
fi

# ---------------------------------------------------------------- zabbix server
install -d -o zabbix -g zabbix /run/zabbix /var/log/zabbix-server /var/log/zabbix
write_if_changed() {  # path mode owner  (content on stdin); prints "changed" when it wrote
    local tmp; tmp=$(mktemp)
    cat >"$tmp"
    if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 0; fi
    install -m "$2" -o "${3%%:*}" -g "${3##*:}" "$tmp" "$1"; rm -f "$tmp"
    echo changed
}
server_changed=$(write_if_changed /etc/zabbix/zabbix_server.conf.d/peakwatch.conf 0640 root:zabbix <<EOF
# written by peakwatch scripts/zabbix-up.sh
DBHost=$PG_HOST
DBPort=$PG_PORT
DBPassword=$ZBX_DB_PASSWORD
ListenIP=127.0.0.1
ListenPort=10051
Timeout=10
CacheSize=64M
HistoryCacheSize=64M
HistoryIndexCacheSize=16M
TrendCacheSize=16M
StartDBSyncers=4
StartTrappers=8
EOF
)
SERVER_PID=/run/zabbix/zabbix_server.pid
if [[ -n $server_changed ]] && pid_alive "$SERVER_PID"; then
    log "server configuration changed: restarting zabbix_server"
    kill "$(cat "$SERVER_PID")"
    for ((i = 0; i < 300; i++)); do pid_alive "$SERVER_PID" || break; sleep 0.1; done
fi
if ! port_open 10051; then
    zabbix_server -c /etc/zabbix/zabbix_server.conf >>/var/log/peakwatch-stack/daemons.out 2>&1 9>&- || die "zabbix_server did not start; see /var/log/zabbix-server/zabbix_server.log"
    wait_port 10051 30 "zabbix_server" /var/log/zabbix-server/zabbix_server.log
    step_done "zabbix_server start"
else
    step_done "zabbix_server already running;"
fi

# ---------------------------------------------------------------- frontend: php-fpm + nginx
write_if_changed /etc/zabbix/zabbix.conf.php 0640 root:www-data >/dev/null <<EOF
<?php
// written by peakwatch scripts/zabbix-up.sh
\$DB['TYPE']           = 'POSTGRESQL';
\$DB['SERVER']         = '$PG_HOST';
\$DB['PORT']           = '$PG_PORT';
\$DB['DATABASE']       = '$ZBX_DB';
\$DB['USER']           = 'zabbix';
\$DB['PASSWORD']       = '$ZBX_DB_PASSWORD';
\$DB['SCHEMA']         = '';
\$DB['ENCRYPTION']     = false;
\$DB['KEY_FILE']       = '';
\$DB['CERT_FILE']      = '';
\$DB['CA_FILE']        = '';
\$DB['VERIFY_HOST']    = false;
\$DB['CIPHER_LIST']    = '';
\$DB['VAULT_URL']      = '';
\$DB['VAULT_DB_PATH']  = '';
\$DB['VAULT_TOKEN']    = '';
\$DB['DOUBLE_IEEE754'] = true;
\$ZBX_SERVER           = '127.0.0.1';
\$ZBX_SERVER_PORT      = '10051';
\$ZBX_SERVER_NAME      = 'peakwatch';
\$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
EOF
install -d -o www-data -g www-data "$RUN/php"
write_if_changed "$STATE/php-fpm.conf" 0644 root:root >/dev/null <<EOF
; written by peakwatch scripts/zabbix-up.sh: a php-fpm of its own, apart from the system one
[global]
pid = $RUN/php-fpm.pid
error_log = /var/log/peakwatch-stack/php-fpm.log
daemonize = yes

[zabbix]
user = www-data
group = www-data
listen = $RUN/php/php-fpm.sock
listen.owner = www-data
listen.group = www-data
pm = static
pm.max_children = 6
request_terminate_timeout = 300
; big history.get answers need memory (128M fails at ~170,000 rows with output=extend)
php_admin_value[memory_limit] = 2G
php_admin_value[max_execution_time] = 300
php_admin_value[post_max_size] = 16M
php_admin_value[max_input_time] = 300
php_admin_value[date.timezone] = UTC
EOF
if ! pid_alive "$RUN/php-fpm.pid"; then
    php-fpm8.2 --fpm-config "$STATE/php-fpm.conf" >>/var/log/peakwatch-stack/daemons.out 2>&1 9>&- || die "php-fpm8.2 did not start; see /var/log/peakwatch-stack/php-fpm.log"
    for ((i = 0; i < 100; i++)); do [[ -S $RUN/php/php-fpm.sock ]] && break; sleep 0.1; done
    [[ -S $RUN/php/php-fpm.sock ]] || die "php-fpm socket $RUN/php/php-fpm.sock did not appear"
    step_done "php-fpm start"
fi
write_if_changed "$STATE/nginx.conf" 0644 root:root >/dev/null <<EOF
# written by peakwatch scripts/zabbix-up.sh: an nginx of its own serving the Zabbix frontend
user www-data;
worker_processes 2;
pid $RUN/nginx.pid;
error_log /var/log/peakwatch-stack/nginx-error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log /var/log/peakwatch-stack/nginx-access.log;
    client_body_temp_path $STATE/nginx-tmp/body;
    fastcgi_temp_path $STATE/nginx-tmp/fastcgi;
    proxy_temp_path $STATE/nginx-tmp/proxy;
    uwsgi_temp_path $STATE/nginx-tmp/uwsgi;
    scgi_temp_path $STATE/nginx-tmp/scgi;
    client_max_body_size 16m;
    gzip on;
    gzip_types application/json;
    server {
        listen 127.0.0.1:$API_PORT;
        root /usr/share/zabbix;
        index index.php;
        location ~ \.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass unix:$RUN/php/php-fpm.sock;
            fastcgi_read_timeout 300s;
            fastcgi_send_timeout 300s;
        }
    }
}
EOF
install -d -o www-data -g www-data "$STATE/nginx-tmp"
if ! port_open "$API_PORT"; then
    nginx -c "$STATE/nginx.conf" >>/var/log/peakwatch-stack/daemons.out 2>&1 9>&- || die "nginx did not start; see /var/log/peakwatch-stack/nginx-error.log"
    wait_port "$API_PORT" 10 nginx /var/log/peakwatch-stack/nginx-error.log
    step_done "nginx start"
fi
api_version=""
for ((i = 0; i < 50; i++)); do
    api_version=$(curl -s -m 10 -H 'Content-Type: application/json-rpc' \
        -d '{"jsonrpc":"2.0","method":"apiinfo.version","params":{},"id":1}' "$API_URL" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])' 2>/dev/null) && break
    sleep 0.2
done
[[ $api_version == 6.0.* ]] || die "the Zabbix API at $API_URL does not answer apiinfo.version (got '$api_version'); \
see /var/log/peakwatch-stack/nginx-error.log and php-fpm.log"
step_done "Zabbix API $api_version answering at $API_URL;"

# ---------------------------------------------------------------- the fleet
install -d -o redis -g redis "$STATE/redis-6391" "$STATE/redis-6392" "$RUN/redis"
start_redis() {  # port extra-args...
    local port=$1; shift
    port_open "$port" && return 0
    runuser -u redis -- redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
        --pidfile "$RUN/redis/redis-$port.pid" --dir "$STATE/redis-$port" --save '' --appendonly no \
        --logfile "/var/log/peakwatch-stack/redis-$port.log" "$@" >>/var/log/peakwatch-stack/daemons.out 2>&1 9>&- ||
        die "redis-server on port $port did not start; see /var/log/peakwatch-stack/redis-$port.log"
    wait_port "$port" 10 "redis-server" "/var/log/peakwatch-stack/redis-$port.log"
}
touch /var/log/peakwatch-stack/redis-6391.log /var/log/peakwatch-stack/redis-6392.log
chown redis /var/log/peakwatch-stack/redis-639*.log
# The master has no maxmemory (the common "Memory Usage N/A" case); the replica has 64 MB.
start_redis 6391
start_redis 6392 --replicaof 127.0.0.1 6391 --maxmemory 64mb
install -d -o memcache -g memcache "$RUN/memcached"
if ! port_open 11212; then
    # memcached writes its PID file after dropping privileges: the folder belongs to memcache.
    memcached -d -u memcache -l 127.0.0.1 -p 11212 -U 0 -m 64 -P "$RUN/memcached/memcached.pid" >>/var/log/peakwatch-stack/daemons.out 2>&1 9>&- ||
        die "memcached on port 11212 did not start"
    wait_port 11212 10 memcached "syslog"
fi
write_if_changed "$STATE/nutcracker.yml" 0644 root:root >/dev/null <<EOF
# written by peakwatch scripts/zabbix-up.sh
redis_pool:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
  distribution: ketama
  redis: true
  timeout: 400
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 3
  servers:
   - 127.0.0.1:6391:1 redis-6391
memcached_pool:
  listen: 127.0.0.1:22124
  hash: fnv1a_64
  distribution: ketama
  timeout: 400
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 3
  servers:
   - 127.0.0.1:11212:1 memcached-11212
EOF
if ! port_open 22222; then
    nutcracker -d -c "$STATE/nutcracker.yml" -s 22222 -a 127.0.0.1 -i 10000 \
        -p "$RUN/nutcracker.pid" -o /var/log/peakwatch-stack/nutcracker.log >>/var/log/peakwatch-stack/daemons.out 2>&1 9>&- ||
        die "nutcracker did not start; see /var/log/peakwatch-stack/nutcracker.log"
    wait_port 22222 10 nutcracker /var/log/peakwatch-stack/nutcracker.log
fi
step_done "Redis 6391/6392, Memcached 11212, Twemproxy 22121/22124 (stats 22222) running;"

# ---------------------------------------------------------------- agent 2
write_if_changed /etc/zabbix/zabbix_agent2.d/peakwatch.conf 0644 root:root >/dev/null <<EOF
# written by peakwatch scripts/zabbix-up.sh
PidFile=$RUN/agent/zabbix_agent2.pid
ListenIP=127.0.0.1
ListenPort=10050
Timeout=10
# Twemproxy serves its stats as JSON on a raw TCP port: read it with bash's /dev/tcp.
AllowKey=system.run[*]
EOF
install -d -o zabbix -g zabbix "$RUN/agent"
if ! port_open 10050; then
    setsid runuser -u zabbix -- zabbix_agent2 -c /etc/zabbix/zabbix_agent2.conf \
        >>/var/log/peakwatch-stack/agent2.out 2>&1 </dev/null 9>&- &
    wait_port 10050 15 zabbix_agent2 /var/log/zabbix/zabbix_agent2.log
    step_done "zabbix_agent2 start"
fi

# ---------------------------------------------------------------- fixtures (hosts, items, history, token)
/usr/bin/python3 "$SCRIPT_DIR/zabbix_fixtures.py" --api "$API_URL" --state "$STATE" ||
    die "the fixture loader failed (scripts/zabbix_fixtures.py); see its message above"
step_done "fixtures"
log "stack ready: API $API_URL, token in $STATE/api-token (total $(secs_since "$T0")s)"

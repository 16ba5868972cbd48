#!/usr/bin/env bash
# Stop the stack scripts/zabbix-up.sh started (by its PID files; nothing else is touched).
# Data stays: the zabbix database and /var/lib/peakwatch-stack are kept, so zabbix-up.sh
# brings the same stack back in a few seconds.
set -uo pipefail
RUN=/run/peakwatch-stack
stop() {  # name pidfile
    local pid
    [[ -s $2 ]] || { echo "$1: not running (no $2)"; return 0; }
    pid=$(cat "$2")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { echo "$1: pid $pid ignored TERM for 10 s; sending KILL"; kill -9 "$pid"; }
        echo "$1: stopped (pid $pid)"
    else
        echo "$1: not running (stale pid $pid)"
    fi
    rm -f "$2"
}
stop zabbix_agent2 "$RUN/agent/zabbix_agent2.pid"
stop nginx "$RUN/nginx.pid"
stop php-fpm "$RUN/php-fpm.pid"
stop zabbix_server /run/zabbix/zabbix_server.pid
stop nutcracker "$RUN/nutcracker.pid"
stop memcached "$RUN/memcached/memcached.pid"
stop redis-6392 "$RUN/redis/redis-6392.pid"
stop redis-6391 "$RUN/redis/redis-6391.pid"

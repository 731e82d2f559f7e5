# SPDX-License-Identifier: Apache-2.0
#
# Helpers of the multi-node tests, sourced after lib.sh and store_lib.sh:
# two cairnd nodes, A and B, with their own ports, node names and control
# APIs, on one PostgreSQL database (the test's) and one storage folder.
#
# Usage: set NODE_EXTRA (settings added to the node group) and
# REMOTES_EXTRA (entries of the remotes list), PLUGINS_EXTRA (plugin groups)
# and AE_PLUGINS_EXTRA (", name" items of the AE's plugins) when needed, then
# write_node_configs and start_node A / start_node B.

export CAIRN_TEST_INDEX=postgresql
NODE_EXTRA=${NODE_EXTRA:-}
REMOTES_EXTRA=${REMOTES_EXTRA:-}
declare -A NODE_PID NODE_PORT NODE_API

NODE_PORT[A]=$(free_port)
NODE_PORT[B]=$(free_port)
NODE_API[A]=$(free_port)
NODE_API[B]=$(free_port)
NODE_PID[A]=""
NODE_PID[B]=""

# write_node_configs: writes $TEST_TMP/node-A.conf and node-B.conf, and
# $TEST_TMP/cairn.conf (a copy of A's) for the cairn tool and lib.sh.
write_node_configs() {
    local node
    for node in A B; do
        cat > "$TEST_TMP/node-$node.conf" <<CONF
log = { level = "info"; };
storage = { path = "$STORAGE"; };
index = { plugin = "index-postgresql"; };
node = { name = "node-$node"; $NODE_EXTRA };
network = { artim_timeout = 10; max_associations = 32; };
plugin_directory = "$PLUGIN_DIR";
plugins = {
  verification = { };
  storage = { };
  index-postgresql = { $(test_index_settings) };
  qr = { };
  ${PLUGINS_EXTRA:-}
};
aes = (
  { title = "CAIRN_$node"; port = ${NODE_PORT[$node]}; bind = "127.0.0.1";
    plugins = [ "verification", "storage", "qr"${AE_PLUGINS_EXTRA:-} ]; }
);
remotes = (
  { title = "MOVEDEST"; host = "127.0.0.1"; port = ${MOVE_PORT:-104}; }$REMOTES_EXTRA
);
api = { bind = "127.0.0.1"; port = ${NODE_API[$node]}; };
CONF
    done
    cp "$TEST_TMP/node-A.conf" "$TEST_TMP/cairn.conf"
}

# start_node NODE: starts cairnd as node A or B and waits (at most 10 s) for C-ECHO.
start_node() {
    local node=$1
    prepare_test_pg_db || return 1
    "$CAIRND" --config "$TEST_TMP/node-$node.conf" >> "$TEST_TMP/cairnd-$node.log" 2>&1 &
    NODE_PID[$node]=$!
    for _ in $(seq 1 100); do
        echoscu -aec "CAIRN_$node" 127.0.0.1 "${NODE_PORT[$node]}" >/dev/null 2>&1 && return 0
        if ! kill -0 "${NODE_PID[$node]}" 2>/dev/null; then
            echo "node $node exited during start-up; its log:"
            cat "$TEST_TMP/cairnd-$node.log"
            NODE_PID[$node]=""
            return 1
        fi
        sleep 0.1
    done
    echo "node $node did not answer C-ECHO within 10 s"
    return 1
}

# stop_node NODE [SIGNAL]: stops the node (SIGTERM by default) and waits at most 20 s.
stop_node() {
    local node=$1 pid=${NODE_PID[$1]}
    [ -n "$pid" ] || return 0
    kill "-${2:-TERM}" "$pid" 2>/dev/null
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    NODE_PID[$node]=""
}

stop_nodes() {
    stop_node A
    stop_node B
}

# Logs of both nodes go into cairnd.log at the end, for finish() and the sanitizer check.
collect_node_logs() {
    cat "$TEST_TMP"/cairnd-A.log "$TEST_TMP"/cairnd-B.log > "$TEST_TMP/cairnd.log" 2>/dev/null
}

trap 'kill_peers; stop_nodes; cleanup' EXIT

# pg_value SQL: prints the single value of a query on the test's database.
pg_value() {
    psql -X -At -h "$TEST_PG_SOCKET" -p "$TEST_PG_PORT" -U cairn -d "$TEST_PG_DB" -c "$1"
}

# node_api NODE METHOD PATH [BODY]: calls a node's control API; sets STATUS, body in $TEST_TMP/body.
node_api() {
    local node=$1 data=()
    [ $# -ge 4 ] && data=(-H 'Content-Type: application/json' --data "$4")
    STATUS=$(curl -s -m 10 -X "$2" -o "$TEST_TMP/body" -w '%{http_code}' "${data[@]}" \
                  "http://127.0.0.1:${NODE_API[$node]}$3")
}

# body_field EXPR: evaluates a Python expression on the last body, parsed as `j`.
body_field() {
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$TEST_TMP/body"
}

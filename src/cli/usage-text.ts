// The command line's usage texts, in a module of their own so that printing help or dispatching a
// command does not load every command's code.

export const NODE_USAGE = `lograft node --id ID --data DIR [--resp HOST:PORT]
             (--peers ID=HOST:PORT,... --cluster-id ID   to found a cluster; a restart needs neither
              | --listen HOST:PORT --join HOST:PORT    to join one through any member)
             [--max-raft-state BYTES] [--max-value-bytes BYTES] [TLS options]
             [--lease-reads]   the leader reads on its lease (clocks within 10%; every member alike)
             [--requirepass PASSWORD | --requirepass-file FILE] [--resp-tls optional|required]
             [--metrics HOST:PORT]   serve /metrics (Prometheus), /healthz and /readyz over HTTP
             [--log-format text|json] [--log-level info|warn|error]   stderr lines; json: pino's
             [--machine PATH]   serve your own machine (a module exporting it) instead of the KV`

export const CALL_USAGE = `lograft call --machine PATH --servers HOST:PORT,... [--timeout-ms MS] [TLS options] 'COMMAND AS JSON'`

export const MEMBER_USAGE = `lograft member list --via HOST:PORT [--json]
lograft member add ID ADDRESS [--promote-when-caught-up] --via HOST:PORT
lograft member promote|remove ID --via HOST:PORT
lograft member address ID ADDRESS --via HOST:PORT
  (--via: any member's peer address; changes go to the leader; TLS options as for node)`

export const STATUS_USAGE = `lograft status --via HOST:PORT [--json] [--watch] [TLS options]
  (--via: any member's address; every member is asked for its own status; --watch redraws every second)`

export const CLUSTER_USAGE = `lograft cluster [--nodes N] [--data DIR] [--host HOST] [--port BASE] [--resp-port BASE]`

export const LOG_USAGE = `lograft log inspect DIR [--from N] [--to N] [--json] [--machine PATH|raw]
lograft log replay DIR [--to N] [--key KEY] [--json] [--machine PATH]   (the KV unless --machine; --to: default the commit index)`

export const JOB_FLAGS_USAGE = `job options: --reduce N (10)  --dir DIR (.)  --task-timeout-ms MS (10000)  --backup-tasks
               --backup-after-ms MS (1000)  --skip-bad-records  --max-task-failures N (4)  --keep-intermediate
               --split-mib N (8: a map task covers about N MiB: a larger file in pieces of whole lines, smaller
               files packed together, at least 16 tasks or one per file; seq maps the same pieces)`

export const MR_USAGE = `lograft mr run --app APP [--workers N] [job options] FILES...
lograft mr coordinator --listen HOST:PORT|unix:PATH [job options] [TLS options] FILES...
lograft mr worker --app APP --coordinator HOST:PORT|unix:PATH [--dir DIR] [--coordinator-timeout-ms MS] [TLS options]
lograft mr seq --app APP [--out FILE] [--split-mib N] FILES...
  ${JOB_FLAGS_USAGE}`

export const SHARD_USAGE = `lograft shard controller --id ID --peers ID=HOST:PORT,... --data DIR [--cluster-id ID] [--max-raft-state BYTES] [TLS options]
lograft shard group --gid G --id ID --peers ID=HOST:PORT,... --data DIR --controller HOST:PORT,... [--cluster-id ID]
                    [--resp HOST:PORT] [--max-raft-state BYTES] [--max-chunk-bytes BYTES] [--max-chunks-in-flight N]
                    [--max-migration-rate BYTES_PER_SEC] [TLS options]
                    [--requirepass PASSWORD | --requirepass-file FILE] [--resp-tls optional|required]
lograft shard join --controller HOST:PORT,... --gid G --servers HOST:PORT,...
lograft shard leave --controller HOST:PORT,... --gid G[,G...]
lograft shard move --controller HOST:PORT,... --shard S --gid G
lograft shard query --controller HOST:PORT,... [--num N] [--json]
lograft shard demo [--data DIR] [--exit]
  (controller and group servers: --peers founds a group; --listen HOST:PORT --join HOST:PORT adds a server
   to a running one, and lograft member changes it; join, leave, move and query take the TLS options too;
   controller and group servers take --metrics, --log-format and --log-level as lograft node does)`

export const TLS_OPTIONS_USAGE = `TLS options: --tls-cert FILE --tls-key FILE --tls-ca FILE (mutual TLS; a node's certificate CN is its node id)`

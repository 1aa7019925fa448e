#!/usr/bin/env bash
# Shell snippets of the "Run workers in production" guide, one section each.
# tests/examples/test_howto_production.py runs every section (with /etc/temporal and
# /run/secrets replaced by temporary folders). Not meant to be run as a whole.

# --8<-- [start:api_key]
export TEMPORAL_ADDRESS=reports.a1b2c.tmprl.cloud:7233
export TEMPORAL_NAMESPACE=reports.a1b2c
export TEMPORAL_API_KEY="$(cat /run/secrets/temporal-api-key)"  # TLS is turned on with it
# --8<-- [end:api_key]

# --8<-- [start:mtls]
export TEMPORAL_ADDRESS=reports.a1b2c.tmprl.cloud:7233
export TEMPORAL_NAMESPACE=reports.a1b2c
export TEMPORAL_TLS_CLIENT_CERT_PATH=/etc/temporal/client.pem
export TEMPORAL_TLS_CLIENT_KEY_PATH=/etc/temporal/client.key
# --8<-- [end:mtls]

# --8<-- [start:profile]
export TEMPORAL_CONFIG_FILE=/etc/temporal/temporal.toml
export TEMPORAL_PROFILE=prod
export TEMPORAL_ADDRESS=reports.a1b2c.tmprl.cloud:7233  # fnact worker needs it: see below
# --8<-- [end:profile]

# --8<-- [start:run]
export REPORTS_OUTPUT_ROOT=/mnt/reports  # the shared output root
fnact worker examples.howto.production_worker:spec --log-level INFO
# --8<-- [end:run]

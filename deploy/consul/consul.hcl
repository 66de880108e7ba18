# Single-node Consul for docker compose: the services register themselves through this agent's HTTP API
# (MESHSERVE_DISCOVERY=consul) and Consul runs their gRPC health checks.
datacenter = "dc1"
data_dir   = "/consul/data"
server     = true
bootstrap_expect = 1
client_addr = "0.0.0.0"
bind_addr   = "0.0.0.0"
ui_config {
  enabled = true
}
ports {
  grpc = 8502
}

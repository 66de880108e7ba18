# Enable metrics collection
client.enable_metrics()

# Get real-time metrics
metrics = client.get_metrics()
print(f"Requests per second: {metrics.rps}")
print(f"Average latency: {metrics.avg_latency_ms} ms")
print(f"Error rate: {metrics.error_rate}%")

# Benchmark model performance
benchmark = ace3.Benchmark()

results = benchmark.run(
    model=model,
    input_data=test_data,
    num_runs=100,
    warmup_runs=10
)

print(f"Average latency: {results.avg_latency_ms} ms")
print(f"Throughput: {results.throughput_rps} RPS")
print(f"P95 latency: {results.p95_latency_ms} ms")

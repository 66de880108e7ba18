# Monitor memory usage
monitor = ace3.MemoryMonitor()
monitor.start()

# Your code here
result = model.predict(input_data)

# Get memory stats
memory_stats = monitor.stop()
print(f"Peak memory: {memory_stats.peak_mb} MB")
print(f"Current memory: {memory_stats.current_mb} MB")

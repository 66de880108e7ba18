# Start profiler
profiler = ace3.Profiler()
profiler.start()

# Your code here
result = model.predict(input_data)

# Get profiling results
stats = profiler.stop()
print(stats.summary())

# Save detailed report
stats.save_report("profile_report.html")

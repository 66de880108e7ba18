# Get model metadata
info = model.info()
print(f"Model name: {info.name}")
print(f"Input shape: {info.input_shape}")
print(f"Output shape: {info.output_shape}")

# Check if model is optimized
print(f"Optimized: {model.is_optimized()}")

# Get model size
print(f"Model size: {model.size_mb()} MB")

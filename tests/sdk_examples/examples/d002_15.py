info = client.info()
print(f"Server version: {info.version}")
print(f"Models loaded: {info.models}")
print(f"GPU memory: {info.gpu_memory}")

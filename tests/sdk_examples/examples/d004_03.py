from meshserve.compat.llama_gpu import LlamaGPUClient

# Initialize client
client = LlamaGPUClient(
    base_url='http://localhost:5000',
    api_key='your_api_key_here'
)

# Single inference
result = client.infer(
    text="Explain quantum computing",
    model="llama2-7b",
    max_tokens=200
)

print(result.generated_text)
print(f"Generated {result.tokens_generated} tokens in {result.inference_time}s")

# Batch inference
results = client.batch_infer([
    {"text": "What is AI?", "max_tokens": 100},
    {"text": "Explain machine learning", "max_tokens": 150}
])

for result in results:
    print(f"Result {result.id}: {result.generated_text}")

# Streaming inference
for token in client.stream_infer("Write a story", max_tokens=300):
    print(token.text, end='', flush=True)

# Model management
models = client.list_models()
for model in models:
    print(f"{model.name}: {'Loaded' if model.loaded else 'Available'}")

client.load_model("llama2-13b")
client.unload_model("llama2-7b")

# System monitoring
status = client.get_system_status()
print(f"System health: {status.status}")
print(f"GPU usage: {status.gpu_usage}")

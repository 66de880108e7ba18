from meshserve.compat.auterity import AIClient

client = AIClient(api_key="your-key")

# Simple inference
response = client.inference(
    model="gpt-4",
    prompt="Hello world",
    temperature=0.7
)

# Streaming inference
for token in client.stream("claude-3", "Tell me a story"):
    print(token, end="")

# Batch processing
batch = client.batch([
    {"model": "gpt-4", "prompt": "Summarize this..."},
    {"model": "claude-3", "prompt": "Translate this..."}
])

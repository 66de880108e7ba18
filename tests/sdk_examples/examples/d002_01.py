from meshserve.compat.inferneo import InferneoClient

# Create client
client = InferneoClient("http://localhost:8000")

# Make a request
response = client.chat.completions.create(
    model="meta-llama/Llama-2-7b-chat-hf",
    messages=[{"role": "user", "content": "Hello!"}]
)

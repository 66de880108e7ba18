import logging

# Enable debug logging
logging.basicConfig(level=logging.DEBUG)

client = InferneoClient("http://localhost:8000")
response = client.chat.completions.create(
    model="meta-llama/Llama-2-7b-chat-hf",
    messages=[{"role": "user", "content": "Hello"}]
)

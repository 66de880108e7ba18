model = client.models.get("meta-llama/Llama-2-7b-chat-hf")
print(f"Model ID: {model.id}")
print(f"Parameters: {model.parameters}")
print(f"Format: {model.format}")

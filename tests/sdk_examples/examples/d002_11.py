models = client.models.list()
for model in models:
    print(f"Model: {model.id}")
    print(f"Parameters: {model.parameters}")
    print(f"Format: {model.format}")

# Load by model name
model = client.load_model("huggingface:bert-base-uncased")

# Load specific revision
model = client.load_model(
    "huggingface:microsoft/DialoGPT-medium",
    revision="main"
)

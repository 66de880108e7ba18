try:
    model = client.load_model("invalid_model.onnx")
except ace3.ModelLoadError as e:
    print(f"Failed to load model: {e}")
except ace3.AuthenticationError as e:
    print(f"Authentication failed: {e}")
except ace3.APIError as e:
    print(f"API error: {e}")
except ace3.NetworkError as e:
    print(f"Network error: {e}")

model = client.load_model("https://example.com/model.onnx")

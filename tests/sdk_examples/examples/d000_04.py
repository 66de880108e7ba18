# ONNX model
model = client.load_model("model.onnx")

# PyTorch model
model = client.load_model("model.pt", format="pytorch")

# TensorFlow model
model = client.load_model("saved_model/", format="tensorflow")

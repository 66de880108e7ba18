# Convert between formats
converter = ace3.ModelConverter()

# PyTorch to ONNX
onnx_model = converter.pytorch_to_onnx(
    pytorch_model,
    input_shape=(1, 3, 224, 224),
    output_path="model.onnx"
)

# TensorFlow to ONNX
onnx_model = converter.tensorflow_to_onnx(
    tf_model,
    output_path="model.onnx"
)

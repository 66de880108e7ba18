import numpy as np

# Single prediction
input_data = np.random.randn(1, 224, 224, 3)
result = model.predict(input_data)

# Batch prediction
batch_data = np.random.randn(8, 224, 224, 3)
results = model.batch_predict(batch_data)

# With custom batch size
results = model.batch_predict(batch_data, batch_size=4)

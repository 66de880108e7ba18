from meshserve.compat.ace3.utils import retry

@retry(max_attempts=3, delay=1.0, backoff=2.0)
def robust_inference(model, data):
    return model.predict(data)

# Usage
result = robust_inference(model, input_data)

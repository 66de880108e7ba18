from meshserve.compat.inferneo import InferneoError, InferneoAPIError, InferneoTimeoutError

try:
    response = client.chat.completions.create(
        model="invalid-model",
        messages=[{"role": "user", "content": "Hello"}]
    )
except InferneoAPIError as e:
    print(f"API Error: {e.message}")
    print(f"Status Code: {e.status_code}")
except InferneoTimeoutError as e:
    print(f"Timeout Error: {e.message}")
except InferneoError as e:
    print(f"General Error: {e.message}")

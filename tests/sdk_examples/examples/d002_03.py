client = InferneoClient(
    base_url="https://api.inferneo.ai",
    api_key="your-api-key",
    timeout=60.0,
    max_retries=5
)

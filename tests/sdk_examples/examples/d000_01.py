import meshserve.compat.ace3 as ace3

client = ace3.Client(
    api_key="your-api-key",
    endpoint="https://api.ace3.ai",
    timeout=30,
    retry_attempts=3
)

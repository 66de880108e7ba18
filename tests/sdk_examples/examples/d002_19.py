client = InferneoClient(
    base_url="http://localhost:8000",
    headers={
        "User-Agent": "MyApp/1.0",
        "X-Custom-Header": "custom-value"
    }
)

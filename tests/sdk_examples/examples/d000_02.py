# Method 1: Pass directly to client
client = ace3.Client(api_key="your-api-key")

# Method 2: Set environment variable
import os
os.environ['ACE3_API_KEY'] = "your-api-key"
client = ace3.Client()

# Method 3: Use config file
client = ace3.Client.from_config("ace3.config.json")

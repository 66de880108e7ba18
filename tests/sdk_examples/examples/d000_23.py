# Set global configuration
ace3.set_config({
    "default_timeout": 30,
    "max_retries": 3,
    "log_level": "INFO",
    "cache_enabled": True,
    "cache_ttl": 3600
})

# Get current configuration
config = ace3.get_config()
print(config)

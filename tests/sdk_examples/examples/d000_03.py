# Check token status
print(client.token_info())

# Manually refresh token
client.refresh_token()

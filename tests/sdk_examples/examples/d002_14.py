client.info() -> ServerInfo

class ServerInfo:
    version: str
    models: List[str]
    gpu_memory: Dict[str, float]
    uptime: float

class Model:
    id: str
    object: str
    created: int
    parameters: int
    format: str

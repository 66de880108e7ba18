client.models.list() -> List[Model]

client.models.get(model_id: str) -> Model

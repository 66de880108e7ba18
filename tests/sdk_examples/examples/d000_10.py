import asyncio

async def async_inference():
    # Single async prediction
    result = await model.async_predict(input_data)
    
    # Batch async prediction
    results = await model.async_batch_predict(batch_data)
    
    return results

# Run async inference
results = asyncio.run(async_inference())
